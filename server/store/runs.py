"""Workflow runs: creation and resume, status, heartbeats, and the swarm's scheduling writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from jobmon import errors, wire
from jobmon.server.counting import count_transitions
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store import instances
from jobmon.server.store.errors import Conflict, Invalid, NotFound
from jobmon.server.store.instances import affected
from jobmon.status import (
    TASK_INSTANCE_FINAL,
    WORKFLOW_RUN,
    WORKFLOW_RUN_ACTIVE,
    TaskInstanceStatus,
    TaskStatus,
    Verdict,
    WorkflowRunStatus,
    WorkflowStatus,
    letters,
    workflow_status_for_run,
)

WRS = WorkflowRunStatus
RUN_LIVE = letters(WORKFLOW_RUN_ACTIVE)
# How long a distributor has to confirm a kill before the reaper assumes the instance dead.
KILL_GRACE = dt.timedelta(minutes=5)


def seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


async def create_run(
    connection: asyncpg.Connection,
    workflow_id: int,
    body: wire.RunRequest,
    request_id: str | None,
    now: dt.datetime,
    report_by: dt.datetime,
    user: str | None = None,
) -> wire.RunResponse:
    """A new run; with ``resume`` it takes over from live runs and resets unfinished tasks."""
    async with connection.transaction():
        workflow = await connection.fetchrow(Q["lock_workflow"], workflow_id)
        if workflow is None:
            raise NotFound(f"workflow {workflow_id}")
        if request_id:
            existing = await connection.fetchrow(Q["run_by_request_id"], request_id)
            if existing is not None:
                return await _run_answer(connection, workflow_id, existing["id"],
                                         existing["status"], [])
        if not workflow["bound"]:
            raise Conflict(
                errors.CODE_CONFLICT,
                f"workflow {workflow_id} is not completely bound yet; bind it again first",
            )
        summary = await connection.fetchrow(Q["workflow_run_summary"], workflow_id)
        complete = bool(summary["num_runs"]) and summary["not_done"] == 0
        if complete:
            # a workflow whose tasks are all DONE is DONE, whatever its last run said (a
            # run the reaper took for lost while its tasks finished): kept, then refused
            await set_workflow_status(
                connection, workflow_id, str(WorkflowStatus.DONE), now,
                summary["latest_id"], "swarm", user,
                {"reason": "every task is DONE (found when a run was asked for)"})
        else:
            answer = await _start_run(connection, workflow, summary, body, request_id, now,
                                      report_by, user)
    if complete:
        raise Conflict(
            errors.CODE_WORKFLOW_COMPLETE,
            f"workflow {workflow_id} ({workflow['name']!r}) already exists and is "
            "complete: every task is DONE. Reset tasks with `jobmon task update -s G` to "
            "run them again, or use new workflow_args for a new workflow.",
        )
    return answer


async def _start_run(
    connection: asyncpg.Connection,
    workflow: asyncpg.Record,
    summary: asyncpg.Record,
    body: wire.RunRequest,
    request_id: str | None,
    now: dt.datetime,
    report_by: dt.datetime,
    user: str | None,
) -> wire.RunResponse:
    workflow_id = workflow["id"]
    if summary["num_runs"] and not body.resume:
        raise Conflict(
            errors.CODE_WORKFLOW_EXISTS,
            f"workflow {workflow_id} ({workflow['name']!r}) already ran (latest run "
            f"{summary['latest_id']}, status {summary['latest_status']}). Pass resume=True "
            f"(or run `jobmon workflow resume -w {workflow_id} -c CLUSTER`) to continue it, "
            "or use new workflow_args for a new workflow.",
        )
    resumed_from: list[int] = []
    if summary["num_runs"]:
        resumed_from = await _take_over(connection, workflow_id, body.cold, now, user)
    run_id = await connection.fetchval(
        Q["insert_run"], workflow_id, body.user, body.jobmon_version, request_id, now,
        report_by,
    )
    await connection.execute(Q["insert_run_history"], run_id, ["G", "L", "B"], now, "swarm",
                             user)
    for letter in "GLB":
        count_transitions("workflow_run", letter)
    if not body.cold:
        await connection.execute(Q["adopt_instances"], workflow_id, run_id)
    await set_workflow_status(
        connection, workflow_id, str(workflow_status_for_run(WRS.BOUND)), now,
        run_id, "swarm", user,
        {"resume": "cold" if body.cold else "hot"} if resumed_from or summary["num_runs"]
        else None,
    )
    return await _run_answer(connection, workflow_id, run_id, str(WRS.BOUND), resumed_from)


async def _run_answer(connection: asyncpg.Connection, workflow_id: int, run_id: int,
                      status: str, resumed_from: list[int]) -> wire.RunResponse:
    """The run with where its swarm starts: the change cursor, taken before the swarm reads
    its tasks (what changes after is in the feed), and the limits it queues within."""
    run = await run_state(connection, run_id)
    limits = await connection.fetch(Q["array_limits"], workflow_id)
    return wire.RunResponse(
        workflow_run_id=run_id, status=status, resumed_from=resumed_from,
        cursor=await connection.fetchval(Q["current_snapshot"]),
        max_concurrently_running=run["max_concurrently_running"],
        array_limits={str(row[0]): row[1] for row in limits},
    )


async def _take_over(
    connection: asyncpg.Connection, workflow_id: int, cold: bool, now: dt.datetime,
    user: str | None,
) -> list[int]:
    takeover = WRS.COLD_RESUME if cold else WRS.HOT_RESUME
    taken = await take_over_runs(connection, workflow_id, takeover, now, "swarm", user)
    context = {"reason": f"{'cold' if cold else 'hot'} resume"}
    if cold:
        await kill_workflow_instances(connection, workflow_id, now, "swarm", user, context)
    reset = await connection.execute(Q["reset_tasks_cold" if cold else "reset_tasks_hot"],
                                     workflow_id, now, "swarm", user, context)
    count_transitions("task", "G", affected(reset))
    return taken


async def take_over_runs(connection: asyncpg.Connection, workflow_id: int,
                         takeover: WorkflowRunStatus, now: dt.datetime, source: str,
                         user: str | None) -> list[int]:
    """The workflow's live runs go to C or H; those told so before and lost go to T."""
    taken = [row[0] for row in await connection.fetch(
        Q["takeover_runs"], workflow_id, str(takeover), now, source, user)]
    count_transitions("workflow_run", str(takeover), len(taken))
    ended = await connection.fetch(Q["terminate_lost_resumed_runs"], workflow_id, now)
    count_transitions("workflow_run", str(WRS.TERMINATED), len(ended))
    return taken


