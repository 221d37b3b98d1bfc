"""What operators read and change: workflow lists, overviews, task details, task updates."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import asyncpg

from jobmon import wire
from jobmon import wire_operator as wo
from jobmon.server.counting import count_transitions
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import Invalid, NotFound
from jobmon.server.store.instances import affected
from jobmon.server.store.workflow_status import lock_stopped
from jobmon.server.store.workflows import workflow_info
from jobmon.status import WORKFLOW, TaskStatus, WorkflowStatus

# Error groups show this many example tasks each, and at most this many groups.
GROUP_EXAMPLES = 10
MAX_GROUPS = 50


def id_list(text: str, what: str) -> list[int] | None:
    """``"1,2,3"`` as integers; None for an empty text (no filter)."""
    if not text:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise Invalid(f"{what} must be a comma-separated list of integers") from None


def letter_list(text: str, statuses: type[Any], what: str) -> list[str] | None:
    """``"D,F"`` as checked status letters; None for an empty text (no filter)."""
    letters = [part.strip() for part in text.split(",") if part.strip()]
    known = {str(status) for status in statuses}
    unknown = [letter for letter in letters if letter not in known]
    if unknown:
        raise Invalid(f"unknown {what} status {', '.join(unknown)}; expected some of "
                      f"{', '.join(sorted(known))}")
    return letters or None


def _summary(row: asyncpg.Record, counts: dict[str, int], retries: int) -> wire.WorkflowSummary:
    return wire.WorkflowSummary(
        workflow_id=row["id"],
        name=row["name"],
        user=row["owner"],
        status=row["status"],
        num_tasks=row["num_tasks"],
        counts=counts,
        retries=retries,
        latest_run_id=row["latest_run_id"],
        latest_run_status=row["latest_run_status"],
        max_concurrently_running=row["max_concurrently_running"],
        created_at=row["created_at"].isoformat(),
        status_date=row["status_date"].isoformat(),
        attributes=row["attributes"],
    )


async def list_workflows(
    connection: asyncpg.Connection, query: wire.WorkflowListQuery
) -> wire.WorkflowList:
    rows = await connection.fetch(
        Q["list_workflows"], query.user, letter_list(query.status, WorkflowStatus, "workflow"),
        query.name, id_list(query.workflow_ids, "workflow_ids"), query.before_id, query.limit,
    )
    ids = [row["id"] for row in rows]
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    retries: dict[int, int] = defaultdict(int)
    for count in await connection.fetch(Q["counts_of_workflows"], ids):
        counts[count["workflow_id"]][count["status"]] = count["tasks"]
        retries[count["workflow_id"]] += count["retries"]
    return wire.WorkflowList(
        workflows=[_summary(row, counts[row["id"]], retries[row["id"]]) for row in rows],
        next_before_id=ids[-1] if len(ids) == query.limit else None,
    )


async def overview(connection: asyncpg.Connection, workflow_id: int) -> wire.WorkflowOverview:
    """What the dashboard's workflow page shows, in one answer (it polls this)."""
    listed = await connection.fetch(Q["list_workflows"], "", None, "", [workflow_id], 0, 1)
    if not listed:
        raise NotFound(f"workflow {workflow_id}")
    counts: dict[str, int] = {}
    retries = 0
    for count in await connection.fetch(Q["counts_of_workflows"], [workflow_id]):
        counts[count["status"]] = count["tasks"]
        retries += count["retries"]
    arrays: dict[int, dict[str, Any]] = {}
    for row in await connection.fetch(Q["array_counts"], workflow_id):
        entry = arrays.setdefault(row["id"], {
            "template_name": row["template_name"], "limit": row["max_concurrently_running"],
            "counts": {},
        })
        if row["status"] is not None:
            entry["counts"][row["status"]] = row["tasks"]
    groups = await connection.fetch(Q["error_groups"], workflow_id, GROUP_EXAMPLES, MAX_GROUPS)
    return wire.WorkflowOverview(
        summary=_summary(listed[0], counts, retries),
        arrays=[
            wire.ArrayProgress(
                array_id=array_id, template_name=entry["template_name"],
                num_tasks=sum(entry["counts"].values()), counts=entry["counts"],
                max_concurrently_running=entry["limit"],
            )
            for array_id, entry in arrays.items()
        ],
        errors=[
            wire.ErrorGroup(
                exit_code=row["exit_code"], instance_status=row["instance_status"],
                message=row["message"], tasks=row["tasks"], task_ids=list(row["task_ids"]),
                task_names=list(row["task_names"]),
            )
            for row in groups
        ],
    )


