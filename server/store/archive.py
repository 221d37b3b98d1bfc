"""Keeping and removing history: runs, export pages for archives, and pruning in batches."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import asyncpg

from jobmon import errors, wire
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import Conflict, Invalid, NotFound
from jobmon.server.store.operator import letter_list, task_details
from jobmon.server.store.workflows import workflow_info
from jobmon.status import WORKFLOW_ACTIVE, WorkflowStatus, letters

# Statuses a workflow may be pruned in: no run drives it.
PRUNABLE = frozenset(WorkflowStatus) - WORKFLOW_ACTIVE - {
    WorkflowStatus.REGISTERING, WorkflowStatus.QUEUED}
EXPORT_PAGE_LIMIT = 2000


def parse_time(text: str, what: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{what} must be an ISO 8601 time, not {text!r}") from None
    if moment.tzinfo is None:
        raise Invalid(f"{what} needs a time zone (for example {text}+00:00)")
    try:
        # in UTC here, or asyncpg fails to when it sends it: year 1 at +14:00 is year 0
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise Invalid(f"{what} {text!r} is out of the range of times") from None


def prunable_statuses(given: list[str]) -> list[str]:
    wrong = sorted(set(given) - {str(status) for status in PRUNABLE})
    if wrong:
        raise Invalid(
            f"only finished workflows can be pruned (statuses {', '.join(letters(PRUNABLE))}), "
            f"not {', '.join(wrong)}")
    return sorted(set(given))


async def runs(connection: asyncpg.Connection, workflow_id: int) -> wire.WorkflowRuns:
    await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
    timelines: dict[int, list[wire.HistoryRow]] = defaultdict(list)
    for row in await connection.fetch(Q["run_history_of_workflow"], workflow_id):
        # HistoryRow's second field names the instance for tasks; here it is the run
        timelines[row["workflow_run_id"]].append(wire.HistoryRow(
            time=row["status_time"].isoformat(), task_instance_id=row["workflow_run_id"],
            status=row["status"], source=row["source"]))
    return wire.WorkflowRuns(workflow_id=workflow_id, runs=[
        wire.RunDetail(
            workflow_run_id=row["id"], status=row["status"], user=row["owner"],
            jobmon_version=row["jobmon_version"], message=row["message"],
            created_at=row["created_at"].isoformat(), status_date=row["status_date"].isoformat(),
            heartbeat_date=row["heartbeat_date"].isoformat(), timeline=timelines[row["id"]],
        )
        for row in await connection.fetch(Q["runs_of_workflow"], workflow_id)
    ])


async def export_page(
    connection: asyncpg.Connection, workflow_id: int, query: wire.PageQuery
) -> wire.ExportPage:
    limit = min(query.limit, EXPORT_PAGE_LIMIT)
    ids = [row[0] for row in
           await connection.fetch(Q["task_ids_page"], workflow_id, query.after_id, limit)]
    if not ids and query.after_id == 0:
        await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
    return wire.ExportPage(tasks=await task_details(connection, ids),
                           next_after_id=ids[-1] if len(ids) == limit else None)


async def prune_candidates(
    connection: asyncpg.Connection, query: wire.PruneCandidatesQuery
) -> wire.PruneCandidates:
    statuses = prunable_statuses(letter_list(query.status, WorkflowStatus, "workflow") or [])
    rows = await connection.fetch(Q["prune_candidates"], statuses,
                                  parse_time(query.before, "before"), query.after_id, query.limit)
    return wire.PruneCandidates(
        workflows=[
            wire.PruneCandidate(workflow_id=row["id"], name=row["name"], user=row["owner"],
                                status=row["status"], status_date=row["status_date"].isoformat(),
                                num_tasks=row["num_tasks"])
            for row in rows
        ],
        next_after_id=rows[-1]["id"] if len(rows) == query.limit else None,
    )


async def prune_batch(
    connection: asyncpg.Connection, workflow_id: int, body: wire.PruneRequest,
    now: dt.datetime | None = None, user: str | None = None,
) -> wire.PruneResponse:
    """Delete one batch of tasks (with their instances, history and edges) in one short
    transaction; the batch that empties the workflow also deletes it and its runs.

    Short transactions on row locks keep the tables usable while a large workflow goes.
    """
    statuses = prunable_statuses(list(body.statuses))
    before = parse_time(body.before, "before")
    async with connection.transaction():
        workflow = await connection.fetchrow(Q["lock_workflow_for_prune"], workflow_id)
        if workflow is None:
            raise NotFound(f"workflow {workflow_id}")
        live = await connection.fetchrow(Q["live_run_of_workflow"], workflow_id)
        if live is not None or workflow["status"] not in statuses:
            raise Conflict(
                errors.CODE_WORKFLOW_RUNNING if live is not None else errors.CODE_CONFLICT,
                f"workflow {workflow_id} is {workflow['status']}"
                + (f" with a live run {live['id']}" if live is not None else "")
                + f"; only workflows in {', '.join(statuses)} are pruned",
            )
        if workflow["status_date"] >= before:
            raise Conflict(errors.CODE_CONFLICT,
                           f"workflow {workflow_id} changed on {workflow['status_date']}, "
                           f"not before {before}")
        await connection.execute(Q["unbind_workflow"], workflow_id)
        ids = [row[0] for row in
               await connection.fetch(Q["prune_batch_task_ids"], workflow_id, body.batch_size)]
        if ids:
            await connection.execute(Q["prune_instance_history"], ids)
            await connection.execute(Q["prune_task_history"], ids)
            await connection.execute(Q["prune_instances"], ids)
            await connection.execute(Q["prune_edges"], workflow_id, ids)
            await connection.execute(Q["prune_tasks"], workflow_id, ids)
        done = len(ids) < body.batch_size
        if done:
            # the record of the prune outlives the workflow
            await connection.execute(
                Q["record_workflow_action"], workflow_id, None, now or dt.datetime.now(dt.UTC),
                "operator", user, "prune", {"before": before.isoformat(), "statuses": statuses})
            await connection.execute(Q["delete_workflow"], workflow_id)
    return wire.PruneResponse(workflow_id=workflow_id, deleted_tasks=len(ids), done=done)
