"""Array: the tasks of one ``create_tasks`` call, or of one template in a workflow."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from jobmon import resources as resource_rules
from jobmon.client.defaults import default_layers, resolved_cluster

if TYPE_CHECKING:
    from jobmon.client.task import Task
    from jobmon.client.task_template import TaskTemplate
    from jobmon.client.workflow import Workflow

NAME_LIMIT = 255  # as Jobmon cuts an array's default name


def is_choice(value: object) -> bool:
    """A node arg value that stands for several values: a list, tuple, set, range, ..."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


def matching(tasks: Iterable[Task], template: TaskTemplate,
             node_args: Mapping[str, Any]) -> list[Task]:
    """The tasks whose node args match: each given value, or one of a list of values.

    Values compare as text, as identity does (year=2020 and year="2020" are one node).
    """
    unknown = sorted(set(node_args) - set(template.node_args))
    if unknown:
        raise ValueError(
            f"template {template.template_name!r} has no node arg {', '.join(unknown)} "
            f"(its node args: {', '.join(template.node_args) or 'none'})"
        )
    wanted = {key: {str(v) for v in value} if is_choice(value) else {str(value)}
              for key, value in node_args.items()}
    return [task for task in tasks
            if all(str(task.node_arg_values()[key]) in values
                   for key, values in wanted.items())]


class Array:
    """Tasks of one template that share their settings; ``create_tasks`` returns its tasks
    as a list, and each task's ``array`` is this."""

    def __init__(
        self,
        template: TaskTemplate,
        tasks: list[Task],
        max_concurrently_running: int | None = None,
        name: str | None = None,
        compute_resources: Mapping[str, Any] | None = None,
        cluster_name: str | None = None,
        max_attempts: int | None = None,
        resource_scales: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = template
        self.tasks = tasks
        self.max_concurrently_running = max_concurrently_running
        self._name = name or template.template_name[: NAME_LIMIT - 1]
        self._compute_resources = compute_resources
        self._cluster_name = cluster_name or None
        self._max_attempts = max_attempts
        self._resource_scales = resource_scales
        self._workflow: Workflow | None = None
        for task in tasks:
            task.array = self

    @property
    def name(self) -> str:
        return self._name

    @property
    def workflow(self) -> Workflow:
        if self._workflow is None:
            raise AttributeError(
                f"array {self.name!r} has no workflow yet: add its tasks to one")
        return self._workflow

    @workflow.setter
    def workflow(self, workflow: Workflow) -> None:
        self._workflow = workflow

    @property
    def cluster_name(self) -> str:
        return resolved_cluster(self._cluster_name, self.template, self._workflow)

    @property
    def max_attempts(self) -> int | None:
        """The array's own, else its workflow's default; None when neither says."""
        if self._max_attempts:
            return self._max_attempts
        return self._workflow.default_max_attempts if self._workflow is not None else None

    @property
    def compute_resources(self) -> dict[str, Any]:
        """Its tasks' resources on its cluster before each task's own (a new dict each time)."""
        return resource_rules.merge(
            *default_layers(self.template, self._workflow, self.cluster_name),
            self._compute_resources)

    @property
    def resource_scales(self) -> dict[str, Any]:
        return resource_rules.merge(
            *default_layers(self.template, self._workflow, self.cluster_name, scales=True),
            self._resource_scales)

    def get_tasks_by_node_args(self, **node_args: Any) -> list[Task]:
        """Its tasks whose node args match (a list of values matches any of them)."""
        return matching(self.tasks, self.template, node_args)

    @staticmethod
    def expand_dict(**kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every combination of the given values, each value a list of choices."""
        if not kwargs:
            return
        names = list(kwargs)
        for combination in itertools.product(*kwargs.values()):
            yield dict(zip(names, combination, strict=True))

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, index: int) -> Task:
        return self.tasks[index]

    def __repr__(self) -> str:
        return f"Array(name={self.name!r}, tasks={len(self.tasks)})"
