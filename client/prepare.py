"""Checks a workflow and turns it into what binding sends; raises before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobmon import clusters
from jobmon import resources as resource_rules
from jobmon.client.dag import find_cycle
from jobmon.client.task import Task
from jobmon.client.task_template import TaskTemplate
from jobmon.errors import CyclicGraphError, InvalidWorkflow, MissingUpstreamError
from jobmon.hashing import task_set_hash
from jobmon.wire import TaskConfig

if TYPE_CHECKING:
    from jobmon.client.workflow import Workflow

DEFAULT_MAX_ATTEMPTS = 3


@dataclass
class Prepared:
    """A checked workflow: tasks in order, their shared configs, and the graph by index."""

    tasks: list[Task]
    templates: list[TaskTemplate]
    configs: list[TaskConfig]
    config_index: list[int]
    upstreams: list[list[int]]
    task_hash: str
    clusters: set[str]
    dynamic_resources: dict[int, Callable[[], Mapping[str, Any]]] = field(default_factory=dict)
    scale_overrides: dict[int, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def num_edges(self) -> int:
        return sum(len(ups) for ups in self.upstreams)


def _cluster_of(task: Task, workflow: Workflow) -> str:
    name = (
        task.cluster_name
        or task.template.default_cluster_name
        or workflow.default_cluster_name
        or workflow.tool.default_cluster_name
    )
    if not name:
        raise InvalidWorkflow(
            f"task {task.name!r} has no cluster: give cluster_name, or default_cluster_name on "
            "its template, the workflow or the tool"
        )
    return name


def _config_of(
    task: Task, workflow: Workflow, cluster: str
) -> tuple[TaskConfig, Mapping[str, Any] | None]:
    static = task.compute_resources if not callable(task.compute_resources) else None
    merged = resource_rules.merge(
        workflow.tool.default_compute_resources.get(cluster),
        workflow.default_compute_resources_set.get(cluster),
        task.template.default_compute_resources,
        static,
    )
    try:
        clusters.check_resources(cluster, merged)
    except InvalidWorkflow as error:
        raise type(error)(f"task {task.name!r}: {error}") from None
    # the first layer that says anything wins; an explicit {} turns scaling off
    scales = next(
        (layer for layer in (task.resource_scales, task.template.default_resource_scales,
                             workflow.tool.default_resource_scales) if layer is not None),
        resource_rules.DEFAULT_RESOURCE_SCALES,
    )
    max_attempts = task.max_attempts or task.template.default_max_attempts or DEFAULT_MAX_ATTEMPTS
    config = TaskConfig(
        cluster_name=cluster,
        compute_resources=merged,
        resource_scales=resource_rules.scales_to_wire(scales),
        fallback_queues=list(task.fallback_queues or []),
        max_attempts=max_attempts,
    )
    has_callable = any(callable(spec) for spec in scales.values())
    return config, (scales if has_callable else None)


def _upstream_indices(tasks: list[Task]) -> list[list[int]]:
    """Each task's upstreams as positions in ``tasks``; raises for one not in the workflow."""
    position = {task.key: i for i, task in enumerate(tasks)}
    # the same Task objects are usually upstream of many tasks: look them up by identity
    by_object = {id(task): i for i, task in enumerate(tasks)}
    upstreams: list[list[int]] = []
    for task in tasks:
        indices: dict[int, None] = {}  # ordered, without duplicates
        for upstream in task.upstream_tasks:
            index = by_object.get(id(upstream))
            if index is None:
                index = position.get(upstream.key)
            if index is None:
                raise MissingUpstreamError(
                    f"task {task.name!r} depends on task {upstream.name!r}, which was never "
                    "added to the workflow: add it with add_task() or remove the dependency"
                )
            indices[index] = None
        upstreams.append(list(indices))
    return upstreams


def _settings_key(task: Task, cluster: str) -> tuple[Any, ...] | None:
    """What decides a task's config, hashable; None when it cannot be told cheaply."""
    resources = task.compute_resources
    if resources is None or callable(resources):
        frozen: Any = None  # a callable is resolved at launch, not here
    else:
        try:
            frozen = frozenset(resources.items())
        except TypeError:  # an unhashable value: work this task's config out in full
            return None
    return (id(task.template), cluster, frozen, id(task.resource_scales), task.max_attempts,
            tuple(task.fallback_queues or ()))


def prepare(workflow: Workflow) -> Prepared:
    """Check the workflow (upstreams present, no cycle, clusters and resources valid)."""
    tasks = list(workflow.tasks.values())
    if not tasks:
        raise InvalidWorkflow(f"workflow {workflow.name!r} has no tasks: add some first")
    upstreams = _upstream_indices(tasks)
    cycle = find_cycle(len(tasks), upstreams)
    if cycle is not None:
        path = " -> ".join(repr(tasks[i].name) for i in cycle)
        raise CyclicGraphError(f"the task dependencies contain a cycle: {path}")

    configs: list[TaskConfig] = []
    config_position: dict[str, int] = {}
    config_index: list[int] = []
    used_clusters: set[str] = set()
    prepared = Prepared(tasks=tasks, templates=[], configs=configs, config_index=config_index,
                        upstreams=upstreams, task_hash="", clusters=used_clusters)
    templates: dict[str, TaskTemplate] = {}
    known_settings: dict[tuple[Any, ...], int] = {}
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
            config, scale_callables = _config_of(task, workflow, cluster)
            key = json.dumps(
                [config.cluster_name, config.compute_resources, config.resource_scales,
                 config.fallback_queues, config.max_attempts, id(scale_callables)],
                sort_keys=True,
            )
            index = config_position.get(key)
            if index is None:
                index = config_position[key] = len(configs)
                configs.append(config)
                if scale_callables is not None:
                    prepared.scale_overrides[index] = scale_callables
            if settings_key is not None:
                known_settings[settings_key] = index
        config_index.append(index)
        if callable(task.compute_resources):
            prepared.dynamic_resources[i] = task.compute_resources
    prepared.templates = list(templates.values())
    prepared.task_hash = task_set_hash(task.key for task in tasks)
    return prepared