async def template_edges(connection: asyncpg.Connection, workflow_id: int) -> wire.TemplateEdges:
    await workflow_info(connection, workflow_id)  # 404 for an unknown workflow
    rows = await connection.fetch(Q["template_edges"], workflow_id)
    return wire.TemplateEdges(edges=[
        wire.TemplateEdge(upstream_array_id=row[0], downstream_array_id=row[1], edges=row[2])
        for row in rows
    ])


async def task_details(
    connection: asyncpg.Connection, task_ids: list[int]
) -> list[wire.TaskDetail]:
    """Tasks with every instance and its timeline, and their own history, in four queries
    whatever their number."""
    tasks = await connection.fetch(Q["tasks_by_id"], task_ids)
    instances = await connection.fetch(Q["instances_of_tasks"], task_ids)
    timelines: dict[int, list[wire.HistoryRow]] = defaultdict(list)
    for row in await connection.fetch(Q["history_of_tasks"], task_ids):
        timelines[row["task_instance_id"]].append(wire.HistoryRow(
            time=row["status_time"].isoformat(), task_instance_id=row["task_instance_id"],
            status=row["status"], source=row["source"], from_status=row["from_status"],
            user=row["username"], context=row["context"]))
    own: dict[int, list[wire.HistoryRow]] = defaultdict(list)
    for row in await connection.fetch(Q["task_history_of_tasks"], task_ids):
        own[row["task_id"]].append(wire.HistoryRow(
            time=row["status_time"].isoformat(), task_instance_id=row["task_instance_id"],
            status=row["status"], source=row["source"], kind="task",
            from_status=row["from_status"], user=row["username"], context=row["context"]))
    by_task: dict[int, list[wire.InstanceDetail]] = defaultdict(list)
    for row in instances:
        by_task[row["task_id"]].append(wire.InstanceDetail(
            task_instance_id=row["id"], task_id=row["task_id"],
            workflow_run_id=row["workflow_run_id"], attempt=row["attempt"],
            status=row["status"], status_date=row["status_date"].isoformat(),
            cluster_name=row["cluster_name"], compute_resources=row["compute_resources"],
            distributor_id=row["distributor_id"], nodename=row["nodename"],
            process_id=row["process_id"], exit_code=row["exit_code"],
            error_message=row["error_message"], stderr_tail=row["stderr_tail"],
            maxrss=row["maxrss"], wallclock=row["wallclock"], stdout_path=row["stdout_path"],
            stderr_path=row["stderr_path"], timeline=timelines.get(row["id"], []),
        ))
    return [
        wire.TaskDetail(
            task_id=row["id"], workflow_id=row["workflow_id"], name=row["name"],
            command=row["command"], status=row["status"],
            status_date=row["status_date"].isoformat(), num_attempts=row["num_attempts"],
            max_attempts=row["max_attempts"], array_id=row["array_id"],
            template_name=row["template_name"], output=row["output"], context=row["context"],
            instances=by_task.get(row["id"], []), attributes=row["attributes"] or {},
            history=own.get(row["id"], []),
        )
        for row in tasks
    ]


async def task_detail(connection: asyncpg.Connection, task_id: int) -> wire.TaskDetail:
    found = await task_details(connection, [task_id])
    if not found:
        raise NotFound(f"task {task_id}")
    return found[0]


async def dependencies(connection: asyncpg.Connection, task_id: int) -> wire.TaskDependencies:
    tasks = await connection.fetch(Q["tasks_by_id"], [task_id])
    if not tasks:
        raise NotFound(f"task {task_id}")
    workflow_id = tasks[0]["workflow_id"]
    rows = await connection.fetch(Q["task_neighbours"], workflow_id, task_id)
    refs: dict[str, list[wire.TaskRef]] = {"up": [], "down": []}
    for row in rows:
        refs[row["direction"]].append(
            wire.TaskRef(task_id=row["id"], name=row["name"], status=row["status"]))
    return wire.TaskDependencies(task_id=task_id, workflow_id=workflow_id,
                                 upstream=refs["up"], downstream=refs["down"])


