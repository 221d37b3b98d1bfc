"""One run from start to end: create it, build the swarm, start distributors, orchestrate."""

from __future__ import annotations

import functools
import getpass
import logging
import time
from dataclasses import dataclass

import anyio

import jobmon
from jobmon import errors, wire
from jobmon.client.prepare import Prepared
from jobmon.client.progress import ProgressReporter
from jobmon.client.swarm.builder import SwarmBuilder
from jobmon.client.swarm.distributors import DistributorSupervisor
from jobmon.client.swarm.orchestrator import (
    RunOutcome,
    WorkflowRunOrchestrator,
    send_heartbeat,
    set_run_status,
)
from jobmon.client.swarm.result import WorkflowRunResult
from jobmon.client.swarm.state import SwarmState
from jobmon.client.task_errors import REPORTED_TASKS, failure_report, workflow_errors
from jobmon.requester import Requester
from jobmon.settings import Settings
from jobmon.status import TaskStatus, WorkflowRunStatus

log = logging.getLogger(__name__)
WR = WorkflowRunStatus


async def create_run(
    requester: Requester, workflow_id: int, resume: bool, cold_resume: bool
) -> wire.RunResponse:
    """A new run of the workflow; maps the server's refusals to the documented exceptions."""
    try:
        return await requester.post(
            f"/api/v1/workflows/{workflow_id}/runs",
            wire.RunRequest(user=getpass.getuser(), resume=resume, cold=cold_resume,
                            jobmon_version=jobmon.__version__),
            wire.RunResponse,
        )
    except errors.ServerError as error:
        if error.code == errors.CODE_WORKFLOW_EXISTS:
            raise errors.WorkflowAlreadyExists(error.message) from None
        if error.code == errors.CODE_WORKFLOW_COMPLETE:
            raise errors.WorkflowAlreadyComplete(error.message) from None
        raise


async def start_distributors(requester: Requester, cluster_names: set[str],
                             workflow_run_id: int | None = None,
                             settings: Settings | None = None) -> DistributorSupervisor:
    """Distributor children for the clusters no daemon serves; they may precede the run."""
    supervisor = DistributorSupervisor(requester, sorted(cluster_names), workflow_run_id,
                                       settings)
    await supervisor.start()
    return supervisor


@dataclass(frozen=True)
class _Driven:
    outcome: RunOutcome
    state: SwarmState
    previously_done: int  # tasks already DONE when the run started (a resume skips them)


async def run_workflow(
    requester: Requester,
    settings: Settings,
    workflow_id: int,
    prepared: Prepared | None,
    *,
    fail_fast: bool = False,
    seconds_until_timeout: float = 36000,
    resume: bool = False,
    cold_resume: bool = True,
    progress: ProgressReporter | None = None,
    supervisor: DistributorSupervisor | None = None,
) -> WorkflowRunResult:
    """Run (or resume) a bound workflow to its end; ``prepared`` is None for a CLI resume.

    Returns the run's final status with its counts; raises ``WorkflowRunTimeout`` when
    ``seconds_until_timeout`` passes. ``supervisor`` holds distributors started early
    (while binding); they get the run id as soon as the run exists. Whatever happens,
    they are stopped before this returns.
    """
    began = time.monotonic()
    driven: _Driven | None = None
    started = [supervisor] if supervisor is not None else []
    try:
        run = await create_run(requester, workflow_id, resume, cold_resume)
        run_id = run.workflow_run_id
        if supervisor is not None:
            await supervisor.assign(run_id)
        if run.resumed_from:
            log.info("run %d took over from run(s) %s", run_id, run.resumed_from)
        try:
            driven = await _drive(requester, settings, workflow_id, run_id, prepared,
                                  fail_fast, seconds_until_timeout, resume, progress,
                                  started)
        except BaseException as error:
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                await _abandon(requester, run_id, error)
            raise
    finally:
        for each in started:
            await each.stop(drain=driven is not None and driven.outcome.drain)
    outcome, state = driven.outcome, driven.state
    result = WorkflowRunResult(
        outcome.status,
        # keyed by the ints index_of holds already, not a million new ones
        task_final_statuses={task_id: chr(state.status[i])
                             for task_id, i in state.index_of.items()},
        elapsed_time=time.monotonic() - began,
        num_previously_complete=driven.previously_done,
        workflow_id=workflow_id,
        workflow_run_id=run_id,
        message=outcome.message,
    )
    await _report(requester, result, sorted(state.clusters()), progress)
    if outcome.timed_out:
        raise errors.WorkflowRunTimeout(outcome.message, result)
    return result


