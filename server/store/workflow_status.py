"""Watching and steering a workflow: summaries, task states, outputs, history, limits, clear."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from jobmon import errors, wire
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store import runs
from jobmon.server.store.errors import Conflict, Invalid, NotFound
from jobmon.server.store.workflows import workflow_info
from jobmon.status import WorkflowRunStatus


def _next_after(rows: list[Any], limit: int) -> int | None:
    return rows[-1]["id"] if len(rows) == limit else None


async def summary(connection: asyncpg.Connection, workflow_id: int) -> wire.WorkflowSummary:
    info = await workflow_info(connection, workflow_id)
    rows = await connection.fetch(Q["workflow_counts"], workflow_id)
    return wire.WorkflowSummary(
        workflow_id=info.workflow_id,
        name=info.name,
        user=info.user,
        status=info.status,
        num_tasks=info.num_tasks,
        counts={row["status"]: row["tasks"] for row in rows},
        retries=sum(row["retries"] for row in rows),
        latest_run_id=info.latest_run_id,
        latest_run_status=info.latest_run_status,
        max_concurrently_running=info.max_concurrently_running,
        created_at=info.created_at,
        status_date=info.status_date,
        attributes=info.attributes,
    )


def _ids(text: str) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise Invalid("task_ids must be a comma-separated list of integers") from None


async def task_states(
    connection: asyncpg.Connection, workflow_id: int, query: wire.TaskStatesQuery
) -> wire.TaskStates:
    statuses = [s for s in query.status.split(",") if s] or None
    rows = await connection.fetch(
        Q["task_states_newest" if query.newest_first else "task_states_page"], workflow_id,
        query.after_id, query.limit, _ids(query.task_ids), statuses,
    )
    if not rows and query.after_id == 0:
        await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
    return wire.TaskStates(
        task_id=[row["id"] for row in rows],
        name=[row["name"] for row in rows],
        status=[row["status"] for row in rows],
        num_attempts=[row["num_attempts"] for row in rows],
        max_attempts=[row["max_attempts"] for row in rows],
        context=[row["context"] for row in rows],
        exit_code=[row["exit_code"] for row in rows],
        error_message=[row["error_message"] for row in rows],
        stderr_tail=[row["stderr_tail"] for row in rows],
        next_after_id=_next_after(rows, query.limit),
    )


async def outputs(
    connection: asyncpg.Connection, workflow_id: int, query: wire.PageQuery
) -> wire.Outputs:
    rows = await connection.fetch(Q["outputs_page"], workflow_id, query.after_id, query.limit)
    if not rows and query.after_id == 0:
        await workflow_info(connection, workflow_id)
    return wire.Outputs(
        task_id=[row["id"] for row in rows],
        name=[row["name"] for row in rows],
        output=[row["output"] for row in rows],
        next_after_id=_next_after(rows, query.limit),
    )


async def history(connection: asyncpg.Connection, task_id: int) -> wire.TaskHistory:
    if not await connection.fetchval(Q["task_exists"], task_id):
        raise NotFound(f"task {task_id}")
    rows = await connection.fetch(Q["task_history"], task_id)
    return wire.TaskHistory(
        task_id=task_id,
        rows=[
            wire.HistoryRow(time=row["status_time"].isoformat(),
                            task_instance_id=row["task_instance_id"], status=row["status"],
                            source=row["source"], kind=row["kind"],
                            from_status=row["from_status"], user=row["username"],
                            context=row["context"])
            for row in rows
        ],
    )


async def workflow_history(connection: asyncpg.Connection,
                           workflow_id: int) -> wire.WorkflowHistory:
    """The workflow's and its runs' status changes and the operator actions on it; the
    record of a pruned or cleared workflow remains."""
    rows = await connection.fetch(Q["workflow_history"], workflow_id)
    if not rows:
        await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
    return wire.WorkflowHistory(workflow_id=workflow_id, rows=[
        wire.WorkflowHistoryRow(
            time=row["status_time"].isoformat(), kind=row["kind"],
            workflow_run_id=row["workflow_run_id"], from_status=row["from_status"],
            status=row["status"], source=row["source"], user=row["username"],
            action=row["action"], context=row["context"])
        for row in rows
    ])


async def set_concurrency(
    connection: asyncpg.Connection, workflow_id: int, body: wire.ConcurrencyRequest,
    now: dt.datetime | None = None, user: str | None = None,
) -> wire.ConcurrencyResponse:
    if await connection.fetchval(Q["set_concurrency"], workflow_id,
                                 body.max_concurrently_running, now or dt.datetime.now(dt.UTC),
                                 user) is None:
        raise NotFound(f"workflow {workflow_id}")
    return wire.ConcurrencyResponse(workflow_id=workflow_id,
                                    max_concurrently_running=body.max_concurrently_running)


async def stop(
    connection: asyncpg.Connection, workflow_id: int, now: dt.datetime,
    user: str | None = None,
) -> wire.StopResponse:
    """Stop the live run: its swarm exits at its next poll; every live instance is killed."""
    async with connection.transaction():
        if await connection.fetchrow(Q["lock_workflow"], workflow_id) is None:
            raise NotFound(f"workflow {workflow_id}")
        live = await connection.fetchrow(Q["live_run_of_workflow"], workflow_id)
        run_id = None
        if live is not None and live["status"] in runs.RUN_LIVE:
            run_id = live["id"]
            await runs.set_run_status(
                connection, run_id,
                wire.RunStatusRequest(status=str(WorkflowRunStatus.STOPPED),
                                      message="stopped by an operator"),
                now, "operator", user,
            )
        context = {"request": "workflow stop", "run": run_id}
        killed = await runs.kill_workflow_instances(connection, workflow_id, now, "operator",
                                                    user, context)
        if run_id is not None or killed:  # a retried stop changes nothing again
            await connection.execute(Q["record_workflow_action"], workflow_id, run_id, now,
                                     "operator", user, "stop", {**context, "killed": killed})
    return wire.StopResponse(workflow_id=workflow_id, workflow_run_id=run_id, killed=killed)


async def lock_stopped(connection: asyncpg.Connection, workflow_id: int,
                       only_then: str = "") -> asyncpg.Record:
    """Lock the workflow for an operator's change that needs it not running; its row.

    NotFound, or Conflict naming the live run and the command that stops it (``only_then``:
    what may be done only when it is not running, said before that command).
    """
    locked = await connection.fetchrow(Q["lock_workflow"], workflow_id)
    if locked is None:
        raise NotFound(f"workflow {workflow_id}")
    live = await connection.fetchrow(Q["live_run_of_workflow"], workflow_id)
    if live is not None:
        raise Conflict(
            errors.CODE_WORKFLOW_RUNNING,
            f"workflow {workflow_id} is running (run {live['id']}, status {live['status']}); "
            f"{only_then}stop it with `jobmon workflow stop -w {workflow_id}` first",
        )
    return locked


async def clear(connection: asyncpg.Connection, workflow_id: int,
                now: dt.datetime | None = None, user: str | None = None) -> wire.ClearResponse:
    async with connection.transaction():
        await lock_stopped(connection, workflow_id)
        # the record of the clear outlives the workflow
        await connection.execute(Q["record_workflow_action"], workflow_id, None,
                                 now or dt.datetime.now(dt.UTC), "operator", user, "clear", None)
        deleted = await connection.fetchval(Q["delete_workflow"], workflow_id)
    return wire.ClearResponse(workflow_id=workflow_id, deleted_tasks=deleted or 0)
