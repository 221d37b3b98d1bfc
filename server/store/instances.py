"""Task instances: claiming, status transitions (with their tasks), heartbeats."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import asyncpg

from jobmon import wire
from jobmon.server.counting import count_transitions
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import Invalid, NotFound
from jobmon.status import (
    TASK,
    TASK_FOLLOWS_INSTANCE,
    TASK_INSTANCE,
    TaskInstanceStatus,
    Verdict,
)

TIS = TaskInstanceStatus

# A lost instance (X) counts as a failed attempt at once: O to X to E.
_CHAINED = {TIS.NO_HEARTBEAT: TIS.ERROR}
# What a worker reports at the end of a command: from a triaged instance, proof of life.
_PROVES_ALIVE = frozenset({str(TIS.DONE), str(TIS.ERROR), str(TIS.RESOURCE_ERROR)})
# A short command's RUNNING and its end often come in one report: the instance then moves
# once (two history rows), not twice, and so does its task.
_FUSED_ENDS = frozenset({TIS.DONE, TIS.ERROR, TIS.RESOURCE_ERROR})
assert all(TASK_INSTANCE.verdict(TIS.RUNNING, end) is Verdict.APPLY for end in _FUSED_ENDS)
assert all(
    TASK.verdict(TASK_FOLLOWS_INSTANCE[TIS.RUNNING], TASK_FOLLOWS_INSTANCE[end]) is Verdict.APPLY
    for end in _FUSED_ENDS
)


async def claim(
    connection: asyncpg.Connection,
    body: wire.ClaimRequest,
    run_id: int | None,
    now: dt.datetime,
    request_id: str | None = None,
    user: str | None = None,
) -> list[wire.ClaimedInstance]:
    """Claim queued instances; a retried claim (same request id) gets its instances again."""
    if body.limit == 0:
        return []
    report_by = now + dt.timedelta(seconds=body.next_report_seconds)
    rows: list[asyncpg.Record] = []
    if request_id:
        rows = await connection.fetch(Q["claimed_by_request"], request_id, body.cluster_name,
                                      run_id, report_by)
    if not rows:
        rows = await connection.fetch(
            Q["claim_instances"], body.cluster_name, run_id, body.limit, now, report_by,
            request_id, user,
        )
    if rows:
        count_transitions("task_instance", "I", len(rows))
        count_transitions("task", "I", rows[0].get("tasks_moved") or 0)
    return [
        wire.ClaimedInstance(
            task_instance_id=row["id"],
            task_id=row["task_id"],
            workflow_id=row["workflow_id"],
            workflow_run_id=row["workflow_run_id"],
            array_id=row["array_id"],
            name=row["name"],
            command=row["command"],
            compute_resources=row["compute_resources"],
            attempt=row["attempt"],
            context=row["context"],
            launch_token=row["launch_token"],
            has_upstream=row["has_upstream"],
            has_runs=row["has_runs"],
        )
        for row in rows
    ]


async def kill_orders(
    connection: asyncpg.Connection, cluster_name: str, run_id: int | None
) -> list[wire.KillOrder]:
    rows = await connection.fetch(Q["kill_orders"], cluster_name, run_id)
    return [
        wire.KillOrder(task_instance_id=row[0], distributor_id=row[1], status=row[2])
        for row in rows
    ]


def affected(status: str) -> int:
    """The row count of a command status such as ``INSERT 0 5`` or ``UPDATE 5``."""
    return int(status.rsplit(" ", 1)[-1])


def _optional_column(updates: Sequence[wire.InstanceUpdate], field: str) -> list[object]:
    return [getattr(update, field) for update in updates]


async def _apply_group(
    connection: asyncpg.Connection,
    status: TaskInstanceStatus,
    updates: Sequence[wire.InstanceUpdate],
    source: str,
    now: dt.datetime,
    via: TaskInstanceStatus | None = None,
    user: str | None = None,
) -> set[int]:
    """Move instances to ``status`` where allowed, their tasks with them; returns moved ids.

    With ``via``, each instance passes through that status first (both are recorded); it
    moves only if it may enter ``via`` now.
    """
    entry = via if via is not None else status
    rows = await connection.fetch(
        Q["update_instances"],
        [update.task_instance_id for update in updates],
        *(
            _optional_column(updates, field)
            for field in (
                "distributor_id", "nodename", "process_id", "exit_code", "stderr_tail",
                "error_message", "maxrss", "wallclock", "stdout_path", "stderr_path",
                "next_report_seconds",
            )
        ),
        str(status),
        TASK_INSTANCE.allowed_from(entry),
        now,
        source,
        str(via) if via is not None else None,
        user,
    )
    if not rows:
        return set()
    if via is not None:
        count_transitions("task_instance", str(via), len(rows))
    count_transitions("task_instance", str(status), len(rows))
    task_status = TASK_FOLLOWS_INSTANCE.get(status)
    if task_status is not None:
        task_from = set(TASK.allowed_from(task_status))
        if via is not None:
            task_from.update(TASK.allowed_from(TASK_FOLLOWS_INSTANCE[via]))
        followed = await connection.execute(
            Q["tasks_follow_instances"],
            [row["task_id"] for row in rows],
            [row["id"] for row in rows],
            str(task_status),
            sorted(task_from),
            now,
            str(status),
            source,
            user,
        )
        count_transitions("task", str(task_status), affected(followed))
    moved = {row["id"] for row in rows}
    payloads = [
        update for update in updates
        if update.task_instance_id in moved and (update.output or update.context)
    ]
    if payloads:
        task_of = {row["id"]: row["task_id"] for row in rows}
        await connection.execute(
            Q["save_task_payloads"],
            [task_of[update.task_instance_id] for update in payloads],
            [update.output if status is TIS.DONE else None for update in payloads],
            [update.context for update in payloads],
        )
    return moved


_Steps = dict[int, list[tuple[TaskInstanceStatus, wire.InstanceUpdate]]]


async def _apply_fused(connection: asyncpg.Connection, by_instance: _Steps, source: str,
                       now: dt.datetime, applied: set[tuple[int, str]],
                       user: str | None) -> None:
    """Move each instance reported as RUNNING then ended at once; drop it from ``by_instance``."""
    fused: dict[TaskInstanceStatus, list[wire.InstanceUpdate]] = defaultdict(list)
    for steps in by_instance.values():
        if len(steps) == 2 and steps[0][0] is TIS.RUNNING and steps[1][0] in _FUSED_ENDS:
            fused[steps[1][0]].append(_merged(steps[0][1], steps[1][1]))
    for end, group in fused.items():
        moved = await _apply_group(connection, end, group, source, now, via=TIS.RUNNING,
                                   user=user)
        for instance_id in moved:
            applied.update({(instance_id, str(TIS.RUNNING)), (instance_id, str(end))})
            del by_instance[instance_id]


async def _apply_in_order(connection: asyncpg.Connection, by_instance: _Steps, source: str,
                          now: dt.datetime, applied: set[tuple[int, str]],
                          user: str | None) -> None:
    """Each instance's updates in the order given: the first of each, then the second..."""
    passes: list[dict[TaskInstanceStatus, list[wire.InstanceUpdate]]] = []
    for steps in by_instance.values():
        for position, (status, update) in enumerate(steps):
            if position == len(passes):
                passes.append(defaultdict(list))
            passes[position][status].append(update)
    for by_status in passes:
        for status, group in by_status.items():
            moved = await _apply_group(connection, status, group, source, now, user=user)
            applied.update((instance_id, str(status)) for instance_id in moved)
            chained = _CHAINED.get(status)
            if chained is not None and moved:
                follow = [
                    wire.InstanceUpdate(task_instance_id=instance_id, status=str(chained))
                    for instance_id in sorted(moved)
                ]
                await _apply_group(connection, chained, follow, source, now, user=user)


