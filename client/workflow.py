"""Workflow: a DAG of tasks that binds to the server and runs to completion."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jobmon import clusters, endpoints, errors, wire
from jobmon import resources as resource_rules
from jobmon import settings as settings_module
from jobmon.client import binder, limits
from jobmon.client.array import Array, is_choice, matching
from jobmon.client.boundary import plain_errors, run_sync
from jobmon.client.chain import Linker, linker_reference, resolve_linker, run_chain
from jobmon.client.collector import collector_paused, kept_out_of_collection
from jobmon.client.connection import open_requester
from jobmon.client.defaults import checked_resources
from jobmon.client.prepare import Prepared, prepare
from jobmon.client.progress import ProgressReporter
from jobmon.client.results import Declarations, Declaring
from jobmon.client.swarm.result import WorkflowRunResult
from jobmon.client.swarm.runner import run_workflow, start_distributors
from jobmon.client.task import Task, attributes_dict
from jobmon.client.task_errors import TaskErrorLog, workflow_errors
from jobmon.hashing import args_hash
from jobmon.requester import Requester
from jobmon.settings import Settings

if TYPE_CHECKING:
    from jobmon.client.tool import Tool

log = logging.getLogger(__name__)
DEFAULT_MAX_CONCURRENTLY_RUNNING = 10_000


class Workflow(Declaring):
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
        self.last_workflow_run_id: int | None = None
        # a chain: what makes the follow-on once this one is DONE (set_next)
        self.linker: Linker | None = None
        self.linker_reference: str | None = None
        # called with the workflow id once bound, before the run starts (chain bookkeeping)
        self.on_bound: Callable[[int], Awaitable[None]] | None = None
        # typed parameters, promised results, finished runs taken as input
        self.declarations = Declarations()

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
        """Add attributes, or change the value of ones it has; a bound workflow's are
        stored on the server at once, as Jobmon's are."""
        added = attributes_dict(workflow_attributes, "workflow_attributes")
        self.workflow_attributes.update(added)
        if self.workflow_id is not None:
            run_sync(self._store_attributes, attributes=added)

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
        if isinstance(tasks, list | tuple):  # no code of the caller's runs in between
            with collector_paused():
                return [self.add_task(task) for task in tasks]
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
            attributes=dict(self.workflow_attributes),
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
        if self.declarations.declared():
            await self.declarations.store(requester, result.workflow_id)
        return result

    async def bind_async(self, settings: Settings | None = None) -> int:
        self.declarations.values()  # bad parameters: an error before anything is sent
        with plain_errors():
            prepared = prepare(self)
            async with open_requester(settings) as requester:
                result = await self._bind(requester, prepared)
        return result.workflow_id

    def bind(self) -> int:
        """Create the workflow on the server, or find it; returns its id (idempotent)."""
        return run_sync(self.bind_async)

    # ------------------------------------------------------------------ chains

    def set_next(self, linker: Linker | str) -> None:
        """Chain a follow-on: once this workflow is DONE, ``linker`` (a function, or its
        "module:function" name) gets a ``FinishedWorkflow`` (its outputs and results) and
        returns the next Workflow, or None to end the chain; ``run()`` then runs that one.
        A linker in an importable module lets ``jobmon workflow resume`` go on as well."""
        self.linker_reference = linker_reference(linker)
        self.linker = resolve_linker(linker) if isinstance(linker, str) else linker

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
        if self.linker is not None:  # the first of a chain: run_chain runs each link
            async with open_requester(settings) as requester:
                return await run_chain(
                    requester, self, resume,
                    lambda workflow, resume_it: workflow._run_one(
                        fail_fast, seconds, resume_it, cold, settings, show_progress))
        return await self._run_one(fail_fast, seconds, resume, cold, settings, show_progress)

    async def _run_one(self, fail_fast: bool, seconds: float, resume: bool, cold: bool,
                       settings: Settings, show_progress: bool) -> WorkflowRunResult:
        """Bind, start a run, and drive it to the end (one workflow, whatever follows)."""
        self.declarations.values()  # bad parameters: an error before anything is sent
        with plain_errors():
            prepared = prepare(self)
            progress = ProgressReporter(self.name, enabled=show_progress)
            # the tasks live through the run: out of the collector's passes meanwhile
            with kept_out_of_collection():
                return await self._bind_and_run(prepared, progress, fail_fast, seconds,
                                                resume, cold, settings)

    async def _bind_and_run(self, prepared: Prepared, progress: ProgressReporter,
                            fail_fast: bool, seconds: float, resume: bool, cold: bool,
                            settings: Settings) -> WorkflowRunResult:
        async with open_requester(settings) as requester:
            # the distributors start (an interpreter each) while the workflow binds
            supervisor = await start_distributors(requester, prepared.clusters,
                                                  settings=settings)
            try:
                with progress:
                    bound = await self._bind(requester, prepared, progress, resume=resume,
                                             reset_running=resume and cold)
                if self.on_bound is not None:
                    await self.on_bound(bound.workflow_id)
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

    async def _store_attributes(self, attributes: dict[str, str | None]) -> None:
        async with open_requester() as requester:
            await requester.call(endpoints.ADD_ATTRIBUTES,
                                 wire.AttributesRequest(attributes=attributes),
                                 workflow_id=self.workflow_id)

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
