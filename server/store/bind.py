"""Binding: tools, templates, workflows, arrays, tasks and edges, written in bulk."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import asyncpg

from jobmon import errors, wire
from jobmon.server.counting import count_transitions
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import Conflict, Invalid, NotFound

TASK_COLUMNS = ("workflow_id", "array_id", "config_id", "node_args_hash", "task_args_hash",
                "name", "command", "args", "max_attempts", "attributes", "status_date")
EDGE_COLUMNS = ("workflow_id", "upstream_task_id", "downstream_task_id")


async def copy_or_upsert(
    connection: asyncpg.Connection,
    table: str,
    columns: tuple[str, ...],
    records: list[tuple[Any, ...]],
    upsert: str,
    upsert_args: tuple[Any, ...],
) -> int:
    """Write rows with COPY (fast); if some exist already (a retried chunk), upsert instead.

    Returns how many rows were new. Call inside a transaction: the COPY runs in a savepoint.
    """
    try:
        async with connection.transaction():
            status = await connection.copy_records_to_table(
                table, records=records, columns=list(columns)
            )
    except asyncpg.exceptions.UniqueViolationError:
        status = await connection.execute(upsert, *upsert_args)
    return int(status.rsplit(" ", 1)[-1])


async def _upsert(
    connection: asyncpg.Connection, expected: int, query: str, *args: Any
) -> list[asyncpg.Record]:
    """Run an insert-or-select; once more if a concurrent insert hid rows from it.

    ON CONFLICT DO NOTHING waits for a concurrent transaction that inserts the same key,
    but the statement's snapshot predates that row, so it is neither inserted nor seen.
    The next statement has a newer snapshot and sees it.
    """
    rows: list[asyncpg.Record] = await connection.fetch(query, *args)
    if len(rows) < expected:
        rows = await connection.fetch(query, *args)
    return rows


async def upsert_tool(connection: asyncpg.Connection, name: str) -> wire.ToolResponse:
    async with connection.transaction():
        await connection.execute(Q["lock_tool"], name)
        tool_id = await connection.fetchval(Q["upsert_tool"], name)
        version_id = await connection.fetchval(Q["current_tool_version"], tool_id)
        if version_id is None:
            version_id = await connection.fetchval(Q["insert_tool_version"], tool_id)
    return wire.ToolResponse(tool_id=tool_id, tool_version_id=version_id)


def template_version_hash(spec: wire.TemplateSpec) -> str:
    text = json.dumps(
        [spec.command_template, spec.node_args, spec.task_args, spec.op_args],
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


async def upsert_templates(
    connection: asyncpg.Connection, body: wire.TemplatesRequest
) -> wire.TemplatesResponse:
    async with connection.transaction():
        tool_id = await connection.fetchval(Q["tool_of_version"], body.tool_version_id)
        if tool_id is None:
            raise NotFound(f"tool version {body.tool_version_id}")
        names = [spec.name for spec in body.templates]
        template_ids = dict(await _upsert(
            connection, len(set(names)), Q["upsert_task_templates"], tool_id, names))
        hashes = [template_version_hash(spec) for spec in body.templates]
        rows = await _upsert(
            connection,
            len(set(zip(names, hashes, strict=True))),
            Q["upsert_template_versions"],
            [template_ids[spec.name] for spec in body.templates],
            hashes,
            [spec.command_template for spec in body.templates],
            [json.dumps(spec.node_args) for spec in body.templates],
            [json.dumps(spec.task_args) for spec in body.templates],
            [json.dumps(spec.op_args) for spec in body.templates],
        )
    version_ids = {(row[0], row[1]): row[2] for row in rows}
    return wire.TemplatesResponse(
        task_template_version_ids=[
            version_ids[(template_ids[spec.name], version_hash)]
            for spec, version_hash in zip(body.templates, hashes, strict=True)
        ]
    )


async def create_workflow(
    connection: asyncpg.Connection, body: wire.WorkflowRequest, now: dt.datetime
) -> wire.WorkflowResponse:
    async with connection.transaction():
        if await connection.fetchval(Q["tool_of_version"], body.tool_version_id) is None:
            raise NotFound(f"tool version {body.tool_version_id}")
        new_id = await connection.fetchval(
            Q["insert_workflow"],
            body.tool_version_id,
            body.name,
            body.workflow_args,
            body.workflow_args_hash,
            body.task_hash,
            body.description,
            body.user,
            body.max_concurrently_running,
            body.num_tasks,
            body.default_cluster_name,
            now,
            body.attributes,
        )
        row = await connection.fetchrow(
            Q["find_workflow"], body.tool_version_id, body.user, body.workflow_args_hash
        )
        if row["task_hash"] != body.task_hash:
            raise Conflict(
                errors.CODE_WORKFLOW_ARGS_REUSED,
                f"workflow_args {body.workflow_args!r} already belong to workflow {row['id']} "
                f"({row['name']!r}) with a different set of tasks; use new workflow_args for "
                "a new workflow, or add exactly the same tasks to resume it",
            )
        if new_id is None and (body.resume or row["num_runs"] == 0):
            await connection.execute(
                Q["rebind_workflow"], row["id"], body.name, body.description,
                body.max_concurrently_running, body.attributes,
            )
    return wire.WorkflowResponse(
        workflow_id=row["id"],
        created=new_id is not None,
        status=row["status"],
        bound=row["bound"],
        num_runs=row["num_runs"],
    )


async def _lock_unbound(connection: asyncpg.Connection, workflow_id: int) -> None:
    row = await connection.fetchrow(Q["workflow_for_bind"], workflow_id)
    if row is None:
        raise NotFound(f"workflow {workflow_id}")


async def upsert_arrays(
    connection: asyncpg.Connection, workflow_id: int, body: wire.ArraysRequest
) -> wire.ArraysResponse:
    version_ids = [spec.task_template_version_id for spec in body.arrays]
    if len(set(version_ids)) != len(version_ids):
        raise Invalid("each task template version may have only one array per workflow")
    async with connection.transaction():
        await _lock_unbound(connection, workflow_id)
        found = await connection.fetchval(Q["count_template_versions"], version_ids)
        if found != len(version_ids):
            raise NotFound("one of the task template versions")
        rows = await connection.fetch(
            Q["upsert_arrays"],
            workflow_id,
            version_ids,
            [spec.name for spec in body.arrays],
            [spec.max_concurrently_running for spec in body.arrays],
        )
    by_version = dict(rows)
    return wire.ArraysResponse(array_ids=[by_version[v] for v in version_ids])


def _config_hash(config: wire.TaskConfig) -> str:
    return hashlib.sha256(wire.encode(config)).hexdigest()


def _check_chunk(chunk: wire.TasksChunk) -> int:
    size = len(chunk.array_id)
    columns: dict[str, list[Any]] = {
        "node_args_hash": chunk.node_args_hash,
        "task_args_hash": chunk.task_args_hash,
        "name": chunk.name,
        "command": chunk.command,
        "config_index": chunk.config_index,
        "args": chunk.args,
    }
    if chunk.attributes:
        columns["attributes"] = chunk.attributes
    for field, values in columns.items():
        if len(values) != size:
            raise Invalid(f"tasks chunk: {field} has {len(values)} values, array_id has {size}")
    if any(index >= len(chunk.configs) for index in chunk.config_index):
        raise Invalid("tasks chunk: a config_index points past the end of configs")
    return size


async def insert_tasks(
    connection: asyncpg.Connection, workflow_id: int, chunk: wire.TasksChunk, now: dt.datetime
) -> wire.TasksResponse:
    size = _check_chunk(chunk)
    if size == 0:
        return wire.TasksResponse(task_ids=[])
    keys = set(zip(chunk.array_id, chunk.node_args_hash, chunk.task_args_hash, strict=True))
    if len(keys) != size:
        raise Invalid("tasks chunk: two tasks have the same array, node args and task args")
    hashes = [_config_hash(config) for config in chunk.configs]
    async with connection.transaction():
        await _lock_unbound(connection, workflow_id)
        array_ids = sorted(set(chunk.array_id))
        found = await connection.fetchval(Q["count_arrays_of_workflow"], workflow_id, array_ids)
        if found != len(array_ids):
            raise Invalid(f"tasks chunk: an array_id does not belong to workflow {workflow_id}")
        config_rows = await _upsert(
            connection,
            len(set(hashes)),
            Q["upsert_configs"],
            workflow_id,
            hashes,
            [config.cluster_name for config in chunk.configs],
            [config.compute_resources for config in chunk.configs],
            [config.resource_scales for config in chunk.configs],
            [json.dumps(config.fallback_queues) for config in chunk.configs],
            [config.max_attempts for config in chunk.configs],
        )
        config_ids = dict(config_rows)
        by_index = [config_ids[config_hash] for config_hash in hashes]
        max_attempts = [config.max_attempts for config in chunk.configs]
        columns = (
            chunk.array_id,
            [by_index[i] for i in chunk.config_index],
            chunk.node_args_hash,
            chunk.task_args_hash,
            chunk.name,
            chunk.command,
            chunk.args,
            [max_attempts[i] for i in chunk.config_index],
            chunk.attributes or [None] * size,
        )
        records = [(workflow_id, *row, now) for row in zip(*columns, strict=True)]
        inserted = await copy_or_upsert(
            connection, "task", TASK_COLUMNS, records,
            Q["insert_tasks"], (workflow_id, *columns, now),
        )
        if inserted < size:  # some existed: they may take the code's new values
            await connection.execute(Q["rebind_tasks"], workflow_id, *columns,
                                     chunk.reset_running, chunk.resume)
        ids = await connection.fetch(
            Q["task_ids_by_key"], chunk.array_id, chunk.node_args_hash, chunk.task_args_hash
        )
    return wire.TasksResponse(task_ids=[row[0] for row in ids])


async def insert_edges(
    connection: asyncpg.Connection, workflow_id: int, chunk: wire.EdgesChunk
) -> wire.EdgesResponse:
    if len(chunk.upstream_task_id) != len(chunk.downstream_task_id):
        raise Invalid("edges chunk: upstream_task_id and downstream_task_id differ in length")
    if not chunk.upstream_task_id:
        return wire.EdgesResponse(inserted=0)
    if any(u == d for u, d in zip(chunk.upstream_task_id, chunk.downstream_task_id, strict=True)):
        raise Invalid("edges chunk: a task cannot depend on itself")
    task_ids = sorted(set(chunk.upstream_task_id) | set(chunk.downstream_task_id))
    async with connection.transaction():
        await _lock_unbound(connection, workflow_id)
        found = await connection.fetchval(Q["count_tasks_of_workflow"], workflow_id, task_ids)
        if found != len(task_ids):
            raise Invalid(f"edges chunk: a task id does not belong to workflow {workflow_id}")
        records = [
            (workflow_id, up, down)
            for up, down in zip(chunk.upstream_task_id, chunk.downstream_task_id, strict=True)
        ]
        inserted = await copy_or_upsert(
            connection, "edge", EDGE_COLUMNS, records,
            Q["insert_edges"], (workflow_id, chunk.upstream_task_id, chunk.downstream_task_id),
        )
    return wire.EdgesResponse(inserted=inserted)


async def finish_bind(
    connection: asyncpg.Connection, workflow_id: int, body: wire.BoundRequest, now: dt.datetime,
    user: str | None = None,
) -> wire.BoundResponse:
    async with connection.transaction():
        row = await connection.fetchrow(Q["workflow_for_bind"], workflow_id)
        if row is None:
            raise NotFound(f"workflow {workflow_id}")
        written = await connection.fetchval(Q["count_workflow_tasks"], workflow_id)
        if written != body.num_tasks or written != row["num_tasks"]:
            raise Conflict(
                errors.CODE_CONFLICT,
                f"workflow {workflow_id} has {written} tasks written, but the bind declared "
                f"{row['num_tasks']}; send the remaining tasks and bind again",
            )
        row = await connection.fetchrow(Q["finish_bind"], workflow_id, now, user)
        status = row["status"]
        count_transitions("workflow", status, row["moved"])
    return wire.BoundResponse(workflow_id=workflow_id, status=status)


async def add_workflow_attributes(
    connection: asyncpg.Connection, workflow_id: int, body: wire.AttributesRequest
) -> wire.AttributesResponse:
    merged = await connection.fetchval(Q["add_workflow_attributes"], workflow_id,
                                       body.attributes)
    if merged is None:
        raise NotFound(f"workflow {workflow_id}")
    return wire.AttributesResponse(workflow_id=workflow_id, attributes=merged)
