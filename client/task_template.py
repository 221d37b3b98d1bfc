"""TaskTemplate: a command template with named args; it creates Tasks (IHME Jobmon's)."""

from __future__ import annotations

import itertools
import os
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jobmon import clusters
from jobmon import resources as resource_rules
from jobmon.client import limits, resource_files
from jobmon.client.array import Array, is_choice
from jobmon.client.collector import collector_paused
from jobmon.client.defaults import ClusterDefaults, checked_resources
from jobmon.client.task import (  # noqa: F401 - DEFAULT_NAME_LIMIT is imported from here
    DEFAULT_NAME_LIMIT,
    Task,
    attributes_dict,
    default_task_name,
    plain_values,
)
from jobmon.errors import InvalidCommandTemplate
from jobmon.hashing import args_hash

if TYPE_CHECKING:
    from jobmon.client.tool import Tool

# create_task's own keywords: a template argument cannot be called like one of them
_TASK_OPTIONS = frozenset(
    {"name", "upstream_tasks", "task_attributes", "max_attempts", "compute_resources",
     "compute_resources_callable", "resource_scales", "fallback_queues", "cluster_name",
     "max_concurrently_running"}
)


def template_fields(command_template: str) -> list[str]:
    """The argument names a command template uses, in order of first use."""
    try:
        parsed = list(string.Formatter().parse(command_template))
    except ValueError as error:
        raise InvalidCommandTemplate(
            f"command template {command_template!r} is malformed: {error} "
            "(write a literal brace as {{ or }})"
        ) from None
    names: list[str] = []
    for _, field, _, _ in parsed:
        if field is None:
            continue
        if not field.isidentifier():
            raise InvalidCommandTemplate(
                f"command template {command_template!r}: {{{field}}} must be an argument name "
                "such as {location_id} (format specs such as {year:04d} are fine)"
            )
        if field not in names:
            names.append(field)
    return names


def arg_list(what: str, kind: str, names: Sequence[str] | None) -> list[str]:
    """A template's list of argument names, checked."""
    if names is None:
        return []
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise InvalidCommandTemplate(f"{what}: {kind} must be a list of names, not {names!r}")
    names = list(names)
    for name in names:
        limits.check_text(f"{what}: a name in {kind}", name, limits.ARG_NAME)
    return names


class _Options:
    """create_task's options, checked once (once per array for create_tasks)."""

    __slots__ = ("attributes", "cluster_name", "dynamic", "fallback_queues", "max_attempts",
                 "resources", "scales", "upstream")

    def __init__(self, what: str, upstream_tasks: Iterable[Task] | None,
                 task_attributes: object, max_attempts: object,
                 compute_resources: object, compute_resources_callable: object,
                 resource_scales: object, cluster_name: object,
                 fallback_queues: object) -> None:
        if upstream_tasks is not None and not isinstance(upstream_tasks, Iterable):
            raise TypeError(f"{what}: upstream_tasks must be a list of Tasks, not "
                            f"{type(upstream_tasks).__name__}")
        self.upstream = list(upstream_tasks or ())
        self.attributes = attributes_dict(task_attributes, f"{what}: task_attributes")
        self.max_attempts = (None if max_attempts is None else
                             limits.check_count(f"{what}: max_attempts", max_attempts,
                                                limits.MAX_ATTEMPTS))
        self.dynamic: Callable[[], Mapping[str, Any]] | None = None
        self.resources: dict[str, Any] | None = None
        if callable(compute_resources):  # ours: a callable here is called when it is ready
            self.dynamic = compute_resources
        elif compute_resources is not None:
            self.resources = checked_resources(compute_resources, f"{what}: ")
        if compute_resources_callable is not None:
            if not callable(compute_resources_callable):
                raise InvalidCommandTemplate(
                    f"{what}: compute_resources_callable must be callable, not "
                    f"{type(compute_resources_callable).__name__}")
            self.dynamic = compute_resources_callable
        self.scales = (None if resource_scales is None else
                       resource_rules.prepare_scales(resource_scales))  # type: ignore[arg-type]
        self.cluster_name: str | None = None
        if cluster_name:
            clusters.check_cluster(cluster_name)
            self.cluster_name = str(cluster_name)
        if fallback_queues is None:
            self.fallback_queues: list[str] | None = None
        else:
            if isinstance(fallback_queues, str) or not isinstance(fallback_queues, Iterable):
                raise InvalidCommandTemplate(
                    f"{what}: fallback_queues must be a list of queue names such as "
                    f"['long.q'], not {fallback_queues!r}")
            self.fallback_queues = [limits.check_text(f"{what}: fallback queue", queue,
                                                      limits.QUEUE_NAME)
                                    for queue in fallback_queues]


