"""One run from start to end: create it, build the swarm, start distributors, orchestrate."""

from __future__ import annotations

import contextlib
import functools
import getpass
import logging
import time
from dataclasses import dataclass

import anyio

import jobmon
from jobmon import endpoints, errors, wire
from jobmon.client.prepare import Prepared
from jobmon.client.progress import ProgressReporter
from jobmon.client.swarm.builder import SwarmBuilder
from jobmon.client.swarm.distributors import DistributorSupervisor
from jobmon.client.swarm.orchestrator import RunOutcome, WorkflowRunOrchestrator, send_heartbeat
from jobmon.client.swarm.result import WorkflowRunResult
from jobmon.client.swarm.state import SwarmState
from jobmon.client.task_errors import REPORTED_TASKS, failure_report, workflow_errors
from jobmon.requester import Requester
from jobmon.settings import Settings
from jobmon.status import TaskStatus, WorkflowRunStatus

log = logging.getLogger(__name__)
WRS = WorkflowRunStatus


async def create_run(
    requester: Requester, workflow_id: int, resume: bool, cold_resume: bool
) -> wire.RunResponse:
    """A new run of the workflow; maps the server's refusals to the documented exceptions."""
    try:
        return await requester.call(
            endpoints.CREATE_RUN,
            wire.RunRequest(user=getpass.getuser(), resume=resume, cold=cold_resume,
                            jobmon_version=jobmon.__version__),
            workflow_id=workflow_id,
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

    async def stop(each: DistributorSupervisor) -> None:
        await each.stop(drain=driven is not None and driven.outcome.drain)

    async with contextlib.AsyncExitStack() as owned:  # stops the distributors on any exit
        if supervisor is not None:
            owned.push_async_callback(stop, supervisor)
        run = await create_run(requester, workflow_id, resume, cold_resume)
        run_id = run.workflow_run_id
        if supervisor is not None:
            await supervisor.assign(run_id)
        if run.resumed_from:
            log.info("run %d took over from run(s) %s", run_id, run.resumed_from)
        try:
            state = await _build(requester, settings, workflow_id, run, prepared, resume)
            previously_done = state.counts[str(TaskStatus.DONE)]
            if supervisor is None:  # nobody started them early (a CLI resume)
                supervisor = await start_distributors(
                    requester, {c.cluster_name for c in state.configs}, run_id, settings)
                owned.push_async_callback(stop, supervisor)
            orchestrator = WorkflowRunOrchestrator(
                requester, settings, run_id, state, run.cursor,
                fail_fast=fail_fast, seconds_until_timeout=seconds_until_timeout,
                progress=progress, check_distributors=supervisor.check,
            )
            driven = _Driven(await orchestrator.run(), state, previously_done)
        except BaseException as error:
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                await _abandon(requester, run_id, error)
            raise
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


async def _build(requester: Requester, settings: Settings, workflow_id: int,
                 run: wire.RunResponse, prepared: Prepared | None, resume: bool) -> SwarmState:
    """The swarm state, within the limits the run began with (its answer carries them)."""
    builder = SwarmBuilder(requester)
    limits = (run.max_concurrently_running,
              {int(array_id): limit for array_id, limit in run.array_limits.items()})
    if resume or prepared is None:
        return await builder.build_from_workflow_id(
            workflow_id,
            settings.swarm.edge_chunk_size,
            heartbeat=functools.partial(send_heartbeat, requester, settings,
                                        run.workflow_run_id),
            heartbeat_every=settings.heartbeat.workflow_run_interval,
            extras=prepared,
            limits=limits,
        )
    return await builder.build_from_workflow(workflow_id, prepared, limits)


async def _abandon(requester: Requester, run_id: int, error: BaseException) -> None:
    """Record that this run ended early, so a resume need not wait for the reaper.

    Interrupted (Ctrl-C, SIGTERM: the run is cancelled) it is STOPPED, as Jobmon records a
    confirmed Ctrl-C; on an error it is ERROR.
    """
    if isinstance(error, anyio.get_cancelled_exc_class() | KeyboardInterrupt):
        message = "the swarm was interrupted (Ctrl-C or SIGTERM)"
        statuses: tuple[WorkflowRunStatus, ...] = (WRS.STOPPED, WRS.ERROR, WRS.ABORTED)
    else:
        message = f"the swarm stopped on {type(error).__name__}: {error}"[:2000]
        statuses = (WRS.ERROR, WRS.ABORTED)
    for status in statuses:
        try:
            await requester.call(
                endpoints.RUN_STATUS,
                wire.RunStatusRequest(status=str(status), message=message),
                workflow_run_id=run_id,
            )
            return
        except (errors.ServerError, errors.ServerUnavailable):
            continue