async def _revive(connection: asyncpg.Connection, updates: Sequence[wire.InstanceUpdate],
                  current: dict[int, str], source: str, now: dt.datetime,
                  applied: set[tuple[int, str]], user: str | None) -> bool:
    """A report from a triaged instance proves it was alive: T to R, then the report."""
    revived = [
        update for update in updates
        if (update.task_instance_id, update.status) not in applied
        and current.get(update.task_instance_id) == TIS.TRIAGING
        and update.status in _PROVES_ALIVE
    ]
    if not revived:
        return False
    await _apply_group(connection, TIS.RUNNING, [
        wire.InstanceUpdate(task_instance_id=u.task_instance_id, status=str(TIS.RUNNING))
        for u in revived], source, now, user=user)
    by_outcome: dict[TaskInstanceStatus, list[wire.InstanceUpdate]] = defaultdict(list)
    for update in revived:
        by_outcome[TIS(update.status)].append(update)
    for status, group in by_outcome.items():
        moved = await _apply_group(connection, status, group, source, now, user=user)
        applied.update((instance_id, str(status)) for instance_id in moved)
    return True


async def _catch_up(connection: asyncpg.Connection, by_instance: _Steps,
                    current: dict[int, str], source: str, now: dt.datetime,
                    applied: set[tuple[int, str]], user: str | None) -> bool:
    """Apply once more what an instance's concurrent move made possible.

    A heartbeat that revives a triaged instance (T to R) may commit between this
    transaction's update, which then found T, and its read, which finds R: the report
    (a DONE, say) is applicable now, and dropping it would lose the instance's end.
    """
    leftover: _Steps = {}
    for instance_id, steps in by_instance.items():
        rest = [(status, update) for status, update in steps
                if (instance_id, update.status) not in applied]
        now_status = current.get(instance_id)
        if rest and now_status is not None and \
                TASK_INSTANCE.verdict(TIS(now_status), rest[0][0]) is Verdict.APPLY:
            leftover[instance_id] = rest
    if not leftover:
        return False
    await _apply_in_order(connection, leftover, source, now, applied, user)
    return True


