"""Workflow: a DAG of tasks that binds to the server and runs to completion."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from jobmon import clusters, errors
from jobmon import resources as resource_rules
from jobmon import settings as settings_module
from jobmon.client import binder, limits
from jobmon.client.array import Array, is_choice, matching
from jobmon.client.connection import open_requester
from jobmon.client.defaults import checked_resources
from jobmon.client.prepare import Prepared, prepare
from jobmon.client.progress import ProgressReporter
from jobmon.client.swarm.runner import run_workflow, start_distributors
from jobmon.client.task import Task, attributes_dict
from jobmon.hashing import args_hash
from jobmon.requester import Requester
from jobmon.settings import Settings

if TYPE_CHECKING:
    from jobmon.client.tool import Tool

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_MAX_CONCURRENTLY_RUNNING = 10_000


class Workflow:
    """Tasks and their dependencies; ``run()`` binds, then drives it to the end."""

    def __init__(
        self,
        tool: Tool,
        workflow_args: str = "",
        name: str = "",
        description: str = "",
        workflow_attributes: list[str] | dict[str, Any] | None = None,
        max_concurrently_running: int | None = None,
        chunk_size: int = 500,
        *,
        default_cluster_name: str | None = None,
        default_compute_resources_set: Mapping[str, Any] | None = None,
        default_resource_scales_set: Mapping[str, Any] | None = None,
        default_max_attempts: int | None = None,
    ) -> None:
        self.tool = tool
        self.workflow_args = limits.check_text(
            "workflow_args", workflow_args or uuid.uuid4().hex, limits.WORKFLOW_ARGS)
        self.name = limits.check_text(
            "the workflow name", name or self.workflow_args[: limits.WORKFLOW_NAME],
            limits.WORKFLOW_NAME)
        self.description = limits.check_text("description", description or "",
                                             limits.DESCRIPTION, empty_ok=True)
        self.max_concurrently_running = limits.check_count(
            "max_concurrently_running",
            DEFAULT_MAX_CONCURRENTLY_RUNNING if max_concurrently_running is None
            else max_concurrently_running,
            limits.MAX_CONCURRENTLY_RUNNING)
        self.chunk_size = chunk_size
        self.workflow_attributes = attributes_dict(workflow_attributes, "workflow_attributes")
        # the workflow's own defaults; what it leaves unset comes from the tool
        self._default_cluster_name = ""
        self._default_max_attempts: int | None = None
        self.own_compute_resources_set: dict[str, dict[str, Any]] = {}
        self.own_resource_scales_set: dict[str, dict[str, Any]] = {}
        if default_cluster_name:
            self.set_default_cluster_name(default_cluster_name)
        if default_max_attempts is not None:
            self.set_default_max_attempts(default_max_attempts)
        for cluster, values in (default_compute_resources_set or {}).items():
            self.set_default_compute_resources_from_dict(cluster, values)
        self._scales_from_argument(default_resource_scales_set)
        self.tasks: dict[tuple[str, int, int], Task] = {}
        # node identity within the workflow: template name -> node args hash -> task
        self._nodes: dict[str, dict[int, Task]] = {}
        self._arrays: dict[str, Array] = {}
        self._template_limits: dict[str, int] = {}
        self.workflow_id: int | None = None
        self.last_run_message = ""

    def _scales_from_argument(self, scales_set: Mapping[str, Any] | None) -> None:
        """Per cluster ({cluster: {key: scale}}) or, as Jobmon's create_workflow takes it,
        for the default cluster ({key: scale})."""
        if not scales_set:
            return
        if all(isinstance(value, Mapping) for value in scales_set.values()):
            for cluster, scales in scales_set.items():
                self.set_default_resource_scales_from_dict(cluster, scales)
            return
        cluster = self.default_cluster_name
        if not cluster:
            raise ValueError(
                "default_resource_scales_set without clusters needs default_cluster_name")
        self.set_default_resource_scales_from_dict(cluster, scales_set)

    # ------------------------------------------------------------------ defaults

    @property
    def default_cluster_name(self) -> str:
        """The workflow's default cluster, else the tool's."""
        return self._default_cluster_name or self.tool.default_cluster_name

    @default_cluster_name.setter
    def default_cluster_name(self, cluster_name: str) -> None:
        self.set_default_cluster_name(cluster_name)

    def set_default_cluster_name(self, cluster_name: str) -> None:
        if cluster_name:
            clusters.check_cluster(cluster_name)
        self._default_cluster_name = cluster_name or ""

    @property
    def default_max_attempts(self) -> int | None:
        """The workflow's default max attempts, else the tool's."""
        return self._default_max_attempts or self.tool.default_max_attempts

    def set_default_max_attempts(self, value: int) -> None:
        self._default_max_attempts = limits.check_count("max_attempts", value,
                                                        limits.MAX_ATTEMPTS)

    @property
    def default_compute_resources_set(self) -> dict[str, dict[str, Any]]:
        """The workflow's own defaults by cluster, else (none set) the tool's."""
        return self.own_compute_resources_set or self.tool.default_compute_resources_set

    @default_compute_resources_set.setter
    def default_compute_resources_set(self, value: Mapping[str, Mapping[str, Any]]) -> None:
        self.own_compute_resources_set = {}
        for cluster, resources in value.items():
            self.set_default_compute_resources_from_dict(cluster, resources)

    @property
    def default_resource_scales_set(self) -> dict[str, dict[str, Any]]:
        return self.own_resource_scales_set or self.tool.default_resource_scales_set

    def set_default_compute_resources_from_dict(
        self, cluster_name: str, dictionary: Mapping[str, Any]
    ) -> None:
        clusters.check_cluster(cluster_name)
        self.own_compute_resources_set[cluster_name] = checked_resources(dictionary)

    def set_default_resource_scales_from_dict(
        self, cluster_name: str, dictionary: Mapping[str, Any]
    ) -> None:
        clusters.check_cluster(cluster_name)
        self.own_resource_scales_set[cluster_name] = resource_rules.prepare_scales(dictionary)

    def add_attributes(self, workflow_attributes: Mapping[str, Any]) -> None:
        """Add attributes, or change the value of ones it has."""
        self.workflow_attributes.update(
            attributes_dict(workflow_attributes, "workflow_attributes"))

    # ------------------------------------------------------------------ building

    def add_task(self, task: Task) -> Task:
        """Add a task: each once, and one task per template and node args."""
        if not isinstance(task, Task):
            raise TypeError(f"add_task takes a Task, not {type(task).__name__}")
        existing = self.tasks.get(task.key)
        if existing is not None:
            raise errors.DuplicateTaskError(
                f"task {task.name!r} is already in the workflow"
                + ("" if existing is task else f" as task {existing.name!r} (the same "
                   "template, node args and task args)")
                + f"; add each task once (command: {task.command[:200]!r})"
            )
        template_name = task.template.template_name
        nodes = self._nodes.setdefault(template_name, {})
        same_node = nodes.get(task.node_args_hash)
        if same_node is not None:
            raise errors.DuplicateNodeArgsError(
                f"task {task.name!r} has the same node args as task {same_node.name!r}: all "
                f"tasks of template {template_name!r} in a workflow must have unique node "
                f"args, found node_args={task.node_args}"
            )
        if task.array is None:  # as Jobmon infers an array per template
            array = self._arrays.get(template_name)
            if array is None:
                array = self._arrays[template_name] = Array(task.template, [])
                array.workflow = self
            array.tasks.append(task)
            task.array = array
        else:
            self._arrays.setdefault(template_name, task.array)
            task.array.workflow = self
        nodes[task.node_args_hash] = task
        self.tasks[task.key] = task
        task._workflow = self
        return task

    def add_tasks(self, tasks: Iterable[Task]) -> list[Task]:
        if not isinstance(tasks, Iterable):
            raise TypeError(f"add_tasks takes a list of Tasks, not {type(tasks).__name__}")
        return [self.add_task(task) for task in tasks]

    def add_array(self, array: Array | Iterable[Task]) -> list[Task]:
        return self.add_tasks(array)

    @property
    def arrays(self) -> dict[str, Array]:
        """The array of each template in the workflow."""
        return dict(self._arrays)

    def get_tasks_by_node_args(self, task_template_name: str, **node_args: Any) -> list[Task]:
        """Tasks of the template whose node args match (a list of values matches any)."""
        nodes = self._nodes.get(task_template_name)
        if not nodes:
            raise ValueError(
                f"task_template_name={task_template_name} not found on workflow. Known "
                f"template_names are {sorted(self._nodes)}."
            )
        template = next(iter(nodes.values())).template
        if set(node_args) == set(template.node_args) and not any(
                is_choice(value) for value in node_args.values()):
            found = nodes.get(args_hash(node_args))  # one node: found by its identity
            return [found] if found is not None else []
        return matching(nodes.values(), template, node_args)

    def set_task_template_max_concurrency_limit(self, task_template_name: str,
                                                limit: int) -> None:
        """At most ``limit`` tasks of this template run at once."""
        if task_template_name not in self._nodes:
            raise KeyError(
                f"There is no task_template named '{task_template_name}' associated with this "
                f"workflow (workflow {self.name!r}): add its tasks first"
            )
        self._template_limits[task_template_name] = limits.check_count(
            "the limit", limit, limits.MAX_CONCURRENTLY_RUNNING)

    def _spec(self) -> binder.WorkflowSpec:
        return binder.WorkflowSpec(
            name=self.name,
            workflow_args=self.workflow_args,
            description=self.description,
            max_concurrently_running=self.max_concurrently_running,
            default_cluster_name=self.default_cluster_name,
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
