"""WorkflowStatus: watch and collect a workflow by id, from any process (also importable as
``jobmon.client.status``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple, TypeVar

import anyio

from jobmon import endpoints, wire
from jobmon import settings as settings_module
from jobmon import wire_results as wr
from jobmon.client.connection import open_requester
from jobmon.requester import Requester
from jobmon.settings import Settings
from jobmon.status import WORKFLOW_RUN_ACTIVE, WorkflowRunStatus

T = TypeVar("T")
PAGE = 10_000
_LIVE_RUN = {str(s) for s in WORKFLOW_RUN_ACTIVE} | {
    str(WorkflowRunStatus.COLD_RESUME), str(WorkflowRunStatus.HOT_RESUME)}


class TaskState(NamedTuple):
    status: str
    attempts: int
    context: Any
    error: str | None


class HistoryEntry(tuple[dt.datetime, "int | None", str, str]):
    """(time, task_instance_id, status, source), as Jobmon's history gives it, and more.

    It is still a 4-tuple (unpack it, compare it with one); the rest are attributes:
    ``kind`` ("instance", "task", "workflow" or "run"), ``from_status``, ``user`` (who
    asked; None for the server's own reaper), ``action`` (an operator's: task_update,
    stop, resume, concurrency, reset, prune, clear), ``workflow_run_id`` and ``context``
    (run, cluster job id, host, pid, the reason or what an operator asked for).
    """

    kind: str
    from_status: str | None
    user: str | None
    action: str | None
    workflow_run_id: int | None
    context: dict[str, Any]

    def __new__(cls, time: dt.datetime, task_instance_id: int | None, status: str, source: str,
                *, kind: str = "instance", from_status: str | None = None,
                user: str | None = None, action: str | None = None,
                workflow_run_id: int | None = None,
                context: dict[str, Any] | None = None) -> HistoryEntry:
        entry = super().__new__(cls, (time, task_instance_id, status, source))
        entry.kind, entry.from_status, entry.user = kind, from_status, user
        entry.action, entry.workflow_run_id = action, workflow_run_id
        entry.context = dict(context or {})
        return entry

    @property
    def time(self) -> dt.datetime:
        return self[0]

    @property
    def task_instance_id(self) -> int | None:
        return self[1]

    @property
    def status(self) -> str:
        return self[2]

    @property
    def source(self) -> str:
        return self[3]

    def __repr__(self) -> str:
        return (f"HistoryEntry({self.time.isoformat()}, {self.kind} "
                f"{self.from_status or '-'}->{self.status}, {self.source}, user={self.user!r}"
                f"{', action=' + self.action if self.action else ''}, context={self.context!r})")


def _error_text(exit_code: int | None, message: str | None, stderr: str | None) -> str | None:
    parts = []
    if exit_code not in (None, 0):
        parts.append(f"exit code {exit_code}")
    if message:
        parts.append(message)
    if stderr and stderr.strip():
        parts.append(stderr.strip().splitlines()[-1])
    return "; ".join(parts) or None


class AsyncWorkflowStatus:
    """The async core of WorkflowStatus; every method is one or a few HTTP requests."""

    def __init__(self, workflow_id: int, requester: Requester) -> None:
        self.workflow_id = workflow_id
        self._requester = requester

    async def summary(self) -> wire.WorkflowSummary:
        return await self._requester.call(endpoints.WORKFLOW_STATUS,
                                          workflow_id=self.workflow_id)

    async def progress(self) -> tuple[int, int]:
        summary = await self.summary()
        finished = summary.counts.get("D", 0) + summary.counts.get("F", 0)
        return finished, summary.num_tasks

    async def wait(self, block: bool = True, sleep: float = 5.0) -> str:
        while True:
            summary = await self.summary()
            if not block or summary.latest_run_status not in _LIVE_RUN:
                return summary.status
            await anyio.sleep(sleep)

    async def task_states(self, task_ids: Iterable[int] | None = None) -> dict[int, TaskState]:
        wanted = ",".join(str(int(i)) for i in task_ids) if task_ids is not None else ""
        states: dict[int, TaskState] = {}
        async for page in self._requester.pages(endpoints.TASK_STATES,
                                                {"limit": PAGE, "task_ids": wanted},
                                                workflow_id=self.workflow_id):
            for i, task_id in enumerate(page.task_id):
                states[task_id] = TaskState(
                    status=page.status[i],
                    attempts=page.num_attempts[i],
                    context=page.context[i],
                    error=_error_text(page.exit_code[i], page.error_message[i],
                                      page.stderr_tail[i]),
                )
        return states

    async def outputs(self) -> dict[str, list[Any]]:
        collected: dict[str, list[Any]] = {}
        async for page in self._requester.pages(endpoints.OUTPUTS, {"limit": PAGE},
                                                workflow_id=self.workflow_id):
            for name, output in zip(page.name, page.output, strict=True):
                collected.setdefault(name, []).append(output)
        return collected

    async def chain(self) -> wr.Chain:
        """The chain of workflows this one is in, first to last, and its state."""
        return await self._requester.call(endpoints.CHAIN, workflow_id=self.workflow_id)

    async def history(self, task_id: int | None = None,
                      everything: bool = False) -> list[HistoryEntry]:
        if task_id is None:
            return await self._workflow_history()
        answer = await self._requester.call(endpoints.TASK_HISTORY, task_id=int(task_id))
        return [
            HistoryEntry(dt.datetime.fromisoformat(row.time), row.task_instance_id, row.status,
                         row.source, kind=row.kind, from_status=row.from_status, user=row.user,
                         workflow_run_id=row.context.get("run"), context=row.context)
            for row in answer.rows
            if everything or row.kind == "instance"
        ]

    async def _workflow_history(self) -> list[HistoryEntry]:
        answer = await self._requester.call(endpoints.WORKFLOW_HISTORY,
                                            workflow_id=self.workflow_id)
        return [
            HistoryEntry(dt.datetime.fromisoformat(row.time), None, row.status, row.source,
                         kind=row.kind, from_status=row.from_status, user=row.user,
                         action=row.action, workflow_run_id=row.workflow_run_id,
                         context=row.context)
            for row in answer.rows
        ]

    async def clear(self) -> int:
        answer = await self._requester.call(endpoints.CLEAR_WORKFLOW,
                                            workflow_id=self.workflow_id)
        return answer.deleted_tasks


class WorkflowStatus:
    """A workflow watched by id; talks to the configured server (or the local one)."""

    def __init__(self, workflow_id: int, settings: Settings | None = None) -> None:
        self.workflow_id = int(workflow_id)
        self._settings = settings

    def _call(self, method: Callable[[AsyncWorkflowStatus], Awaitable[T]]) -> T:
        async def run() -> T:
            async with open_requester(self._settings or settings_module.get()) as requester:
                return await method(AsyncWorkflowStatus(self.workflow_id, requester))

        return anyio.run(run)

    def progress(self) -> tuple[int, int]:
        """(finished, total): finished counts DONE and ERROR_FATAL tasks."""
        return self._call(lambda status: status.progress())

    def wait(self, block: bool = True, sleep: float = 5.0) -> str:
        """Until the latest run ends (or at once with block=False); the workflow status."""
        return self._call(lambda status: status.wait(block, sleep))

    def task_states(self, task_ids: Iterable[int] | None = None) -> dict[int, TaskState]:
        """{task_id: TaskState(status, attempts, context, error)}."""
        ids = list(task_ids) if task_ids is not None else None
        return self._call(lambda status: status.task_states(ids))

    def outputs(self) -> dict[str, list[Any]]:
        """{task_name: [output values, one per DONE task that left one]}."""
        return self._call(lambda status: status.outputs())

    def chain(self) -> wr.Chain:
        """The chain of workflows this one is in: ``links`` first to last, ``state``
        (DONE, RUNNING, WAITING, STOPPED) and ``message``."""
        return self._call(lambda status: status.chain())

    def history(self, task_id: int | None = None,
                everything: bool = False) -> list[HistoryEntry]:
        """The history, oldest first, as (time, task_instance_id, status, source) entries.

        With a task id: every status of its instances, as in Jobmon; with ``everything``,
        the task's own status changes too (kind "task"). Without one: the workflow's and its
        runs' status changes and the operator actions on it (kinds "workflow" and "run").
        Each entry also says where it came from, who made it, and its context.
        """
        return self._call(lambda status: status.history(task_id, everything))

    def clear(self) -> int:
        """Delete everything about the (finished) workflow; returns how many tasks went."""
        return self._call(lambda status: status.clear())