class TaskTemplate(ClusterDefaults):
    """A command template of a tool; node args identify a task, task args vary it per run,
    op args (and any other name the command uses) do not change what the task is."""

    def __init__(
        self,
        tool: Tool,
        template_name: str,
        command_template: str,
        node_args: Sequence[str] = (),
        task_args: Sequence[str] = (),
        op_args: Sequence[str] = (),
    ) -> None:
        self.tool = tool
        self.template_name = limits.check_text("template_name", template_name,
                                               limits.TEMPLATE_NAME)
        what = f"template {template_name!r}"
        self.command_template = limits.check_text(f"{what}: command_template", command_template,
                                                  limits.COMMAND_TEMPLATE, empty_ok=True)
        self.node_args = arg_list(what, "node_args", node_args)
        self.task_args = arg_list(what, "task_args", task_args)
        self.op_args = arg_list(what, "op_args", op_args)
        declared = self.node_args + self.task_args + self.op_args
        duplicates = sorted({arg for arg in declared if declared.count(arg) > 1})
        if duplicates:
            raise InvalidCommandTemplate(
                f"{what}: {', '.join(duplicates)} listed in more than one of node_args, "
                "task_args and op_args"
            )
        used = template_fields(command_template)
        unused = [name for name in declared if name not in used]
        if unused:
            raise InvalidCommandTemplate(
                f"{what}: {', '.join(unused)} declared but not used in the command template "
                f"{command_template!r}"
            )
        # a name the command uses but no list declares is required, and not identity
        self.other_args = [name for name in used if name not in declared]
        reserved = sorted(set(used) & _TASK_OPTIONS)
        if reserved:
            raise InvalidCommandTemplate(
                f"{what}: {', '.join(reserved)} is reserved: a keyword of create_task, not "
                "usable as an argument name; rename the argument"
            )
        self.arg_names = frozenset(used)
        self._node_set = frozenset(self.node_args)
        self._task_set = frozenset(self.task_args)
        self.default_cluster_name = ""
        self.default_compute_resources_set: dict[str, dict[str, Any]] = {}
        self.default_resource_scales_set: dict[str, dict[str, Any]] = {}
        self.own_max_attempts: int | None = None
        self.max_concurrently_running: int | None = None

    # ------------------------------------------------------------------ defaults

    @property
    def default_max_attempts(self) -> int | None:
        """The template's own default, else its tool's."""
        return self.own_max_attempts or self.tool.default_max_attempts

    def set_default_max_attempts(self, value: int) -> None:
        self.own_max_attempts = limits.check_count("max_attempts", value, limits.MAX_ATTEMPTS)

    def set_default_cluster_name(self, cluster_name: str) -> None:
        clusters.check_cluster(cluster_name)
        self.default_cluster_name = cluster_name

    def _cluster_named(self, cluster_name: str, replaced: bool) -> None:
        """Defaults set for a cluster make it the template's default cluster, as in Jobmon."""
        clusters.check_cluster(cluster_name)
        if replaced:
            self.default_cluster_name = cluster_name

    def _yaml_cluster(self, default_cluster_name: str) -> str:
        cluster = default_cluster_name or self.default_cluster_name
        if not cluster:
            raise ValueError(
                f"template {self.template_name!r}: give default_cluster_name (here or in "
                "get_task_template) to pick the cluster's section of the resource file")
        clusters.check_cluster(cluster)
        return cluster

    def set_default_compute_resources_from_yaml(
        self, yaml_file: str | os.PathLike[str], default_cluster_name: str = ""
    ) -> None:
        """Defaults from task_template_resources -> this template -> the cluster."""
        cluster = self._yaml_cluster(default_cluster_name)
        content = resource_files.read(yaml_file)
        self.set_default_compute_resources_from_dict(cluster, resource_files.template_section(
            content, yaml_file, resource_files.TEMPLATE_RESOURCES, self.template_name, cluster))

    def set_default_resource_scales_from_yaml(
        self, yaml_file: str | os.PathLike[str], default_cluster_name: str = ""
    ) -> None:
        """Scales from task_template_scales -> this template -> the cluster."""
        cluster = self._yaml_cluster(default_cluster_name)
        content = resource_files.read(yaml_file)
        self.set_default_resource_scales_from_dict(cluster, resource_files.template_section(
            content, yaml_file, resource_files.TEMPLATE_SCALES, self.template_name, cluster))

    # ------------------------------------------------------------------ tasks

    def _check_names(self, given: Iterable[str]) -> None:
        """Every argument the command uses is given, and nothing else."""
        given = set(given)
        unknown = sorted(given - self.arg_names)
        if unknown:
            raise InvalidCommandTemplate(
                f"template {self.template_name!r} has no argument {', '.join(unknown)} "
                f"(it takes {', '.join(sorted(self.arg_names)) or 'none'})"
            )
        missing = sorted(self.arg_names - given)
        if missing:
            raise InvalidCommandTemplate(
                f"template {self.template_name!r}: the command needs "
                f"{', '.join(missing)}, which was not given"
            )

    def _command(self, values: Mapping[str, Any]) -> str:
        try:
            command = self.command_template.format(**values)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
            shown = ", ".join(f"{key}={value!r}" for key, value in values.items())
            raise InvalidCommandTemplate(
                f"template {self.template_name!r}: the command {self.command_template!r} "
                f"cannot be filled in with {shown}: {error}"
            ) from None
        if not command.strip():
            raise InvalidCommandTemplate(
                f"template {self.template_name!r}: the command is empty; a task needs a command")
        if len(command) > limits.COMMAND:
            raise InvalidCommandTemplate(
                f"template {self.template_name!r}: the command is {len(command):,} characters; "
                f"the limit is {limits.COMMAND:,} (pass large data in a file instead)")
        return command

    def _split(self, values: Mapping[str, Any]
               ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Node, task and op args (op: any other name the command uses), in given order."""
        node: dict[str, Any] = {}
        task: dict[str, Any] = {}
        op: dict[str, Any] = {}
        for key, value in values.items():
            (node if key in self._node_set else task if key in self._task_set else op)[key] = value
        return node, task, op

    def _build(self, node_args: dict[str, Any], task_args: dict[str, Any],
               op_args: dict[str, Any], name: str | None, options: _Options,
               task_args_hash: int | None = None, shared_plain: bool | None = None,
               node_values: tuple[Any, ...] | None = None,
               node_names: tuple[str, ...] = ()) -> Task:
        """A task from checked arguments; values go into the command as they are.

        With plain values (str, int, float, bool, None) the task keeps neither its command
        nor its default name: both are worked out again, the same, when read.
        ``shared_plain``: whether the task and op args are plain, when known already;
        ``node_values``: the node args' values in the order of ``node_names``, which the
        task keeps instead of the dict (create_tasks).
        """
        command = self._command({**node_args, **task_args, **op_args})
        node_plain = plain_values(node_args)
        if shared_plain is None:
            shared_plain = plain_values(task_args) and plain_values(op_args)
        return Task(
            template=self,
            node_args=node_args if node_values is None else node_values,
            node_names=node_names,
            task_args=task_args,
            op_args=op_args,
            node_args_hash=args_hash(node_args),
            task_args_hash=args_hash(task_args) if task_args_hash is None else task_args_hash,
            command=None if node_plain and shared_plain else command,
            name=name or (None if node_plain else default_task_name(self.template_name,
                                                                     node_args)),
            upstream_tasks=options.upstream,
            max_attempts=options.max_attempts,
            compute_resources=options.resources,
            compute_resources_callable=options.dynamic,
            resource_scales=options.scales,
            fallback_queues=options.fallback_queues,
            cluster_name=options.cluster_name,
            task_attributes=dict(options.attributes) if options.attributes else None,
        )

    def create_task(
        self,
        name: str = "",
        upstream_tasks: Iterable[Task] | None = None,
        task_attributes: list[str] | dict[str, Any] | None = None,
        max_attempts: int | None = None,
        compute_resources: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
        compute_resources_callable: Callable[[], Mapping[str, Any]] | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        cluster_name: str = "",
        fallback_queues: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> Task:
        """A task with these argument values; its settings override the template's defaults."""
        if name:
            limits.check_text("a task name", name, limits.TASK_NAME)
        self._check_names(kwargs)
        what = f"task {name!r}" if name else f"a task of {self.template_name!r}"
        options = _Options(what, upstream_tasks, task_attributes, max_attempts,
                           compute_resources, compute_resources_callable, resource_scales,
                           cluster_name, fallback_queues)
        return self._build(*self._split(kwargs), name or None, options)

    def create_tasks(
        self,
        max_attempts: int | None = None,
        upstream_tasks: Iterable[Task] | None = None,
        max_concurrently_running: int | None = None,
        compute_resources: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
        compute_resources_callable: Callable[[], Mapping[str, Any]] | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        cluster_name: str = "",
        name: str | None = None,
        *,
        fallback_queues: Sequence[str] | None = None,
        task_attributes: list[str] | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Task]:
        """One task per combination of the node args given as lists (a node arg given as one
        value is that value); task and op args are the same for every task. As in Jobmon, a
        template without node args makes no tasks here. ``name`` names the array."""
        if max_concurrently_running is not None:
            max_concurrently_running = limits.check_count(
                "max_concurrently_running", max_concurrently_running,
                limits.MAX_CONCURRENTLY_RUNNING)
            self.max_concurrently_running = max_concurrently_running
        if name is not None:
            limits.check_text("the array name", name, limits.TEMPLATE_NAME)
        # every task of the array has the same arguments and options: check them once
        self._check_names(kwargs)
        options = _Options(f"the tasks of {self.template_name!r}", upstream_tasks,
                           task_attributes, max_attempts, compute_resources,
                           compute_resources_callable, resource_scales, cluster_name,
                           fallback_queues)
        node_given, task_args, op_args = self._split(kwargs)
        node_names = tuple(node_given)
        choices = [list(value) if is_choice(value) else [value] for value in node_given.values()]
        task_args_hash = args_hash(task_args)
        shared_plain = plain_values(task_args) and plain_values(op_args)
        tasks = []
        if node_names:  # as in Jobmon, an array is the product of its node args
            with collector_paused():
                for combination in itertools.product(*choices):
                    tasks.append(self._build(dict(zip(node_names, combination, strict=True)),
                                             task_args, op_args, None, options, task_args_hash,
                                             shared_plain, combination, node_names))
        Array(self, tasks, max_concurrently_running, name, options.resources,
              options.cluster_name, options.max_attempts, options.scales)
        return tasks

    def __repr__(self) -> str:
        return f"TaskTemplate({self.template_name!r}, {self.command_template!r})"

    def resource_usage(self, workflows: list[int] | None = None,
                       node_args: dict[str, Any] | None = None,
                       ci: float | None = None) -> dict[str, Any]:
        """Jobmon's dict of what the finished instances of this template version used
        (optionally only in some workflows, or of tasks with some node arg values):
        num_tasks, min/max/mean/median memory ("123B"), runtime (seconds), and ci_mem and
        ci_runtime, the intervals of the means at confidence ``ci`` (e.g. 0.95)."""
        import json

        from jobmon.client import usage
        from jobmon.client.blocking import call

        version_id = call(usage.template_version_id, self.tool.name, self.template_name,
                          self.command_template, self.node_args, self.task_args,
                          self.op_args)
        found = call(usage.template_usage, version_id, workflows or [],
                     json.dumps(node_args) if node_args else "", ci)
        return usage.jobmon_stats(found)