async def subtree(connection: asyncpg.Connection, query: wo.SubtreeQuery) -> wo.TaskSubtree:
    task_ids = id_list(query.task_ids, "task_ids") or []
    rows = await connection.fetch(Q["task_subtree"], task_ids,
                                  letter_list(query.status, TaskStatus, "task"))
    return wo.TaskSubtree(task_id=[row["id"] for row in rows],
                          status=[row["status"] for row in rows],
                          name=[row["name"] for row in rows])


def workflow_status_after_update(requested: TaskStatus, all_done: bool) -> WorkflowStatus | None:
    """The workflow status that follows an operator's task update, if it should change.

    Marking the last tasks DONE completes the workflow; resetting a DONE workflow's tasks
    halts it, which keeps it resumable.
    """
    if requested is TaskStatus.DONE:
        return WorkflowStatus.DONE if all_done else None
    return WorkflowStatus.HALTED


async def update_tasks(
    connection: asyncpg.Connection, workflow_id: int, body: wire.TaskUpdateRequest,
    now: dt.datetime, user: str | None = None,
) -> wire.TaskUpdateResponse:
    """Mark tasks DONE, or reset them and their downstream, in one transaction; 409 if running."""
    requested = TaskStatus(body.status)
    transaction = connection.transaction()
    await transaction.start()
    try:
        answer = await _update_tasks(connection, workflow_id, body, requested, now, user)
    except BaseException:
        await transaction.rollback()
        raise
    if body.dry_run:
        await transaction.rollback()  # the answer says what would change; nothing did
    else:
        await transaction.commit()
    return answer


async def _update_tasks(
    connection: asyncpg.Connection, workflow_id: int, body: wire.TaskUpdateRequest,
    requested: TaskStatus, now: dt.datetime, user: str | None,
) -> wire.TaskUpdateResponse:
    workflow = await lock_stopped(connection, workflow_id,
                                  "tasks can only be updated when it is not: ")
    task_ids = sorted(set(body.task_ids))
    strangers = [row[0] for row in
                 await connection.fetch(Q["tasks_not_in_workflow"], workflow_id, task_ids)]
    if strangers:
        shown = ", ".join(map(str, strangers[:10])) + (" ..." if len(strangers) > 10 else "")
        raise NotFound(f"task {shown} of workflow {workflow_id}")
    # what the operator asked for, on each task's history row
    context = {"request": "task update", "status": str(requested), "task_ids": task_ids[:20],
               "tasks": len(task_ids), "recursive": body.recursive}
    if requested is TaskStatus.DONE and not body.recursive:
        moved_count = affected(await connection.execute(
            Q["mark_tasks_done"], workflow_id, task_ids, now, user, context))
        changed = task_ids
    else:
        query = "mark_tasks_done_upstream" if requested is TaskStatus.DONE \
            else "reset_tasks_downstream"
        rows = await connection.fetch(Q[query], workflow_id, task_ids, now, user, context)
        changed = [row["id"] for row in rows]
        moved_count = rows[0]["moved"] if rows else 0
    count_transitions("task", str(requested), moved_count)
    all_done = await connection.fetchval(Q["count_tasks_not_done"], workflow_id) == 0
    target = workflow_status_after_update(requested, all_done)
    status = workflow["status"]
    context["changed"] = len(changed)
    moved = None
    if target is not None:
        moved = await connection.fetchval(Q["move_workflow_status"], workflow_id, str(target),
                                          now, WORKFLOW.allowed_from(target), "operator", user,
                                          "task_update", context)
        status = moved or status
        if moved is not None:
            count_transitions("workflow", str(target))
    if moved is None and moved_count:  # the workflow's status stayed; the tasks' did not
        await connection.execute(Q["record_workflow_action"], workflow_id, None, now,
                                 "operator", user, "task_update", context)
    return wire.TaskUpdateResponse(workflow_id=workflow_id, status=str(requested),
                                   task_ids=changed, workflow_status=status,
                                   dry_run=body.dry_run)
