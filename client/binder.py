"""Binding: send a prepared workflow to the server in large chunks; idempotent."""

from __future__ import annotations

import getpass
from array import array
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field

import anyio

from jobmon import endpoints, errors, wire
from jobmon.client.boundary import plain_errors
from jobmon.client.collector import collector_paused
from jobmon.client.prepare import Prepared
from jobmon.client.task import Task
from jobmon.hashing import text_hash
from jobmon.requester import Requester

TASK_CHUNK = 20_000
EDGE_CHUNK = 100_000
# Chunks in flight at once: the server's work and PostgreSQL's overlap.
CONCURRENT_CHUNKS = 3

BindProgress = Callable[[int, int], None]
UNLIMITED = 2**31 - 1


@dataclass(frozen=True)
class BindResult:
    workflow_id: int
    created: bool
    num_runs: int
    status: str


@dataclass(frozen=True)
class WorkflowSpec:
    """What identifies and describes the workflow on the server."""

    name: str
    workflow_args: str
    description: str
    max_concurrently_running: int
    default_cluster_name: str
    template_limits: dict[str, int]
    attributes: dict[str, str | None] = field(default_factory=dict)


async def bind(
    requester: Requester,
    tool_name: str,
    spec: WorkflowSpec,
    prepared: Prepared,
    progress: BindProgress | None = None,
    *,
    resume: bool = False,
    reset_running: bool = False,
) -> BindResult:
    """Create or find every row of the workflow; sets ``task_id`` on each task.

    Before a resume (``resume``), or when the workflow never ran, tasks that exist and are
    not DONE take the code's command, resources and max_attempts, as Jobmon's bind does;
    those in flight only with ``reset_running`` (a cold resume).
    """
    tool = await requester.call(endpoints.UPSERT_TOOL, wire.ToolRequest(name=tool_name))
    templates = await requester.call(
        endpoints.UPSERT_TEMPLATES,
        wire.TemplatesRequest(
            tool_version_id=tool.tool_version_id,
            templates=[
                wire.TemplateSpec(
                    name=template.template_name,
                    command_template=template.command_template,
                    node_args=template.node_args,
                    task_args=template.task_args,
                    op_args=template.op_args,
                )
                for template in prepared.templates
            ],
        ),
    )
    version_of = {
        template.template_name: version_id
        for template, version_id in zip(
            prepared.templates, templates.task_template_version_ids, strict=True
        )
    }
    request = wire.WorkflowRequest(
        tool_version_id=tool.tool_version_id,
        name=spec.name,
        workflow_args=spec.workflow_args,
        workflow_args_hash=text_hash(spec.workflow_args),
        task_hash=prepared.task_hash,
        user=getpass.getuser(),
        num_tasks=len(prepared.tasks),
        max_concurrently_running=spec.max_concurrently_running,
        description=spec.description,
        default_cluster_name=spec.default_cluster_name,
        attributes=spec.attributes,
        resume=resume,
    )
    try:
        workflow = await requester.call(endpoints.CREATE_WORKFLOW, request)
    except errors.ServerError as error:
        if error.code == errors.CODE_WORKFLOW_ARGS_REUSED:  # what Jobmon raises for it
            raise errors.WorkflowAlreadyExists(error.message) from None
        raise
    workflow_id = workflow.workflow_id
    arrays = await requester.call(
        endpoints.UPSERT_ARRAYS,
        wire.ArraysRequest(
            arrays=[
                wire.ArraySpec(
                    task_template_version_id=version_of[template.template_name],
                    name=template.template_name,
                    # without a limit of its own, an array is bound only by the workflow's
                    max_concurrently_running=spec.template_limits.get(
                        template.template_name,
                        template.max_concurrently_running or UNLIMITED,
                    ),
                )
                for template in prepared.templates
            ]
        ),
        workflow_id=workflow_id,
    )
    array_of = {
        template.template_name: array_id
        for template, array_id in zip(prepared.templates, arrays.array_ids, strict=True)
    }
    total = len(prepared.tasks) + (0 if workflow.bound else prepared.num_edges)
    sent = 0

    def advance(count: int) -> None:
        nonlocal sent
        sent += count
        if progress is not None:
            progress(sent, total)

    await _send_tasks(requester, workflow_id, prepared, array_of, advance,
                      resume=resume, reset_running=reset_running)
    if not workflow.bound:
        await _send_edges(requester, workflow_id, prepared, advance)
        await requester.call(
            endpoints.FINISH_BIND,
            wire.BoundRequest(num_tasks=len(prepared.tasks), num_edges=prepared.num_edges),
            workflow_id=workflow_id,
        )
    return BindResult(workflow_id=workflow_id, created=workflow.created,
                      num_runs=workflow.num_runs, status=workflow.status)


