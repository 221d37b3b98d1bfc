"""Task and Array: what a TaskTemplate creates and a Workflow runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobmon.client.task_template import TaskTemplate

ResourcesSpec = Mapping[str, Any] | Callable[[], Mapping[str, Any]]


class Task:
    """One shell command with its identity (template, node args, task args) and dependencies."""

    __slots__ = (
        "array",
        "cluster_name",
        "command",
        "compute_resources",
        "fallback_queues",
        "key",
        "max_attempts",
        "name",
        "node_args",
        "node_args_hash",
        "op_args",
        "resource_scales",
        "task_args",
        "task_args_hash",
        "task_id",
        "template",
        "upstream_tasks",
    )

    def __init__(
        self,
        *,
        template: TaskTemplate,
        node_args: dict[str, Any],
        task_args: dict[str, Any],
        op_args: dict[str, Any],
        node_args_hash: int,
        task_args_hash: int,
        command: str,
        name: str,
        upstream_tasks: Iterable[Task] = (),
        max_attempts: int | None = None,
        compute_resources: ResourcesSpec | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        fallback_queues: Sequence[str] | None = None,
        cluster_name: str | None = None,
    ) -> None:
        self.template = template
        self.node_args = node_args
        self.task_args = task_args
        self.op_args = op_args
        self.node_args_hash = node_args_hash
        self.task_args_hash = task_args_hash
        # identity within a workflow: (template name, node args hash, task args hash)
        self.key: tuple[str, int, int] = (template.template_name, node_args_hash,
                                          task_args_hash)
        self.command = command
        self.name = name
        self.upstream_tasks: list[Task] = []
        for upstream in upstream_tasks:
            self.add_upstream(upstream)
        self.max_attempts = max_attempts
        self.compute_resources = compute_resources
        self.resource_scales = resource_scales
        self.fallback_queues = fallback_queues
        self.cluster_name = cluster_name
        self.task_id: int | None = None
        self.array: Array | None = None

    def add_upstream(self, task: Task) -> None:
        if not isinstance(task, Task):
            raise TypeError(f"upstream of {self.name!r} must be a Task, not {type(task).__name__}")
        if task is self:
            raise ValueError(f"task {self.name!r} cannot depend on itself")
        self.upstream_tasks.append(task)

    def add_downstream(self, task: Task) -> None:
        task.add_upstream(self)

    def __repr__(self) -> str:
        return f"Task(name={self.name!r}, task_id={self.task_id})"

    def resource_usage(self) -> dict[str, Any]:
        """Jobmon's dict of the task's DONE instance: memory (max RSS, bytes), nodename,
        num_attempts and runtime (seconds); all None while no instance is DONE."""
        from jobmon.client import usage
        from jobmon.client.blocking import call
        from jobmon.errors import InvalidWorkflow

        if self.task_id is None:
            raise InvalidWorkflow(f"task {self.name!r} has no resource usage yet: bind or run "
                                  "its workflow first")
        return usage.jobmon_task_usage(call(usage.task_usage, self.task_id))


class Array:
    """The tasks one ``create_tasks`` call made: the product of its list-valued args."""

    def __init__(self, template: TaskTemplate, tasks: list[Task],
                 max_concurrently_running: int | None) -> None:
        self.template = template
        self.tasks = tasks
        self.max_concurrently_running = max_concurrently_running
        for task in tasks:
            task.array = self

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, index: int) -> Task:
        return self.tasks[index]

    def __repr__(self) -> str:
        return f"Array(template={self.template.template_name!r}, tasks={len(self.tasks)})"
