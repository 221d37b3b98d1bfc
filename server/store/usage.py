"""Resource usage: what finished instances of task templates and tasks used, in SQL.

``template_usage`` is the one query behind ``jobmon task_template_resources``,
``create_resource_yaml``, ``TaskTemplate.resource_usage()`` and the dashboard.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from jobmon import wire_operator as wo
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import Invalid, NotFound
from jobmon.server.store.operator import id_list
from jobmon.server.store.workflows import workflow_info
from jobmon.stats import mean_interval


def node_arg_filter(text: str, node_args: list[str], template_name: str) -> dict[str, list[str]]:
    """``{"location_id": [101, 102]}`` as text values, checked against the template's node
    args (a task's node args are stored as text, so 101 and "101" are the same)."""
    try:
        given = json.loads(text)
    except ValueError as error:
        raise Invalid(f"node_args must be a JSON object such as "
                      f'{{"location_id": [101, 102]}}: {error}') from None
    if not isinstance(given, dict) or not given:
        raise Invalid('node_args must be a non-empty JSON object such as '
                      '{"location_id": [101, 102]}')
    unknown = sorted(set(given) - set(node_args))
    if unknown:
        raise Invalid(f"{', '.join(unknown)} is not a node arg of task template "
                      f"{template_name!r} (its node args: {', '.join(node_args) or 'none'})")
    wanted: dict[str, list[str]] = {}
    for name, values in given.items():
        listed = values if isinstance(values, list) else [values]
        if any(isinstance(value, dict | list) for value in listed):
            raise Invalid(f"node_args[{name!r}] must be a value or a list of values")
        wanted[name] = [_as_text(value) for value in listed]
    return wanted


def _as_text(value: Any) -> str:
    """How the client stored the value: ``str()`` of what the user passed (True: "True")."""
    return value if isinstance(value, str) else str(value)


def _stats(row: asyncpg.Record, measure: str, ci: float | None) -> wo.UsageStats:
    count = row[f"{measure}_count"]
    mean, stddev = row[f"{measure}_mean"], row[f"{measure}_stddev"]
    interval = (mean_interval(mean, stddev, count, ci)
                if ci is not None and mean is not None and stddev is not None else None)
    return wo.UsageStats(
        count=count, min=row[f"{measure}_min"], mean=mean, median=row[f"{measure}_median"],
        percentile=row[f"{measure}_percentile"], max=row[f"{measure}_max"], stddev=stddev,
        ci=list(interval) if interval is not None else None,
    )


def _usage(row: asyncpg.Record, ci: float | None, percentile: float) -> wo.ResourceUsage:
    return wo.ResourceUsage(
        task_template_version_id=row["id"], template_name=row["name"],
        instances=row["instances"], tasks=row["tasks"], has_tasks=row["has_tasks"],
        percentile=percentile,
        memory=_stats(row, "memory", ci), runtime=_stats(row, "runtime", ci),
        cores_min=row["cores_min"], cores_max=row["cores_max"], cores_mean=row["cores_mean"],
        queue=row["queue"], clusters=list(row["clusters"]),
    )


async def usage_of_versions(
    connection: asyncpg.Connection, version_ids: list[int], *,
    workflow_ids: list[int] | None = None, node_args: dict[str, list[str]] | None = None,
    ci: float | None = None, percentile: float = 0.95,
) -> list[wo.ResourceUsage]:
    """The usage of several task template versions, in one statement."""
    rows = await connection.fetch(Q["template_resource_usage"], version_ids, workflow_ids,
                                  node_args, percentile)
    return [_usage(row, ci, percentile) for row in rows]


async def template_usage(
    connection: asyncpg.Connection, version_id: int, query: wo.ResourceUsageQuery
) -> wo.ResourceUsage:
    version = await connection.fetchrow(Q["template_version_args"], version_id)
    if version is None:
        raise NotFound(f"task template version {version_id}")
    node_args = (node_arg_filter(query.node_args, list(version["node_args"]), version["name"])
                 if query.node_args else None)
    [usage] = await usage_of_versions(
        connection, [version_id], workflow_ids=id_list(query.workflows, "workflows"),
        node_args=node_args, ci=query.ci, percentile=query.percentile)
    return usage


async def workflow_template_usage(
    connection: asyncpg.Connection, workflow_id: int, query: wo.UsageQuery
) -> wo.TemplateResources:
    """Every template version the workflow uses, each over all workflows."""
    await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
    versions = [row[0] for row in
                await connection.fetch(Q["template_versions_of_workflow"], workflow_id)]
    return wo.TemplateResources(templates=await usage_of_versions(
        connection, versions, ci=query.ci, percentile=query.percentile))


async def task_template_usage(
    connection: asyncpg.Connection, task_id: int, query: wo.UsageQuery
) -> wo.TemplateResources:
    """The template version of one task, over all workflows."""
    version = await connection.fetchval(Q["template_version_of_task"], task_id)
    if version is None:
        raise NotFound(f"task {task_id}")
    return wo.TemplateResources(templates=await usage_of_versions(
        connection, [version], ci=query.ci, percentile=query.percentile))


async def task_usage(connection: asyncpg.Connection, task_id: int) -> wo.TaskResourceUsage:
    row = await connection.fetchrow(Q["task_resource_usage"], task_id)
    if row is None:
        raise NotFound(f"task {task_id}")
    done = row["instance_id"] is not None
    return wo.TaskResourceUsage(
        task_id=task_id, num_attempts=row["num_attempts"] if done else None,
        nodename=row["nodename"], runtime=row["wallclock"], memory=row["maxrss"],
    )


async def file_paths(
    connection: asyncpg.Connection, workflow_id: int, query: wo.FilePathsQuery
) -> wo.FilePaths:
    rows = await connection.fetch(Q["file_paths"], workflow_id, query.array_name,
                                  query.job_name, query.limit)
    if not rows:
        await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
    return wo.FilePaths(workflow_id=workflow_id, paths=[
        wo.FilePath(task_id=row["task_id"], task_name=row["task_name"],
                    array_name=row["array_name"], task_instance_id=row["task_instance_id"],
                    stdout_path=row["stdout_path"], stderr_path=row["stderr_path"])
        for row in rows
    ])
