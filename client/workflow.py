"""Workflow: a DAG of tasks that binds to the server and runs to completion."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jobmon import errors
from jobmon import resources as resource_rules
from jobmon import settings as settings_module
from jobmon.client import binder
from jobmon.client.boundary import plain_errors, run_sync
from jobmon.client.connection import open_requester
from jobmon.client.prepare import Prepared, prepare
from jobmon.client.progress import ProgressReporter
from jobmon.client.swarm.result import WorkflowRunResult
from jobmon.client.swarm.runner import run_workflow, start_distributors
from jobmon.client.task import Array, Task
from jobmon.client.task_errors import TaskErrorLog, workflow_errors
from jobmon.requester import Requester
from jobmon.settings import Settings

if TYPE_CHECKING:
    from jobmon.client.tool import Tool

log = logging.getLogger(__name__)


class Workflow:
    """Tasks and their dependencies; ``run()`` binds, then drives it to the end."""

    def __init__(
        self,
        tool: Tool,
        name: str = "",
        workflow_args: str = "",
        max_concurrently_running: int = 10_000,
        default_cluster_name: str | None = None,
        default_compute_resources_set: Mapping[str, Mapping[str, Any]] | None = None,
        description: str = "",
    ) -> None:
        if not isinstance(max_concurrently_running, int) or max_concurrently_running < 1:
            raise ValueError("max_concurrently_running must be a whole number >= 1")
        self.tool = tool
        self.workflow_args = workflow_args or uuid.uuid4().hex
        self.name = name or self.workflow_args
        self.description = description
        self.max_concurrently_running = max_concurrently_running
        self.default_cluster_name = default_cluster_name
        self.default_compute_resources_set: dict[str, dict[str, Any]] = {
            cluster: resource_rules.normalize(values)
            for cluster, values in (default_compute_resources_set or {}).items()
        }
        self.tasks: dict[tuple[str, int, int], Task] = {}
        self._template_limits: dict[str, int] = {}
        self.workflow_id: int | None = None
        self.last_run_message = ""
        self.last_workflow_run_id: int | None = None

    # ------------------------------------------------------------------ building

    def add_task(self, task: Task) -> Task:
        if not isinstance(task, Task):
            raise TypeError(f"add_task takes a Task, not {type(task).__name__}")
        existing = self.tasks.get(task.key)
        if existing is not None and existing is not task:
            raise errors.DuplicateTaskError(
                f"task {task.name!r} has the same template, node args and task args as task "
                f"{existing.name!r}, which is already in the workflow"
            )
        self.tasks[task.key] = task
        return task

    def add_tasks(self, tasks: Iterable[Task] | Array) -> list[Task]:
        return [self.add_task(task) for task in tasks]

    def add_array(self, array: Array) -> list[Task]:
        return self.add_tasks(array)

    def set_task_template_max_concurrency_limit(self, task_template_name: str, limit: int) -> None:
        """At most ``limit`` tasks of this template run at once."""
        if not isinstance(limit, int) or limit < 1:
            raise ValueError("the limit must be a whole number >= 1")
        self._template_limits[task_template_name] = limit

    def set_default_compute_resources_from_dict(
        self, cluster_name: str, compute_resources: Mapping[str, Any]
    ) -> None:
        self.default_compute_resources_set[cluster_name] = resource_rules.normalize(
            compute_resources
        )

    def _spec(self) -> binder.WorkflowSpec:
        return binder.WorkflowSpec(
            name=self.name,
            workflow_args=self.workflow_args,
            description=self.description,
            max_concurrently_running=self.max_concurrently_running,
            default_cluster_name=self.default_cluster_name or "",
            template_limits=dict(self._template_limits),
            attributes=dict(getattr(self, "workflow_attributes", None) or {}),
        )

    # ------------------------------------------------------------------ binding

    async def _bind(self, requester: Requester, prepared: Prepared,
                    progress: ProgressReporter | None = None, resume: bool = False,
                    reset_running: bool = False) -> binder.BindResult:
        result = await binder.bind(
            requester, self.tool.name, self._spec(), prepared,
            progress.bind_progress if progress else None,
            resume=resume, reset_running=reset_running,
        )
        self.workflow_id = result.workflow_id
        return result

    async def bind_async(self, settings: Settings | None = None) -> int:
        with plain_errors():
            prepared = prepare(self)
            async with open_requester(settings) as requester:
                result = await self._bind(requester, prepared)
        return result.workflow_id

    def bind(self) -> int:
        """Create the workflow on the server, or find it; returns its id (idempotent)."""
        return run_sync(self.bind_async)

    # ------------------------------------------------------------------ running

    async def run_async(
        self,
        fail_fast: bool = False,
        seconds_until_timeout: float = 36000,
        resume: bool = False,
        reset_running_jobs: bool = True,
        distributor_startup_timeout: float = 180,
        resume_timeout: float = 300,
        configure_logging: bool = False,
        *,
        cold_resume: bool | None = None,
        show_progress: bool = True,
        settings: Settings | None = None,
    ) -> WorkflowRunResult:
        """Bind, start a run, and drive it to the end, as Jobmon's ``Workflow.run()``.

        Returns the run's final status letter ("D" when every task is DONE, "E" when tasks
        failed, "T" when a resume elsewhere took over, "S" when it was stopped), which also
        carries Jobmon's result fields (``final_status``, ``done_count``, ...). Raises
        ``WorkflowRunTimeout`` (a RuntimeError whose message says "timeout") when
        ``seconds_until_timeout`` passes. ``reset_running_jobs`` (``cold_resume``, its
        older name here): a resume kills the old run's running tasks (cold) or adopts
        them (hot).
        """
        cold = _reset_running(reset_running_jobs, cold_resume)
        seconds = _seconds("seconds_until_timeout", seconds_until_timeout, positive=True)
        _seconds("distributor_startup_timeout", distributor_startup_timeout)
        _seconds("resume_timeout", resume_timeout)
        if configure_logging:
            _configure_logging()
        settings = settings or settings_module.get()
        with plain_errors():
            prepared = prepare(self)
            progress = ProgressReporter(self.name, enabled=show_progress)
            async with open_requester(settings) as requester:
                # the distributors start (an interpreter each) while the workflow binds
                supervisor = await start_distributors(requester, prepared.clusters)
                try:
                    with progress:
                        bound = await self._bind(requester, prepared, progress, resume=resume,
                                                 reset_running=resume and cold)
                except BaseException:
                    await supervisor.stop()
                    raise
                try:
                    with progress:
                        result = await run_workflow(
                            requester, settings, bound.workflow_id, prepared,
                            fail_fast=fail_fast, seconds_until_timeout=seconds, resume=resume,
                            cold_resume=cold, progress=progress, supervisor=supervisor,
                        )
                except errors.WorkflowRunTimeout as error:
                    if isinstance(error.result, WorkflowRunResult):
                        self._after_run(error.result)
                    raise
        self._after_run(result)
        return result

    def run(
        self,
        fail_fast: bool = False,
        seconds_until_timeout: float = 36000,
        resume: bool = False,
        reset_running_jobs: bool = True,
        distributor_startup_timeout: float = 180,
        resume_timeout: float = 300,
        configure_logging: bool = False,
        *,
        cold_resume: bool | None = None,
        show_progress: bool = True,
        timeout: float | None = None,
    ) -> WorkflowRunResult:
        """``run_async`` from synchronous code; SIGTERM stops the run as Ctrl-C does.

        ``timeout`` is another name of ``seconds_until_timeout``, as one example of
        Jobmon's docs writes it (advanced_usage.rst, 'Complete Exception Handling Example').
        """
        return run_sync(
            self.run_async,
            stop_on_sigterm=True,
            fail_fast=fail_fast,
            seconds_until_timeout=seconds_until_timeout if timeout is None else timeout,
            resume=resume,
            reset_running_jobs=reset_running_jobs,
            distributor_startup_timeout=distributor_startup_timeout,
            resume_timeout=resume_timeout,
            configure_logging=configure_logging,
            cold_resume=cold_resume,
            show_progress=show_progress,
        )

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, tasks={len(self.tasks)}, id={self.workflow_id})"

    # ------------------------------------------------------------------ results (Jobmon)

    def _after_run(self, result: WorkflowRunResult) -> None:
        """Each task's ``final_status``, as Jobmon sets them after ``run()``."""
        self.last_run_message = result.message
        self.last_workflow_run_id = result.workflow_run_id
        self._num_previously_completed = result.num_previously_complete
        self._num_newly_completed = result.num_newly_completed
        for task in self.tasks.values():
            if task.task_id is not None and task.task_id in result.task_final_statuses:
                task.final_status = result.task_final_statuses[task.task_id]

    async def get_errors_async(self, limit: int | None = 1000,
                               fatal_only: bool = False) -> dict[int, TaskErrorLog]:
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):
            raise ValueError(f"limit must be a whole number >= 1 or None, not {limit!r}")
        if self.workflow_id is None:  # never bound: no task has failed
            return {}
        async with open_requester() as requester:
            found = await workflow_errors(requester, self.workflow_id, limit, fatal_only)
        return {error.task_id: error.as_jobmon() for error in found}

    def get_errors(self, limit: int | None = 1000) -> dict[int, TaskErrorLog]:
        """{task_id: {"task_instance_id": ..., "error_log": [...]}} of tasks that failed.

        As Jobmon's ``Workflow.get_errors``: the latest failed instance of each task that
        has one (at most ``limit`` tasks; None for all).
        """
        return run_sync(self.get_errors_async, limit=limit)

    @property
    def task_errors(self) -> dict[str, TaskErrorLog]:
        """{task name: its errors} of the tasks that failed for good (ERROR_FATAL)."""
        found = run_sync(self.get_errors_async, limit=None, fatal_only=True)
        names = {task.task_id: task.name for task in self.tasks.values()}
        return {names.get(task_id, str(task_id)): errors_of_task
                for task_id, errors_of_task in found.items()}


def _reset_running(reset_running_jobs: bool, cold_resume: bool | None) -> bool:
    if not isinstance(reset_running_jobs, bool):
        raise TypeError(f"reset_running_jobs must be True or False, not {reset_running_jobs!r}")
    if cold_resume is None:
        return reset_running_jobs
    if not isinstance(cold_resume, bool):
        raise TypeError(f"cold_resume must be True or False, not {cold_resume!r}")
    if not reset_running_jobs and cold_resume:
        raise ValueError("reset_running_jobs=False (hot) contradicts cold_resume=True: "
                         "give one of them")
    return cold_resume


def _seconds(name: str, value: object, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (
            positive and value == 0):
        raise ValueError(f"{name} must be a number of seconds {'>' if positive else '>='} 0, "
                         f"not {value!r}")
    return float(value)


def _configure_logging() -> None:
    """``run(configure_logging=True)``: the client's INFO lines on stderr."""
    client_log = logging.getLogger("jobmon")
    if not client_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        client_log.addHandler(handler)
    client_log.setLevel(logging.INFO)
