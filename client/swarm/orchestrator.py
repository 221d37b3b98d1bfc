"""WorkflowRunOrchestrator: drives one run's swarm state until DONE, FAILED, or stopped.

Each tick queues ready tasks within limits, pulls status changes (a long-poll the server
answers as soon as something changes), handles failures, and watches the run's status.
A heartbeat loop runs beside it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from jobmon import endpoints, wire
from jobmon.client.progress import ProgressReporter
from jobmon.client.swarm.state import SwarmState, TickPlan
from jobmon.clock import Clock, SystemClock
from jobmon.errors import CODE_TRANSITION, ServerError
from jobmon.requester import Requester
from jobmon.resources import QueueLimits, QueueSet
from jobmon.settings import Settings
from jobmon.status import WorkflowRunStatus

log = logging.getLogger(__name__)

WRS = WorkflowRunStatus
# Run statuses set by someone else that end this swarm.
_TAKEN_OVER = {str(WRS.COLD_RESUME), str(WRS.HOT_RESUME)}
_ENDED = {str(WRS.STOPPED), str(WRS.ERROR), str(WRS.TERMINATED), str(WRS.ABORTED)}

CheckDistributors = Callable[[], Awaitable[list[str]]]
DISTRIBUTOR_CHECK = 0.2  # seconds between looks at the distributor processes
# after the first task change, how long the server gathers more before answering
GATHER_SECONDS = 0.01


@dataclass(frozen=True)
class RunOutcome:
    status: str  # the run's final status letter: D, E, T or S, as Jobmon's run() returns
    message: str
    # a hot resume took over: let the running instances finish before this process exits
    drain: bool = False
    # seconds_until_timeout passed: run() raises once the distributors are stopped
    timed_out: bool = False


class RunEnded(Exception):
    """Someone else ended this run: a resume took over, or an operator stopped it."""

    def __init__(self, run_status: str) -> None:
        super().__init__(run_status)
        self.run_status = run_status


async def set_run_status(
    requester: Requester, run_id: int, status: WorkflowRunStatus, message: str = ""
) -> str:
    answer = await requester.call(
        endpoints.RUN_STATUS,
        wire.RunStatusRequest(status=str(status), message=message),
        workflow_run_id=run_id,
    )
    return answer.status


async def send_heartbeat(
    requester: Requester, settings: Settings, run_id: int
) -> wire.RunHeartbeatResponse:
    heartbeat = settings.heartbeat
    return await requester.call(
        endpoints.RUN_HEARTBEAT,
        wire.RunHeartbeatRequest(
            next_report_seconds=heartbeat.run_deadline
        ),
        workflow_run_id=run_id,
    )


def _run_ended(error: BaseException) -> RunEnded | None:
    """The RunEnded inside ``error``, if that is all it holds."""
    if isinstance(error, RunEnded):
        return error
    if isinstance(error, BaseExceptionGroup):
        found = [_run_ended(inner) for inner in error.exceptions]
        if found and all(found):
            return found[0]
    return None


class WorkflowRunOrchestrator:
    """The swarm of one workflow run."""

    def __init__(
        self,
        requester: Requester,
        settings: Settings,
        workflow_run_id: int,
        state: SwarmState,
        cursor: str,
        *,
        fail_fast: bool = False,
        seconds_until_timeout: float = 36000,
        progress: ProgressReporter | None = None,
        check_distributors: CheckDistributors | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._requester = requester
        self._settings = settings
        self._run_id = workflow_run_id
        self._state = state
        self._cursor = cursor
        self._fail_fast = fail_fast
        self._timeout = seconds_until_timeout
        self._progress = progress
        self._check_distributors = check_distributors
        self._clock = clock or SystemClock()

    @property
    def state(self) -> SwarmState:
        return self._state

    async def set_status(self, status: WorkflowRunStatus, message: str = "") -> str:
        """Move the run on; RunEnded if someone else ended it (a resume, stop or the reaper)."""
        try:
            return await set_run_status(self._requester, self._run_id, status, message)
        except ServerError as error:
            if error.status == 409 and error.code == CODE_TRANSITION:
                raise RunEnded(await self._current_status()) from None
            raise

    async def start(self) -> None:
        """The swarm is built and its distributors are up: the run goes to R (through I and
        O, in one request); RunEnded if someone else ended it meanwhile."""
        try:
            await self._requester.call(endpoints.START_RUN, workflow_run_id=self._run_id)
        except ServerError as error:
            if error.status == 409 and error.code == CODE_TRANSITION:
                raise RunEnded(await self._current_status()) from None
            raise

    async def _current_status(self) -> str:
        state = await self._requester.call(endpoints.RUN_CHANGES, params={"cursor": ""},
                                           workflow_run_id=self._run_id)
        return state.run_status

    async def heartbeat(self) -> wire.RunHeartbeatResponse:
        return await send_heartbeat(self._requester, self._settings, self._run_id)

    async def run(self) -> RunOutcome:
        """Drive the run to its end and record the outcome."""
        outcome: RunOutcome | None = None
        try:
            await self.start()
            await self.refresh_queues()
            async with anyio.create_task_group() as group:
                group.start_soon(self._heartbeat_loop)
                if self._check_distributors is not None:
                    group.start_soon(self._distributor_loop, self._check_distributors)
                outcome = await self._loop()
                group.cancel_scope.cancel()
        except (RunEnded, BaseExceptionGroup) as error:
            ended = _run_ended(error)
            if ended is None:
                raise
            return await self._ended_by_others(ended.run_status)
        assert outcome is not None
        return outcome

    async def refresh_queues(self) -> None:
        """The limits of the clusters' queues (reported by their distributors)."""
        for cluster_name in sorted(self._state.clusters()):
            answer = await self._requester.call(endpoints.QUEUES, cluster_name=cluster_name)
            self._state.set_queues(cluster_name, QueueSet(
                {queue.name: QueueLimits(queue.name, queue.max_cores, queue.max_memory_mib,
                                         queue.max_runtime_seconds)
                 for queue in answer.queues},
                next((queue.name for queue in answer.queues if queue.is_default), None),
            ))

    async def _heartbeat_loop(self) -> None:
        interval = self._settings.heartbeat.workflow_run_interval
        while True:
            await self._clock.sleep(interval)
            await self.refresh_queues()
            answer = await self.heartbeat()
            if answer.status in _TAKEN_OVER or answer.status in _ENDED:
                raise RunEnded(answer.status)

    async def _distributor_loop(self, check: CheckDistributors) -> None:
        """Replace a dead distributor at once: its orphaned commands await adoption."""
        while True:
            await self._clock.sleep(DISTRIBUTOR_CHECK)
            for note in await check():
                log.warning(note)
                if self._progress is not None:
                    self._progress.message(note)

    async def _loop(self) -> RunOutcome:
        deadline = self._clock.monotonic() + self._timeout
        poll_wait = self._settings.swarm.poll_wait
        while True:
            if self._state.wants_queues:
                await self.refresh_queues()
            plan = self._state.plan(fail_fast=self._fail_fast,
                                    max_batch=self._settings.swarm.queue_batch_size)
            if plan:
                await self._send(plan)
            self._show()
            if self._state.finished(self._fail_fast):
                return await self._finish()
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                return await self._timed_out()
            await self._pull(min(poll_wait, remaining))

    async def _send(self, plan: TickPlan) -> None:
        body = wire.ScheduleRequest(
            fatal=plan.fatal,
            adjust=plan.adjust,
            queue=[
                wire.QueueGroup(task_ids=group.task_ids, compute_resources=group.compute_resources)
                for group in plan.queue
            ],
        )
        try:
            answer = await self._requester.call(endpoints.RUN_SCHEDULE, body,
                                                workflow_run_id=self._run_id)
        except ServerError as error:
            if error.status == 409 and error.code == CODE_TRANSITION:
                raise RunEnded(await self._current_status()) from None
            raise
        # Tasks the server did not queue hold another status there (a change this swarm has
        # yet to pull, or the first try of a retried request queued them): take theirs, so
        # none is counted as queued, holding a slot, on this swarm's word alone.
        self._apply(answer.skipped_states)

    def _apply(self, changes: wire.TaskChanges) -> None:
        for task_id, status, attempts, error_status in zip(
            changes.task_id, changes.status, changes.num_attempts, changes.error_status,
            strict=True,
        ):
            self._state.apply(task_id, status, attempts, error_status)

    def _gather(self) -> float:
        """How long the server may gather changes after the first: none when at most one
        task is in flight (the first change is the only one that can come; a chain)."""
        return 0.0 if self._state.active_total <= 1 else GATHER_SECONDS

    async def _pull(self, wait: float, raise_ended: bool = True) -> None:
        answer = await self._requester.call(
            endpoints.RUN_CHANGES,
            params={"cursor": self._cursor, "wait": round(wait, 3), "gather": self._gather()},
            extra_timeout=wait,
            workflow_run_id=self._run_id,
        )
        self._cursor = answer.cursor
        self._state.set_limits(
            answer.max_concurrently_running,
            {int(key): value for key, value in answer.array_limits.items()},
        )
        self._apply(answer.tasks)
        if raise_ended and (answer.run_status in _TAKEN_OVER or answer.run_status in _ENDED):
            raise RunEnded(answer.run_status)

    def _show(self, status: str = "") -> None:
        if self._progress is not None:
            self._progress.update(self._state.progress(), self._state.size, status)

    async def _finish(self) -> RunOutcome:
        self._show("end")
        if self._state.all_done:
            await self.set_status(WRS.DONE)
            return RunOutcome(str(WRS.DONE), f"all {self._state.size} tasks are DONE")
        failed = self._state.counts["F"]
        message = (
            f"{failed} task(s) failed for good"
            + (" (fail_fast: no new tasks were started after the first)" if self._fail_fast
               else "")
            + f"; {self._state.counts['D']} of {self._state.size} tasks are DONE"
        )
        if failed == 0:
            message = "no task can make progress (are some tasks waiting on a cycle?)"
        await self.set_status(WRS.ERROR, message)
        return RunOutcome(str(WRS.ERROR), message)

    async def _timed_out(self) -> RunOutcome:
        message = (
            f"the run reached its timeout after {self._timeout:g} s (seconds_until_timeout) "
            f"with {self._state.counts['D']} of {self._state.size} tasks DONE; tasks already "
            "submitted keep running: run it again with resume=True to continue"
        )
        log.error(message)
        await self.set_status(WRS.ERROR, message)
        return RunOutcome(str(WRS.ERROR), message, timed_out=True)

    async def _ended_by_others(self, run_status: str) -> RunOutcome:
        if run_status in _TAKEN_OVER:
            with anyio.CancelScope(shield=True):
                await self.set_status(WRS.TERMINATED)
            hot = run_status == WRS.HOT_RESUME
            return RunOutcome(
                str(WRS.TERMINATED),
                "a resume took over this workflow; this run ended"
                + ("; its running tasks finish first" if hot else ""),
                drain=hot,
            )
        if run_status == WRS.STOPPED:
            return RunOutcome(str(WRS.STOPPED), "the workflow was stopped by an operator")
        if run_status == WRS.ERROR:
            return await self._woke_up_lost()
        if run_status == WRS.RUNNING:  # DONE refused: tasks were reset meanwhile (an operator)
            message = ("tasks were reset while the run ended; it stops here and the "
                       "workflow can be resumed (run the script again with resume=True)")
            with contextlib.suppress(RunEnded):
                await self.set_status(WRS.ERROR, message)
            return RunOutcome(str(WRS.ERROR), message)
        return RunOutcome(run_status, f"the run was ended elsewhere (status {run_status})")

    async def _woke_up_lost(self) -> RunOutcome:
        """The reaper marked this run lost (no heartbeat: the process was paused or cut off).

        If every task finished meanwhile, the run is DONE after all (the server checks).
        Otherwise this swarm stops, and the workflow can be resumed.
        """
        await self._pull(0, raise_ended=False)
        if self._state.all_done:
            try:
                await self.set_status(WRS.DONE)
            except RunEnded:
                pass  # a resume took over meanwhile: its run finishes the workflow
            else:
                self._show("end")
                return RunOutcome(str(WRS.DONE), f"all {self._state.size} tasks are DONE")
        message = (
            f"run {self._run_id} was marked lost: this process sent no heartbeat before its "
            "deadline (was it paused or suspended?) and stops here; "
            f"{self._state.counts['D']} of {self._state.size} tasks are DONE and the workflow "
            "can be resumed (run the script again with resume=True)"
        )
        log.warning(message)
        return RunOutcome(str(WRS.ERROR), message)