async def set_workflow_status(connection: asyncpg.Connection, workflow_id: int, status: str,
                              now: dt.datetime, run_id: int | None, source: str,
                              user: str | None, context: dict[str, Any] | None) -> None:
    """The workflow's status follows its run; the change is recorded and counted."""
    moved = await connection.execute(Q["set_workflow_status"], workflow_id, status, now,
                                     run_id, source, user, context)
    count_transitions("workflow", status, affected(moved))


async def kill_workflow_instances(
    connection: asyncpg.Connection, workflow_id: int, now: dt.datetime, source: str,
    user: str | None = None, context: dict[str, Any] | None = None,
) -> int:
    """Mark every live instance of the workflow for killing; returns how many.

    Those never claimed (still queued) end at once, ERROR_FATAL: no distributor holds
    them, so none would confirm their kill and they would wait for the reaper.
    """
    rows = await connection.fetch(Q["kill_workflow_instances"], workflow_id, now, source,
                                  now + KILL_GRACE, user, context)
    count_transitions("task_instance", "K", len(rows))
    queued = [row["id"] for row in rows if row["was"] == TaskInstanceStatus.QUEUED]
    if queued:
        await instances.apply_transitions(connection, [
            wire.InstanceUpdate(task_instance_id=instance_id,
                                status=str(TaskInstanceStatus.ERROR_FATAL),
                                error_message="killed before any distributor took it")
            for instance_id in queued
        ], source, now, user)
    return len(rows)


