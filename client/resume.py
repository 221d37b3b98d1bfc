"""Resume a workflow from the database alone (Jobmon's ``jobmon workflow_resume``).

The steps, as Jobmon takes them: tell the old run to stop (cold: kill its instances) and
wait, up to ``timeout`` seconds, until it has; scale the resources of tasks whose last
attempt hit a resource error (``increase_resource``); then run the workflow with the
runner every run uses. Two resumes started at once: the later one takes over, and the
earlier one ends with one line saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from jobmon import endpoints, errors, wire
from jobmon import wire_operator as wo
from jobmon.client.connection import open_requester
from jobmon.client.progress import ProgressReporter
from jobmon.client.swarm.result import WorkflowRunResult
from jobmon.client.swarm.runner import run_workflow
from jobmon.errors import InvalidWorkflow, ResumeTakenOver, WorkflowNotResumable
from jobmon.requester import Requester
from jobmon.settings import Settings
from jobmon.status import WorkflowRunStatus

WRS = WorkflowRunStatus
# seconds between looks at the runs of the workflow, and the longest wait for the resume
# that took over to start its run
POLL = 0.5
WINNER_WAIT = 10.0


@dataclass(frozen=True)
class ResumeOptions:
    cluster_name: str
    # kill the old run's running instances (Jobmon's --reset-running-jobs) or let them finish
    cold: bool = False
    # seconds to wait for the old run to stop (Jobmon's -t/--timeout)
    timeout: float = 180.0
    # seconds the resumed run may take (Jobmon's --seconds-until-timeout)
    seconds_until_timeout: float = 36000.0
    # scale the resources of tasks whose last attempt hit a resource error
    increase_resource: bool = True
    show_progress: bool = True


async def resume_workflow(settings: Settings, workflow_id: int,
                          options: ResumeOptions) -> WorkflowRunResult:
    async with open_requester(settings) as requester:
        info = await requester.call(endpoints.WORKFLOW, workflow_id=workflow_id)
        await _check_cluster(requester, workflow_id, options.cluster_name)
        await wait_until_resumable(requester, workflow_id, options.cold, options.timeout)
        with ProgressReporter(info.name, enabled=options.show_progress) as progress:
            if options.increase_resource:
                increased = await requester.call(endpoints.INCREASE_RESOURCES,
                                                 workflow_id=workflow_id)
                if increased.task_ids:
                    progress.message(
                        f"workflow {workflow_id}: scaled the resources of "
                        f"{len(increased.task_ids)} task(s) whose last attempt hit a "
                        "resource error")
            before = info.latest_run_id or 0
            try:
                outcome = await run_workflow(
                    requester, settings, workflow_id, None, fail_fast=False,
                    seconds_until_timeout=options.seconds_until_timeout, resume=True,
                    cold_resume=options.cold, progress=progress,
                )
            except BaseException as error:
                lost = (await _taken_over(requester, workflow_id, before)
                        if _transition_error(error) is not None else None)
                if lost is None:
                    raise
                raise lost from None
            if outcome.final_status == WRS.TERMINATED:  # a resume elsewhere took over
                lost = await _taken_over(requester, workflow_id, before)
                if lost is not None:
                    raise lost
            return outcome


async def _check_cluster(requester: Requester, workflow_id: int, cluster_name: str) -> None:
    page = await requester.call(endpoints.TASKS, params={"limit": 1}, workflow_id=workflow_id)
    clusters = {config.cluster_name for config in page.configs}
    if clusters and cluster_name not in clusters:
        raise InvalidWorkflow(
            f"workflow {workflow_id} runs on {', '.join(sorted(clusters))}, not on "
            f"{cluster_name!r}"
        )


async def wait_until_resumable(requester: Requester, workflow_id: int, cold: bool,
                               wait_seconds: float) -> None:
    """Tell the live runs to stop, then wait until none is left; WorkflowNotResumable
    after ``wait_seconds``."""
    state = await requester.call(endpoints.RESUME_SIGNAL,
                                 wo.ResumeSignalRequest(cold=cold), workflow_id=workflow_id)
    with anyio.move_on_after(wait_seconds):
        while not state.resumable:
            await anyio.sleep(min(POLL, max(0.1, wait_seconds / 20)))
            state = await requester.call(endpoints.RESUMABLE, workflow_id=workflow_id)
    if not state.resumable:
        shown = ", ".join(f"run {run.workflow_run_id} of {run.user} is "
                          f"{WRS(run.status).name}" for run in state.waiting_for)
        raise WorkflowNotResumable(
            f"workflow {workflow_id} did not become resumable within {wait_seconds:g} s: "
            f"{shown}, "
            "and its swarm has not stopped yet. Try again in a few minutes, or give a longer "
            "-t/--timeout"
        )


def _transition_error(error: BaseException) -> errors.ServerError | None:
    """The refused run transition inside ``error``: another resume took this run over."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _transition_error(inner)
            if found is not None:
                return found
        return None
    if isinstance(error, errors.ServerError) and error.code == errors.CODE_TRANSITION:
        return error
    return None


async def _taken_over(requester: Requester, workflow_id: int,
                      before: int) -> ResumeTakenOver | None:
    """The error to end with if another resume took over from this one: a run made since
    this resume began went to C or H (a resume told it to stop). The other resume starts
    its run once this one has stopped: it is waited for a few seconds, to name it."""
    taken: list[wire.RunDetail] = []
    winners: list[wire.RunDetail] = []
    with anyio.move_on_after(WINNER_WAIT):
        while True:
            answer = await requester.call(endpoints.WORKFLOW_RUNS, workflow_id=workflow_id)
            since = sorted((run for run in answer.runs if run.workflow_run_id > before),
                           key=lambda run: run.workflow_run_id)
            taken = [run for run in since if any(
                row.status in (WRS.COLD_RESUME, WRS.HOT_RESUME) for row in run.timeline)]
            winners = [run for run in since if run not in taken]
            if not taken or winners:
                break
            await anyio.sleep(POLL)
    if not taken:
        return None
    if winners:
        winner = winners[-1]
        who = (f"run {winner.workflow_run_id} of {winner.user} took over and is "
               f"{WRS(winner.status).name} now")
    else:
        who = "another resume asked this run to stop so that it could take over"
    losers = ", ".join(f"run {run.workflow_run_id}" for run in taken)
    return ResumeTakenOver(
        f"workflow {workflow_id} was resumed twice at once: {who}, so this resume "
        f"({losers}) stopped; follow it with `jobmon workflow_status -w {workflow_id}`"
    )
