"""Workflow: a DAG of tasks that binds to the server and runs to completion."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from jobmon import errors
from jobmon import resources as resource_rules
from jobmon import settings as settings_module
from jobmon.client import binder
from jobmon.client.connection import open_requester
from jobmon.client.prepare import Prepared, prepare
from jobmon.client.progress import ProgressReporter
from jobmon.client.swarm.runner import run_workflow, start_distributors
from jobmon.client.task import Array, Task
from jobmon.requester import Requester
from jobmon.settings import Settings

if TYPE_CHECKING:
    from jobmon.client.tool import Tool

log = logging.getLogger(__name__)
T = TypeVar("T")


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
        )

    # ------------------------------------------------------------------ binding

    async def _bind(self, requester: Requester, prepared: Prepared,
                    progress: ProgressReporter | None = None) -> binder.BindResult:
        result = await binder.bind(
            requester, self.tool.name, self._spec(), prepared,
            progress.bind_progress if progress else None,
        )
        self.workflow_id = result.workflow_id
        return result

    async def bind_async(self, settings: Settings | None = None) -> int:
        prepared = prepare(self)
        async with open_requester(settings) as requester:
            result = await self._bind(requester, prepared)
        return result.workflow_id

    def bind(self) -> int:
        """Create the workflow on the server, or find it; returns its id (idempotent)."""
        return _run_sync(self.bind_async)

    # ------------------------------------------------------------------ running

    async def run_async(
        self,
        fail_fast: bool = False,
        seconds_until_timeout: float = 36000,
        resume: bool = False,
        cold_resume: bool = True,
        settings: Settings | None = None,
        show_progress: bool = True,
    ) -> str:
        """Bind, start a run, and drive it to the end; returns the final status letter."""
        settings = settings or settings_module.get()
        prepared = prepare(self)
        progress = ProgressReporter(self.name, enabled=show_progress)
        async with open_requester(settings) as requester:
            # the distributors start (an interpreter each) while the workflow binds
            supervisor = await start_distributors(requester, prepared.clusters)
            try:
                with progress:
                    bound = await self._bind(requester, prepared, progress)
            except BaseException:
                await supervisor.stop()
                raise
            with progress:
                outcome = await run_workflow(
                    requester,
                    settings,
                    bound.workflow_id,
                    prepared,
                    fail_fast=fail_fast,
                    seconds_until_timeout=seconds_until_timeout,
                    resume=resume,
                    cold_resume=cold_resume,
                    progress=progress,
                    supervisor=supervisor,
                )
        self.last_run_message = outcome.message
        return outcome.status

    def run(
        self,
        fail_fast: bool = False,
        seconds_until_timeout: float = 36000,
        resume: bool = False,
        cold_resume: bool = True,
        show_progress: bool = True,
    ) -> str:
        """``run_async`` from synchronous code."""
        return _run_sync(
            self.run_async,
            fail_fast=fail_fast,
            seconds_until_timeout=seconds_until_timeout,
            resume=resume,
            cold_resume=cold_resume,
            show_progress=show_progress,
        )

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, tasks={len(self.tasks)}, id={self.workflow_id})"


def _run_sync(function: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
    try:
        anyio.get_current_task()
    except RuntimeError:
        return anyio.run(lambda: function(**kwargs))
    raise RuntimeError(
        "Workflow.run() and bind() cannot be called from inside an event loop: "
        "await run_async() / bind_async() instead"
    )
