"""Checks a workflow and turns it into what binding sends; raises before anything is sent."""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobmon import clusters
from jobmon import resources as resource_rules
from jobmon.client.collector import collector_paused
from jobmon.client.dag import find_cycle_csr
from jobmon.client.defaults import default_layers
from jobmon.client.task import DEFAULT_MAX_ATTEMPTS, Task
from jobmon.client.task_template import TaskTemplate
from jobmon.errors import (
    CyclicGraphError,
    EmptyWorkflowError,
    InvalidResources,
    InvalidWorkflow,
    MissingUpstreamError,
    NodeDependencyNotExistError,
)
from jobmon.hashing import task_set_hash
from jobmon.wire import TaskConfig

if TYPE_CHECKING:
    from jobmon.client.workflow import Workflow

__all__ = ["DEFAULT_MAX_ATTEMPTS", "Prepared", "prepare"]


@dataclass
class Prepared:
    """A checked workflow: tasks in order, their shared configs, and the graph by index.

    The graph is flat: the upstreams of task ``i`` are
    ``up_targets[up_offsets[i]:up_offsets[i + 1]]`` (positions in ``tasks``).
    """

    tasks: list[Task]
    templates: list[TaskTemplate]
    configs: list[TaskConfig]
    config_index: list[int]
    up_offsets: array[int]
    up_targets: array[int]
    task_hash: str
    clusters: set[str]
    dynamic_resources: dict[int, Callable[[], Mapping[str, Any]]] = field(default_factory=dict)
    scale_overrides: dict[int, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def num_edges(self) -> int:
        return len(self.up_targets)

    @property
    def upstreams(self) -> list[list[int]]:
        """Each task's upstreams as a list of positions (a new list of lists)."""
        offsets, targets = self.up_offsets, self.up_targets
        return [list(targets[offsets[i]:offsets[i + 1]]) for i in range(len(self.tasks))]


def _cluster_of(task: Task, workflow: Workflow) -> str:
    name = (
        task._cluster_name
        or task.template.default_cluster_name
        or workflow.default_cluster_name
    )
    if not name:
        raise InvalidWorkflow(
            f"task {task.name!r} has no cluster: give cluster_name, or default_cluster_name on "
            "its template, the workflow or the tool"
        )
    return name


class _Layers:
    """The default layers of one workflow, each read in canonical form once."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self._normalized: dict[int, dict[str, Any]] = {}

    def normal(self, layer: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if layer is None:
            return None
        found = self._normalized.get(id(layer))
        if found is None:
            found = self._normalized[id(layer)] = resource_rules.normalize(layer)
        return found

    def resources(self, task: Task, cluster: str) -> dict[str, Any]:
        own = task._compute_resources
        return resource_rules.merge(
            *(self.normal(layer) for layer in default_layers(task.template, self.workflow,
                                                             cluster)),
            resource_rules.normalize(own) if own is not None else None,
        )

    def scales(self, task: Task, cluster: str) -> dict[str, Any]:
        return resource_rules.merge(
            *default_layers(task.template, self.workflow, cluster, scales=True),
            task._resource_scales,
        ) or dict(resource_rules.DEFAULT_RESOURCE_SCALES)

    def max_attempts(self, task: Task) -> int:
        """Task, then template, then workflow, then tool, then 3."""
        return (task._max_attempts or task.template.own_max_attempts
                or self.workflow.default_max_attempts or DEFAULT_MAX_ATTEMPTS)


def _config_of(
    task: Task, layers: _Layers, cluster: str
) -> tuple[TaskConfig, Mapping[str, Any] | None]:
    try:
        merged = clusters.for_cluster(cluster, layers.resources(task, cluster))
        scales = layers.scales(task, cluster)
        max_attempts = layers.max_attempts(task)
        wire_scales = resource_rules.scales_to_wire(scales, max_attempts)
        resource_rules.try_scales(scales, merged)
    except InvalidResources as error:
        raise type(error)(f"task {task.name!r}: {error}") from None
    config = TaskConfig(
        cluster_name=cluster,
        compute_resources=merged,
        resource_scales=wire_scales,
        fallback_queues=list(task._fallback_queues or ()),
        max_attempts=max_attempts,
    )
    callables = {key: spec for key, spec in scales.items()
                 if callable(spec) and not isinstance(spec, resource_rules.ScaleValues)}
    return config, ({**wire_scales, **callables} if callables else None)


def _graph(tasks: list[Task]) -> tuple[array[int], array[int]]:
    """Each task's upstreams as positions in ``tasks`` (offsets, targets); raises for one
    not in the workflow, upstream or downstream, as Jobmon checks both."""
    # the same Task objects are upstream of many tasks: look them up by identity first;
    # a task equal to one in the workflow (same template, node and task args) is that task
    by_object = {id(task): i for i, task in enumerate(tasks)}
    by_key: dict[tuple[str, int, int], int] | None = None

    def position(task: Task) -> int | None:
        nonlocal by_key
        index = by_object.get(id(task))
        if index is None:
            if by_key is None:
                by_key = {other.key: i for i, other in enumerate(tasks)}
            index = by_key.get(task.key)
            if index is not None and tasks[index] != task:
                index = None
        return index

    offsets = array("q", [0])
    targets = array("q")
    for task in tasks:
        held = task._upstream
        for upstream in (() if held is None else held if isinstance(held, set) else (held,)):
            index = by_object.get(id(upstream))
            if index is None and (index := position(upstream)) is None:
                raise MissingUpstreamError(
                    f"Upstream task {upstream.name!r} of task {task.name!r} was never added "
                    "to the workflow: add it with add_task(), or remove the dependency"
                )
            targets.append(index)
        held = task._downstream
        for downstream in (() if held is None else held if isinstance(held, set) else (held,)):
            if id(downstream) not in by_object and position(downstream) is None:
                raise NodeDependencyNotExistError(
                    f"Downstream task {downstream.name!r} of task {task.name!r} was never "
                    "added to the workflow: add it with add_task(), or remove the dependency"
                )
        offsets.append(len(targets))
    return offsets, targets


def _settings_key(task: Task, cluster: str) -> tuple[Any, ...] | None:
    """What decides a task's config, hashable; None when it cannot be told cheaply."""
    resources = task._compute_resources
    if resources is None:
        frozen: Any = None
    else:
        try:
            frozen = frozenset(resources.items())
        except TypeError:  # an unhashable value: work this task's config out in full
            return None
    return (id(task.template), cluster, frozen, id(task._resource_scales), task._max_attempts,
            tuple(task._fallback_queues or ()))


def prepare(workflow: Workflow) -> Prepared:
    """Check the workflow (upstreams present, no cycle, clusters and resources valid)."""
    with collector_paused():
        return _prepare(workflow)


def _prepare(workflow: Workflow) -> Prepared:
    tasks = list(workflow.tasks.values())
    if not tasks:
        raise EmptyWorkflowError(
            f"workflow {workflow.name!r} has no tasks: add them with add_task() or add_tasks() "
            "before bind() or run()")
    up_offsets, up_targets = _graph(tasks)
    cycle = find_cycle_csr(len(tasks), up_offsets, up_targets)
    if cycle is not None:
        path = " -> ".join(repr(tasks[i].name) for i in cycle)
        raise CyclicGraphError(
            f"Cycle detected in the task graph: {path}. Dependencies must flow one way only")

    configs: list[TaskConfig] = []
    config_position: dict[str, int] = {}
    config_index: list[int] = []
    used_clusters: set[str] = set()
    prepared = Prepared(tasks=tasks, templates=[], configs=configs, config_index=config_index,
                        up_offsets=up_offsets, up_targets=up_targets, task_hash="",
                        clusters=used_clusters)
    templates: dict[str, TaskTemplate] = {}
    known_settings: dict[tuple[Any, ...], int] = {}
    layers = _Layers(workflow)
    for i, task in enumerate(tasks):
        seen = templates.setdefault(task.template.template_name, task.template)
        if seen is not task.template:
            raise InvalidWorkflow(
                f"two different templates named {task.template.template_name!r} in one "
                "workflow: get templates once from the tool and reuse them"
            )
        cluster = _cluster_of(task, workflow)
        used_clusters.add(cluster)
        # the tasks of an array nearly always share their settings: work each set out once
        settings_key = _settings_key(task, cluster)
        index = known_settings.get(settings_key) if settings_key is not None else None
        if index is None:
            config, overrides = _config_of(task, layers, cluster)
            key = json.dumps(
                [config.cluster_name, config.compute_resources, config.resource_scales,
                 config.fallback_queues, config.max_attempts,
                 sorted((k, id(v)) for k, v in (overrides or {}).items() if callable(v))],
                sort_keys=True,
            )
            index = config_position.get(key)
            if index is None:
                index = config_position[key] = len(configs)
                configs.append(config)
                if overrides is not None:
                    prepared.scale_overrides[index] = overrides
            if settings_key is not None:
                known_settings[settings_key] = index
        config_index.append(index)
        if task.compute_resources_callable is not None:
            prepared.dynamic_resources[i] = task.compute_resources_callable
    prepared.templates = list(templates.values())
    prepared.task_hash = task_set_hash(task.key for task in tasks)
    return prepared
