"""Reading a workflow back: its summary, and its tasks and edges page by page."""

from __future__ import annotations

import asyncpg

from jobmon import wire
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import NotFound


async def workflow_info(connection: asyncpg.Connection, workflow_id: int) -> wire.WorkflowInfo:
    row = await connection.fetchrow(Q["workflow_info"], workflow_id)
    if row is None:
        raise NotFound(f"workflow {workflow_id}")
    return wire.WorkflowInfo(
        workflow_id=row["id"],
        name=row["name"],
        workflow_args=row["workflow_args"],
        user=row["owner"],
        status=row["status"],
        max_concurrently_running=row["max_concurrently_running"],
        num_tasks=row["num_tasks"],
        created_at=row["created_at"].isoformat(),
        status_date=row["status_date"].isoformat(),
        latest_run_id=row["latest_run_id"],
        latest_run_status=row["latest_run_status"],
        default_cluster_name=row["default_cluster_name"],
        attributes=row["attributes"],
    )


async def task_page(
    connection: asyncpg.Connection, workflow_id: int, after_id: int, limit: int
) -> wire.TaskRows:
    rows = await connection.fetch(Q["task_page"], workflow_id, after_id, limit)
    if not rows and after_id == 0:
        await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
    config_ids = sorted({row["config_id"] for row in rows})
    config_rows = await connection.fetch(Q["configs_by_id"], config_ids)
    position = {row["id"]: index for index, row in enumerate(config_rows)}
    return wire.TaskRows(
        task_id=[row["id"] for row in rows],
        array_id=[row["array_id"] for row in rows],
        status=[row["status"] for row in rows],
        num_attempts=[row["num_attempts"] for row in rows],
        max_attempts=[row["max_attempts"] for row in rows],
        config_index=[position[row["config_id"]] for row in rows],
        configs=[
            wire.TaskConfig(
                cluster_name=row["cluster_name"],
                compute_resources=row["compute_resources"],
                resource_scales=row["resource_scales"],
                fallback_queues=row["fallback_queues"],
                max_attempts=row["max_attempts"],
            )
            for row in config_rows
        ],
        name=[row["name"] for row in rows],
        next_after_id=rows[-1]["id"] if len(rows) == limit else None,
    )


async def edge_page(
    connection: asyncpg.Connection, workflow_id: int, after_id: int, limit: int
) -> wire.EdgeRows:
    rows = await connection.fetch(Q["edge_page"], workflow_id, after_id, limit)
    return wire.EdgeRows(
        upstream_task_id=[row[0] for row in rows],
        downstream_task_id=[row[1] for row in rows],
        next_after_id=rows[-1][1] if len(rows) >= limit else None,
    )


async def arrays(connection: asyncpg.Connection, workflow_id: int) -> wire.ArraysInfo:
    rows = await connection.fetch(Q["arrays_of_workflow"], workflow_id)
    return wire.ArraysInfo(
        arrays=[
            wire.ArrayInfo(
                array_id=row["id"],
                name=row["name"],
                task_template_version_id=row["task_template_version_id"],
                template_name=row["template_name"],
                max_concurrently_running=row["max_concurrently_running"],
            )
            for row in rows
        ]
    )


async def task_errors(
    connection: asyncpg.Connection,
    workflow_id: int | None,
    query: wire.TaskErrorsQuery,
    task_id: int | None = None,
) -> wire.TaskErrors:
    """The latest failed instance of each task (of the workflow, or the one task)."""
    if task_id is not None:
        workflow_id = await connection.fetchval(Q["workflow_of_task"], task_id)
        if workflow_id is None:
            raise NotFound(f"task {task_id}")
    rows = await connection.fetch(Q["task_errors"], workflow_id, task_id, query.fatal_only,
                                  query.limit)
    if not rows and task_id is None:
        await workflow_info(connection, workflow_id or 0)  # 404 for an unknown workflow
    return wire.TaskErrors(
        task_id=[row["task_id"] for row in rows],
        task_name=[row["name"] for row in rows],
        task_status=[row["task_status"] for row in rows],
        task_instance_id=[row["id"] for row in rows],
        error_log_id=[row["error_log_id"] for row in rows],
        error_time=[row["error_time"].isoformat() for row in rows],
        instance_status=[row["status"] for row in rows],
        exit_code=[row["exit_code"] for row in rows],
        error_message=[row["error_message"] for row in rows],
        stderr_tail=[row["stderr_tail"] for row in rows],
    )