async def _report(requester: Requester, result: WorkflowRunResult, clusters: list[str],
                  progress: ProgressReporter | None) -> None:
    """The outcome in a line; for failed tasks, their last errors and what to run next."""
    lines = [f"workflow {result.workflow_id}: {result.final_status} ({result.message})"]
    if result.failed_count:
        try:
            failed = await workflow_errors(requester, result.workflow_id,
                                           limit=REPORTED_TASKS, fatal_only=True)
        except (errors.ServerError, errors.ServerUnavailable) as error:
            log.debug("no error report: %s", error)
            failed = []
        lines += failure_report(result.workflow_id, failed, result.failed_count, clusters)
    for line in lines:
        if progress is not None and progress.enabled:
            progress.message(line)
        else:
            log.info(line)


async def _drive(
    requester: Requester,
    settings: Settings,
    workflow_id: int,
    run_id: int,
    prepared: Prepared | None,
    fail_fast: bool,
    seconds_until_timeout: float,
    resume: bool,
    progress: ProgressReporter | None,
    started: list[DistributorSupervisor],
) -> _Driven:
    first = await requester.get(f"/api/v1/workflow_runs/{run_id}/changes", wire.ChangesResponse,
                                {"cursor": ""})
    builder = SwarmBuilder(requester)
    if resume or prepared is None:
        state = await builder.build_from_workflow_id(
            workflow_id,
            settings.swarm.edge_chunk_size,
            heartbeat=functools.partial(send_heartbeat, requester, settings, run_id),
            heartbeat_every=settings.heartbeat.workflow_run_interval,
            extras=prepared,
        )
    else:
        state = await builder.build_from_workflow(workflow_id, prepared)
    previously_done = state.counts[str(TaskStatus.DONE)]
    await set_run_status(requester, run_id, WR.INSTANTIATED)
    if not started:  # nobody started them early (a CLI resume): the caller stops them
        started.append(await start_distributors(
            requester, {c.cluster_name for c in state.configs}, run_id, settings))
    await set_run_status(requester, run_id, WR.LAUNCHED)
    orchestrator = WorkflowRunOrchestrator(
        requester, settings, run_id, state, first.cursor,
        fail_fast=fail_fast, seconds_until_timeout=seconds_until_timeout, progress=progress,
        check_distributors=started[0].check,
    )
    return _Driven(await orchestrator.run(), state, previously_done)


async def _abandon(requester: Requester, run_id: int, error: BaseException) -> None:
    """Record that this run ended early, so a resume need not wait for the reaper.

    Interrupted (Ctrl-C, SIGTERM: the run is cancelled) it is STOPPED, as Jobmon records a
    confirmed Ctrl-C; on an error it is ERROR.
    """
    if isinstance(error, anyio.get_cancelled_exc_class() | KeyboardInterrupt):
        message = "the swarm was interrupted (Ctrl-C or SIGTERM)"
        statuses: tuple[WorkflowRunStatus, ...] = (WR.STOPPED, WR.ERROR, WR.ABORTED)
    else:
        message = f"the swarm stopped on {type(error).__name__}: {error}"[:2000]
        statuses = (WR.ERROR, WR.ABORTED)
    for status in statuses:
        try:
            await requester.post(
                f"/api/v1/workflow_runs/{run_id}/status",
                wire.RunStatusRequest(status=str(status), message=message),
                wire.RunStatusResponse,
            )
            return
        except (errors.ServerError, errors.ServerUnavailable):
            continue
