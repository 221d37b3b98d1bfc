"""Operator actions and views by id: limits, stop, lists, task details and updates, prune."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from contextlib import aclosing
from typing import NamedTuple

from jobmon import endpoints, wire
from jobmon import wire_operator as wo
from jobmon import wire_pictures as wp
from jobmon.client.connection import open_requester
from jobmon.requester import Requester
from jobmon.settings import Settings

PAGE = 10_000
# Tasks deleted per prune request: each is one short transaction on the server.
PRUNE_BATCH = 1000


async def set_concurrency(settings: Settings, workflow_id: int,
                          limit: int) -> wire.ConcurrencyResponse:
    async with open_requester(settings) as requester:
        return await requester.call(endpoints.SET_CONCURRENCY,
                                    wire.ConcurrencyRequest(max_concurrently_running=limit),
                                    workflow_id=workflow_id)


async def set_template_concurrency(settings: Settings, workflow_id: int, task_template: str,
                                   limit: int) -> wp.TemplateConcurrencyResponse:
    """The limit of one task template (array) of a workflow; a running swarm applies it at
    once."""
    async with open_requester(settings) as requester:
        return await requester.call(
            endpoints.SET_TEMPLATE_CONCURRENCY,
            wp.TemplateConcurrencyRequest(max_concurrently_running=limit,
                                          task_template=task_template),
            workflow_id=workflow_id,
        )


async def stop_workflow(settings: Settings, workflow_id: int) -> wire.StopResponse:
    async with open_requester(settings) as requester:
        return await requester.call(endpoints.STOP_WORKFLOW, workflow_id=workflow_id)


async def list_workflows(
    settings: Settings, *, user: str = "", statuses: Iterable[str] = (), name: str = "",
    workflow_ids: Iterable[int] = (), limit: int = 50, users: Iterable[str] = (),
) -> list[wire.WorkflowSummary]:
    """Workflows newest first; with ``workflow_ids``, exactly those (404 if one is unknown);
    with ``users``, the newest ``limit`` of all of theirs."""
    wanted = sorted(set(workflow_ids))
    owners = sorted(set(users)) or [user]
    found: dict[int, wire.WorkflowSummary] = {}
    async with open_requester(settings) as requester:
        for owner in owners:
            params = {"user": owner, "status": ",".join(statuses), "name": name,
                      "workflow_ids": ",".join(map(str, wanted)),
                      "limit": max(limit, len(wanted)) if wanted else limit}
            answer = await requester.call(endpoints.LIST_WORKFLOWS, params=params)
            found.update((summary.workflow_id, summary) for summary in answer.workflows)
        missing = [workflow_id for workflow_id in wanted if workflow_id not in found]
        if missing:  # ask for the first one alone: the server's 404 says it best
            await requester.call(endpoints.WORKFLOW, workflow_id=missing[0])
    newest = sorted(found.values(), key=lambda summary: -summary.workflow_id)
    return newest if wanted else newest[:limit]


class TaskRow(NamedTuple):
    task_id: int
    name: str
    status: str
    num_attempts: int
    max_attempts: int
    exit_code: int | None
    error: str | None


def last_line(text: str | None) -> str | None:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else None


async def workflow_tasks(settings: Settings, workflow_id: int, statuses: Iterable[str] = (),
                         limit: int | None = None) -> list[TaskRow]:
    """Tasks of a workflow (optionally only some statuses): every one, first tasks first;
    or with ``limit``, the newest (highest id) ``limit`` of them, as Jobmon lists them."""
    rows: list[TaskRow] = []
    params = {"limit": PAGE if limit is None else min(PAGE, limit),
              "status": ",".join(statuses), "newest_first": limit is not None}
    async with open_requester(settings) as requester, aclosing(requester.pages(
            endpoints.TASK_STATES, params, workflow_id=workflow_id)) as pages:
        async for page in pages:
            for i, task_id in enumerate(page.task_id):
                error = last_line(page.stderr_tail[i]) or page.error_message[i]
                rows.append(TaskRow(task_id, page.name[i], page.status[i], page.num_attempts[i],
                                    page.max_attempts[i], page.exit_code[i],
                                    error if page.status[i] != "D" else None))
            if limit is not None and len(rows) >= limit:
                break
    # the last page may hold more than the newest ``limit`` asked for
    return rows if limit is None else rows[:limit]


async def task_details(settings: Settings, task_ids: Iterable[int]) -> list[wire.TaskDetail]:
    async with open_requester(settings) as requester:
        # one by one: people ask for a few tasks, and the first unknown one is the answer
        return [await requester.call(endpoints.TASK, task_id=task_id)
                for task_id in dict.fromkeys(task_ids)]


async def workflow_history(settings: Settings, workflow_id: int) -> wire.WorkflowHistory:
    async with open_requester(settings) as requester:
        return await requester.call(endpoints.WORKFLOW_HISTORY, workflow_id=workflow_id)


async def task_dependencies(settings: Settings, task_id: int) -> wire.TaskDependencies:
    async with open_requester(settings) as requester:
        return await requester.call(endpoints.TASK_DEPENDENCIES, task_id=task_id)


async def update_tasks(settings: Settings, workflow_id: int, task_ids: Iterable[int],
                       status: str, dry_run: bool = False,
                       recursive: bool = False) -> wire.TaskUpdateResponse:
    async with open_requester(settings) as requester:
        return await requester.call(
            endpoints.UPDATE_TASKS,
            wire.TaskUpdateRequest(task_ids=sorted(set(task_ids)),
            status=status,
                                   dry_run=dry_run, recursive=recursive),
            workflow_id=workflow_id,
        )


async def task_subtree(settings: Settings, task_ids: Iterable[int],
                       statuses: Iterable[str] = ()) -> wo.TaskSubtree:
    async with open_requester(settings) as requester:
        return await requester.call(
            endpoints.TASK_SUBTREE,
            params={"task_ids": ",".join(str(int(i)) for i in task_ids),
                    "status": ",".join(statuses)})


async def reset_workflow(settings: Settings, workflow_id: int,
                         partial: bool) -> wo.ResetResponse:
    async with open_requester(settings) as requester:
        return await requester.call(endpoints.RESET, wo.ResetRequest(partial=partial),
                                    workflow_id=workflow_id)


async def file_paths(settings: Settings, workflow_id: int, array_name: str = "",
                     job_name: str = "", limit: int = 5) -> wo.FilePaths:
    async with open_requester(settings) as requester:
        return await requester.call(
            endpoints.FILE_PATHS,
            params={"array_name": array_name, "job_name": job_name, "limit": limit},
            workflow_id=workflow_id)


async def prune_candidates(settings: Settings, before: dt.datetime,
                           statuses: Iterable[str]) -> list[wire.PruneCandidate]:
    found: list[wire.PruneCandidate] = []
    params = {"before": before.isoformat(), "status": ",".join(statuses)}
    async with open_requester(settings) as requester:
        async for page in requester.pages(endpoints.PRUNE_CANDIDATES, params):
            found.extend(page.workflows)
    return found


async def prune_workflow(
    requester: Requester, candidate: wire.PruneCandidate, before: dt.datetime,
    statuses: Iterable[str], progress: Callable[[int], None], batch_size: int = PRUNE_BATCH,
) -> int:
    """Delete one workflow batch by batch; ``progress`` gets the tasks deleted so far."""
    request = wire.PruneRequest(before=before.isoformat(),
    statuses=sorted(set(statuses)),
                                batch_size=batch_size)
    deleted = 0
    while True:
        answer = await requester.call(endpoints.PRUNE, request, workflow_id=candidate.workflow_id)
        deleted += answer.deleted_tasks
        progress(deleted)
        if answer.done:
            return deleted