async def _each_chunk(send: Callable[[int], Coroutine[None, None, None]],
                      starts: range) -> None:
    """Send chunks concurrently; a failure is raised as itself, not as a group."""
    with plain_errors():
        async with anyio.create_task_group() as group:
            for start in starts:
                group.start_soon(send, start)


async def _send_tasks(
    requester: Requester,
    workflow_id: int,
    prepared: Prepared,
    array_of: dict[str, int],
    advance: Callable[[int], None],
    *,
    resume: bool,
    reset_running: bool,
) -> None:
    limiter = anyio.CapacityLimiter(CONCURRENT_CHUNKS)
    tasks = prepared.tasks

    async def send(start: int) -> None:
        async with limiter:
            chunk = tasks[start : start + TASK_CHUNK]
            indices = prepared.config_index[start : start + TASK_CHUNK]
            used = sorted(set(indices))
            local = {index: position for position, index in enumerate(used)}
            with collector_paused():
                names, commands, args = zip(*[task.bind_fields() for task in chunk],
                                            strict=True)
            answer = await requester.call(
                endpoints.INSERT_TASKS,
                wire.TasksChunk(
                    configs=[prepared.configs[index] for index in used],
                    array_id=[array_of[task.template.template_name] for task in chunk],
                    node_args_hash=[task.node_args_hash for task in chunk],
                    task_args_hash=[task.task_args_hash for task in chunk],
                    name=list(names),
                    command=list(commands),
                    config_index=[local[index] for index in indices],
                    args=list(args),
                    attributes=_attributes(chunk),
                    resume=resume,
                    reset_running=reset_running,
                ),
                workflow_id=workflow_id,
            )
            for task, task_id in zip(chunk, answer.task_ids, strict=True):
                task.task_id = task_id
            advance(len(chunk))

    await _each_chunk(send, range(0, len(tasks), TASK_CHUNK))


def _attributes(chunk: list[Task]) -> list[wire.Attributes | None]:
    """Each task's attributes (None: it has none), or [] when none of the chunk has any."""
    # the field behind Task.task_attributes, which would make an empty dict for every task
    found: list[wire.Attributes | None] = [
        getattr(task, "_task_attributes", None) or None for task in chunk]
    return found if any(found) else []


async def _send_edges(
    requester: Requester,
    workflow_id: int,
    prepared: Prepared,
    advance: Callable[[int], None],
) -> None:
    # flat arrays of ids, not lists of a million ints: the edges are sent chunk by chunk
    ids = array("q", (_bound_id(task) for task in prepared.tasks))
    offsets, targets = prepared.up_offsets, prepared.up_targets
    upstream = array("q", (ids[target] for target in targets))
    downstream = array("q", bytes(8 * len(targets)))
    for index in range(len(ids)):
        task_id = ids[index]
        for position in range(offsets[index], offsets[index + 1]):
            downstream[position] = task_id
    limiter = anyio.CapacityLimiter(CONCURRENT_CHUNKS)

    async def send(start: int) -> None:
        async with limiter:
            await requester.call(
                endpoints.INSERT_EDGES,
                wire.EdgesChunk(
                    upstream_task_id=upstream[start : start + EDGE_CHUNK].tolist(),
                    downstream_task_id=downstream[start : start + EDGE_CHUNK].tolist(),
                ),
                workflow_id=workflow_id,
            )
            advance(min(EDGE_CHUNK, len(upstream) - start))

    await _each_chunk(send, range(0, len(upstream), EDGE_CHUNK))


def _bound_id(task: Task) -> int:
    if task.task_id is None:
        raise RuntimeError(f"task {task.name!r} has no id: its chunk was not bound")
    return task.task_id