async def set_run_status(
    connection: asyncpg.Connection,
    run_id: int,
    body: wire.RunStatusRequest,
    now: dt.datetime,
    source: str = "swarm",
    user: str | None = None,
) -> wire.RunStatusResponse:
    try:
        requested = WORKFLOW_RUN.parse(body.status)
    except ValueError as error:
        raise Invalid(str(error)) from None
    async with connection.transaction():
        run = await connection.fetchrow(Q["run_for_update"], run_id)
        if run is None:
            raise NotFound(f"workflow run {run_id}")
        current = WRS(run["status"])
        verdict = WORKFLOW_RUN.verdict(current, requested)
        if verdict is Verdict.REJECT:
            raise Conflict(
                errors.CODE_TRANSITION,
                f"workflow run {run_id} is {current.name} ({current}); it cannot become "
                f"{requested.name} ({requested})",
            )
        applied = verdict is Verdict.APPLY
        if applied and requested is WRS.DONE:
            await _require_all_done(connection, run["workflow_id"], run_id)
        if applied:
            moved = await connection.fetchval(
                Q["update_run_status"], run_id, str(requested), now,
                WORKFLOW_RUN.allowed_from(requested), body.message, source, user,
            )
            count_transitions("workflow_run", str(requested), moved)
            await _mirror_workflow(connection, run["workflow_id"], run_id, requested, now,
                                   source, user, body.message)
        status = requested if applied else current
        workflow_status = await connection.fetchval(
            Q["status_of_workflow"], run["workflow_id"]
        )
    return wire.RunStatusResponse(
        workflow_run_id=run_id, status=str(status), applied=applied,
        workflow_status=workflow_status,
    )


# The statuses a run passes through as its swarm starts, in one request (POST .../start).
START = (WRS.INSTANTIATED, WRS.LAUNCHED, WRS.RUNNING)


async def start_run(connection: asyncpg.Connection, run_id: int, now: dt.datetime,
                    source: str = "swarm", user: str | None = None) -> wire.RunStatusResponse:
    """B to I (its swarm is built), O (its distributors are up) and R, in one transaction.

    Each step is checked and recorded as a status post would be; a run already RUNNING (a
    replayed request) is answered unchanged, one ended meanwhile is a 409 (CODE_TRANSITION).
    """
    async with connection.transaction():
        run = await connection.fetchrow(Q["run_for_update"], run_id)
        if run is None:
            raise NotFound(f"workflow run {run_id}")
        current = WRS(run["status"])
        steps = START[START.index(current) + 1:] if current in START else START
        answer = wire.RunStatusResponse(
            workflow_run_id=run_id, status=str(current), applied=False,
            workflow_status=await connection.fetchval(Q["status_of_workflow"],
                                                      run["workflow_id"]))
        for step in steps:
            answer = await set_run_status(connection, run_id,
                                          wire.RunStatusRequest(status=str(step)), now,
                                          source, user)
    return answer


async def _require_all_done(connection: asyncpg.Connection, workflow_id: int,
                            run_id: int) -> None:
    not_done = await connection.fetchval(Q["count_not_done"], workflow_id)
    if not_done:
        raise Conflict(
            errors.CODE_TRANSITION,
            f"workflow run {run_id} cannot become DONE: {not_done} task(s) of workflow "
            f"{workflow_id} are not DONE",
        )


async def _mirror_workflow(
    connection: asyncpg.Connection,
    workflow_id: int,
    run_id: int,
    status: WorkflowRunStatus,
    now: dt.datetime,
    source: str,
    user: str | None,
    message: str,
) -> None:
    """The workflow follows its latest run only; an old run's end does not change it."""
    latest = await connection.fetchval(
        Q["newest_run_id"], workflow_id
    )
    if latest == run_id:
        await set_workflow_status(
            connection, workflow_id, str(workflow_status_for_run(status)), now,
            run_id, source, user, {"reason": message} if message else None,
        )


async def heartbeat(
    connection: asyncpg.Connection, run_id: int, now: dt.datetime, report_by: dt.datetime
) -> wire.RunHeartbeatResponse:
    row = await connection.fetchrow(Q["run_heartbeat"], run_id, now, report_by)
    if row is None:
        raise NotFound(f"workflow run {run_id}")
    return wire.RunHeartbeatResponse(
        status=row["status"], max_concurrently_running=row["max_concurrently_running"]
    )