async def apply_transitions(
    connection: asyncpg.Connection,
    updates: Sequence[wire.InstanceUpdate],
    source: str,
    now: dt.datetime,
    user: str | None = None,
) -> wire.TransitionsResponse:
    """Apply a batch of instance updates; each is applied, ignored (late/repeated) or rejected.

    Updates of one instance apply in the order given (RUNNING before DONE); updates of
    different instances are grouped by status into one statement each.
    """
    by_instance: _Steps = defaultdict(list)
    for update in updates:
        try:
            status = TASK_INSTANCE.parse(update.status)
        except ValueError as error:
            raise Invalid(str(error)) from None
        by_instance[update.task_instance_id].append((status, update))
    applied: set[tuple[int, str]] = set()
    async with connection.transaction():
        await _apply_fused(connection, by_instance, source, now, applied, user)
        await _apply_in_order(connection, by_instance, source, now, applied, user)
        ids = [update.task_instance_id for update in updates]
        current = dict(await connection.fetch(Q["instance_statuses"], ids))
        if await _revive(connection, updates, current, source, now, applied, user):
            current = dict(await connection.fetch(Q["instance_statuses"], ids))
        if await _catch_up(connection, by_instance, current, source, now, applied, user):
            current = dict(await connection.fetch(Q["instance_statuses"], ids))
    results: list[str] = []
    statuses: list[str | None] = []
    for update in updates:
        now_status = current.get(update.task_instance_id)
        statuses.append(now_status)
        if (update.task_instance_id, update.status) in applied:
            results.append("applied")
        elif now_status is None:
            results.append("rejected")
        else:
            verdict = TASK_INSTANCE.verdict(TIS(now_status), TIS(update.status))
            results.append("rejected" if verdict is Verdict.REJECT else "ignored")
    return wire.TransitionsResponse(results=results, statuses=statuses)


def _merged(running: wire.InstanceUpdate, end: wire.InstanceUpdate) -> wire.InstanceUpdate:
    """One update with what both reports say; the end's values win, its deadline counts."""
    filled = {
        name: value for name in running.__struct_fields__
        if name not in ("status", "next_report_seconds")
        and (value := getattr(running, name)) is not None
    }
    filled.update({
        name: value for name in end.__struct_fields__
        if (value := getattr(end, name)) is not None
    })
    filled["next_report_seconds"] = end.next_report_seconds
    return wire.InstanceUpdate(**filled)


async def heartbeat(
    connection: asyncpg.Connection,
    deadlines: dict[int, dt.datetime],
    now: dt.datetime,
) -> dict[int, str]:
    """Push the instances' deadlines out; returns the status of each one that exists.

    A TRIAGING instance that heartbeats was alive after all: it goes back to RUNNING.
    """
    async with connection.transaction():
        rows = await connection.fetch(
            Q["instance_heartbeat"], list(deadlines), list(deadlines.values())
        )
        triaged = [row[0] for row in rows if row[1] == TIS.TRIAGING]
        if triaged:
            await apply_transitions(
                connection,
                [wire.InstanceUpdate(task_instance_id=i, status=str(TIS.RUNNING)) for i in triaged],
                "worker",
                now,
            )
    statuses = {row[0]: row[1] for row in rows}
    statuses.update(dict.fromkeys(triaged, str(TIS.RUNNING)))
    return statuses


async def info(connection: asyncpg.Connection, instance_id: int) -> wire.InstanceInfo:
    row = await connection.fetchrow(Q["instance_info"], instance_id)
    if row is None:
        raise NotFound(f"task instance {instance_id}")
    return wire.InstanceInfo(
        task_instance_id=row["id"],
        task_id=row["task_id"],
        workflow_id=row["workflow_id"],
        workflow_run_id=row["workflow_run_id"],
        status=row["status"],
        command=row["command"],
        compute_resources=row["compute_resources"],
        attempt=row["attempt"],
        name=row["name"],
        context=row["context"],
        launch_token=row["launch_token"],
        has_upstream=row["has_upstream"],
        has_runs=row["has_runs"],
    )
