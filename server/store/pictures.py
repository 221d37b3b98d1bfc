"""The dashboard's pictures in SQL: resources used against requested, and a run's timeline;
and the live limits of a workflow's task templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from jobmon import wire_operator as wo
from jobmon import wire_pictures as wp
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import Invalid, NotFound
from jobmon.server.store.usage import workflow_template_usage
from jobmon.server.store.workflows import workflow_info
from jobmon.usage_rules import suggested_requests


async def resource_picture(
    connection: asyncpg.Connection, workflow_id: int, query: wp.ResourcePictureQuery
) -> wp.ResourcePicture:
    """Per template: its finished instances' usage and requests, and the request that
    ``jobmon create_resource_yaml -w`` suggests (the same query, the same rule)."""
    usage = await workflow_template_usage(connection, workflow_id, wo.UsageQuery())
    by_version = {found.task_template_version_id: found for found in usage.templates}
    counts = await connection.fetch(Q["resource_point_counts"], workflow_id)
    rows = await connection.fetch(Q["resource_points"], workflow_id, query.max_points)
    points: dict[int, list[Any]] = {}
    for row in rows:
        points.setdefault(row["array_id"], []).append(row)
    templates = []
    for count in counts:
        found = by_version.get(count["task_template_version_id"])
        mine = points.get(count["array_id"], [])
        templates.append(wp.TemplatePicture(
            array_id=count["array_id"],
            task_template_version_id=count["task_template_version_id"],
            template_name=count["template_name"], finished=count["finished"],
            killed_memory=count["killed_memory"], killed_runtime=count["killed_runtime"],
            under_fifth_memory=count["under_fifth_memory"],
            under_fifth_runtime=count["under_fifth_runtime"],
            points=wp.ResourcePoints(
                task_instance_id=[row["id"] for row in mine],
                task_id=[row["task_id"] for row in mine],
                status=[row["status"] for row in mine],
                maxrss=[row["maxrss"] for row in mine],
                wallclock=[row["wallclock"] for row in mine],
                memory_request=[row["memory_request"] for row in mine],
                runtime_request=[row["runtime_request"] for row in mine],
                killed_for=[row["killed_for"] for row in mine],
            ),
            usage=found,
            suggested=suggested_requests(found) if found is not None and found.instances
            else {},
        ))
    return wp.ResourcePicture(workflow_id=workflow_id, templates=templates)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def timeline(
    connection: asyncpg.Connection, workflow_id: int, query: wp.TimelineQuery, now: dt.datetime
) -> wp.Timeline:
    """A run's instances as bars from RUNNING to their end; above ``max_bars`` instances,
    per template the number running in each of ``buckets`` slices of the run."""
    await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
    run = await connection.fetchrow(Q["timeline_run"], workflow_id, query.workflow_run_id)
    if run is None and query.workflow_run_id:
        raise NotFound(f"workflow run {query.workflow_run_id} of workflow {workflow_id}")
    names = {str(row["id"]): row["template_name"]
             for row in await connection.fetch(Q["arrays_of_workflow"], workflow_id)}
    empty = wp.Timeline(
        workflow_id=workflow_id, workflow_run_id=None if run is None else run["id"],
        run_status=None if run is None else run["status"], now=now.isoformat(), start=None,
        end=None, instances=0, aggregated=False, templates=names, bars=None,
        buckets=query.buckets, running=[])
    if run is None:
        return empty
    span = await connection.fetchrow(Q["timeline_count"], run["id"], now)
    if not span["instances"]:
        return empty
    start, end = span["start"], max(span["end"], span["start"])
    common: dict[str, Any] = {
        "workflow_id": workflow_id, "workflow_run_id": run["id"],
        "run_status": run["status"], "now": now.isoformat(), "start": _iso(start),
        "end": _iso(end), "instances": span["instances"], "templates": names,
        "buckets": query.buckets}
    if span["instances"] <= query.max_bars:
        rows = await connection.fetch(Q["timeline_bars"], run["id"])
        return wp.Timeline(**common, aggregated=False, running=[], bars=wp.TimelineBars(
            task_instance_id=[row["id"] for row in rows],
            task_id=[row["task_id"] for row in rows],
            array_id=[row["array_id"] for row in rows],
            status=[row["status"] for row in rows],
            started=[row["started"].isoformat() for row in rows],
            ended=[_iso(row["ended"]) for row in rows],
        ))
    rows = await connection.fetch(Q["timeline_running"], run["id"], start, end,
                                  query.buckets, now)
    return wp.Timeline(**common, aggregated=True, bars=None, running=[
        wp.RunningCounts(array_id=row["array_id"], instances=row["instances"],
                         counts=list(row["counts"]))
        for row in rows])


async def set_template_concurrency(
    connection: asyncpg.Connection, workflow_id: int, body: wp.TemplateConcurrencyRequest,
    now: dt.datetime | None = None, user: str | None = None,
) -> wp.TemplateConcurrencyResponse:
    if not body.task_template and not body.array_id:
        raise Invalid("name the task template (task_template) or its array (array_id)")
    rows = await connection.fetch(Q["set_template_concurrency"], workflow_id, body.array_id,
                                  body.task_template, body.max_concurrently_running,
                                  now or dt.datetime.now(dt.UTC), user)
    if not rows:
        await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
        if body.array_id:
            raise NotFound(f"array {body.array_id} of workflow {workflow_id}")
        names = [row[0] for row in await connection.fetch(Q["template_names_of_workflow"],
                                                          workflow_id)]
        raise NotFound(f"task template {body.task_template!r} of workflow {workflow_id}",
                       message=f"workflow {workflow_id} has no task template "
                       f"{body.task_template!r} (its templates: {', '.join(names) or 'none'})")
    return wp.TemplateConcurrencyResponse(
        workflow_id=workflow_id, array_id=rows[0]["id"], task_template=rows[0]["name"],
        max_concurrently_running=body.max_concurrently_running)