async def schedule(
    connection: asyncpg.Connection, run_id: int, body: wire.ScheduleRequest, now: dt.datetime,
    user: str | None = None,
) -> wire.ScheduleResponse:
    """Apply one tick's decisions: fatal tasks, resource adjustments, then queueing."""
    async with connection.transaction():
        run = await connection.fetchrow(Q["run_for_share"], run_id)
        if run is None:
            raise NotFound(f"workflow run {run_id}")
        if run["status"] not in RUN_LIVE:
            raise Conflict(
                errors.CODE_TRANSITION,
                f"workflow run {run_id} is no longer live (status {run['status']}); "
                "it cannot schedule tasks",
            )
        workflow_id = run["workflow_id"]
        fatal = adjusted = 0
        if body.fatal:
            fatal = _count(await connection.execute(Q["tasks_from_error"], workflow_id,
                                                    body.fatal, now, user, run_id,
                                                    str(TaskStatus.ERROR_FATAL),
                                                    "attempts used up"))
        if body.adjust:
            adjusted = _count(await connection.execute(Q["tasks_from_error"], workflow_id,
                                                       body.adjust, now, user, run_id,
                                                       str(TaskStatus.ADJUSTING_RESOURCES),
                                                       "resource error"))
        count_transitions("task", str(TaskStatus.ERROR_FATAL), fatal)
        count_transitions("task", str(TaskStatus.ADJUSTING_RESOURCES), adjusted)
        queued: list[int] = []
        for group in body.queue:
            queued.extend(await _queue_group(connection, workflow_id, run_id, group, now, user))
        wanted = [task_id for group in body.queue for task_id in group.task_ids]
        done = set(queued)
        skipped = [task_id for task_id in wanted if task_id not in done]
        states = (await connection.fetch(Q["task_states"], workflow_id, skipped)
                  if skipped else [])
    return wire.ScheduleResponse(
        fatal=fatal, adjusted=adjusted, queued=queued, skipped=skipped,
        skipped_states=wire.TaskChanges(
            task_id=[row["id"] for row in states], status=[row["status"] for row in states],
            num_attempts=[row["num_attempts"] for row in states],
            error_status=[row["error_status"] for row in states]),
    )


async def _queue_group(
    connection: asyncpg.Connection,
    workflow_id: int,
    run_id: int,
    group: wire.QueueGroup,
    now: dt.datetime,
    user: str | None,
) -> list[int]:
    if not group.task_ids:
        return []
    rows = await connection.fetch(
        Q["queue_tasks"], workflow_id, group.task_ids, now, group.compute_resources, user
    )
    if not rows:
        return []
    await connection.execute(
        Q["insert_queued_instances"],
        workflow_id,
        run_id,
        now,
        [row["id"] for row in rows],
        [row["latest_instance_id"] for row in rows],
        [row["array_id"] for row in rows],
        [row["num_attempts"] for row in rows],
        [row["config_id"] for row in rows],
        [row["next_resources"] for row in rows],
        user,
    )
    count_transitions("task", "Q", len(rows))
    count_transitions("task_instance", "Q", len(rows))
    return [row["id"] for row in rows]


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def run_state(connection: asyncpg.Connection, run_id: int) -> asyncpg.Record:
    row = await connection.fetchrow(Q["run_state"], run_id)
    if row is None:
        raise NotFound(f"workflow run {run_id}")
    return row


# instance statuses from which an instance may still end, and so change its task
_MAY_END = sorted(str(status) for status in TaskInstanceStatus
                  if status not in TASK_INSTANCE_FINAL)


async def has_live_instances(connection: asyncpg.Connection, run_id: int) -> bool:
    """Whether an instance of the run may still end: while none may, no task of the run
    changes but by its own swarm's requests (or an operator's)."""
    return bool(await connection.fetchval(Q["run_has_live_instances"], run_id, _MAY_END))


async def changes(
    connection: asyncpg.Connection, run_id: int, cursor: str
) -> wire.ChangesResponse:
    """Tasks changed since ``cursor`` (a snapshot); an empty cursor returns only a cursor.

    One statement (a swarm's every wake-up reads this): its snapshot is the new cursor.
    """
    try:
        row = await connection.fetchrow(Q["run_changes"], run_id, cursor)
    except (asyncpg.exceptions.InvalidTextRepresentationError,
            asyncpg.exceptions.DataError):
        raise Invalid(f"cursor {cursor!r} is not a cursor this server gave") from None
    if row is None:
        raise NotFound(f"workflow run {run_id}")
    return wire.ChangesResponse(
        cursor=row["cursor"],
        run_status=row["status"],
        max_concurrently_running=row["max_concurrently_running"],
        array_limits={str(array_id): limit for array_id, limit
                      in zip(row["array_ids"], row["array_limits"], strict=True)},
        tasks=wire.TaskChanges(
            task_id=row["ids"],
            status=row["statuses"],
            num_attempts=row["attempts"],
            error_status=row["error_statuses"],
        ),
    )
