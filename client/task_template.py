"""TaskTemplate: a command template with named args; it creates Tasks and Arrays."""

from __future__ import annotations

import itertools
import shlex
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jobmon import resources as resource_rules
from jobmon.client.task import Array, ResourcesSpec, Task
from jobmon.errors import InvalidCommandTemplate
from jobmon.hashing import args_hash

if TYPE_CHECKING:
    from jobmon.client.tool import Tool

_TASK_OPTIONS = frozenset(
    {"name", "upstream_tasks", "max_attempts", "compute_resources", "resource_scales",
     "fallback_queues", "cluster_name"}
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
    for _, field, format_spec, conversion in parsed:
        if field is None:
            continue
        # Values are substituted as shell-quoted strings, so a spec or conversion cannot apply.
        if not field.isidentifier() or format_spec or conversion:
            shown = field + (f"!{conversion}" if conversion else "")
            shown += f":{format_spec}" if format_spec else ""
            raise InvalidCommandTemplate(
                f"command template {command_template!r}: {{{shown}}} must be a plain argument "
                "name such as {location_id}"
            )
        if field not in names:
            names.append(field)
    return names


class TaskTemplate:
    """A command template of a tool; node args identify a task, task args vary it per run."""

    def __init__(
        self,
        tool: Tool,
        template_name: str,
        command_template: str,
        node_args: Sequence[str] = (),
        task_args: Sequence[str] = (),
        op_args: Sequence[str] = (),
        default_cluster_name: str | None = None,
        default_compute_resources: Mapping[str, Any] | None = None,
        default_resource_scales: Mapping[str, Any] | None = None,
        default_max_attempts: int | None = None,
    ) -> None:
        if not template_name or not isinstance(template_name, str):
            raise InvalidCommandTemplate("template_name must be a non-empty string")
        if not isinstance(command_template, str) or not command_template.strip():
            raise InvalidCommandTemplate(
                f"template {template_name!r}: command_template must be a non-empty string"
            )
        self.tool = tool
        self.template_name = template_name
        self.command_template = command_template
        self.node_args = list(node_args)
        self.task_args = list(task_args)
        self.op_args = list(op_args)
        declared = self.node_args + self.task_args + self.op_args
        duplicates = sorted({arg for arg in declared if declared.count(arg) > 1})
        if duplicates:
            raise InvalidCommandTemplate(
                f"template {template_name!r}: {', '.join(duplicates)} listed in more than one "
                "of node_args, task_args and op_args"
            )
        used = template_fields(command_template)
        undeclared = [name for name in used if name not in declared]
        if undeclared:
            raise InvalidCommandTemplate(
                f"template {template_name!r}: the command names {', '.join(undeclared)}, which "
                "is not in node_args, task_args or op_args"
            )
        unused = [name for name in declared if name not in used]
        if unused:
            raise InvalidCommandTemplate(
                f"template {template_name!r}: {', '.join(unused)} declared but not used in "
                f"the command template {command_template!r}"
            )
        reserved = sorted(set(declared) & _TASK_OPTIONS)
        if reserved:
            raise InvalidCommandTemplate(
                f"template {template_name!r}: {', '.join(reserved)} is reserved for task "
                "options; rename the argument"
            )
        self.default_cluster_name = default_cluster_name
        self.default_compute_resources = resource_rules.normalize(default_compute_resources or {})
        self.default_resource_scales = (
            dict(default_resource_scales) if default_resource_scales is not None else None
        )
        resource_rules.check_scales(self.default_resource_scales or {})
        self.default_max_attempts = default_max_attempts
        self.max_concurrently_running: int | None = None

    def _check_names(self, given: Iterable[str]) -> None:
        """Every argument the template declares is given, and nothing else."""
        given = set(given)
        declared = set(self.node_args) | set(self.task_args) | set(self.op_args)
        unknown = sorted(given - declared)
        if unknown:
            raise InvalidCommandTemplate(
                f"template {self.template_name!r} has no argument {', '.join(unknown)} "
                f"(it takes {', '.join(sorted(declared)) or 'none'})"
            )
        missing = sorted(declared - given)
        if missing:
            raise InvalidCommandTemplate(
                f"template {self.template_name!r}: the command needs "
                f"{', '.join(missing)}, which was not given"
            )

    @staticmethod
    def _check_options(what: str, max_attempts: int | None,
                       compute_resources: ResourcesSpec | None,
                       resource_scales: Mapping[str, Any] | None) -> ResourcesSpec | None:
        """Check the per-task options; returns the resources in canonical form."""
        if max_attempts is not None and (not isinstance(max_attempts, int) or max_attempts < 1):
            raise ValueError(f"{what}: max_attempts must be a whole number >= 1")
        if resource_scales is not None:
            resource_rules.check_scales(resource_scales)
        if compute_resources is not None and not callable(compute_resources):
            return resource_rules.normalize(compute_resources)
        return compute_resources

    def _build(self, kwargs: Mapping[str, Any], name: str | None,
               upstream_tasks: Iterable[Task], max_attempts: int | None,
               compute_resources: ResourcesSpec | None,
               resource_scales: Mapping[str, Any] | None,
               fallback_queues: Sequence[str] | None, cluster_name: str | None) -> Task:
        """A task from checked arguments and options."""
        node_args = {key: kwargs[key] for key in self.node_args}
        task_args = {key: kwargs[key] for key in self.task_args}
        op_args = {key: kwargs[key] for key in self.op_args}
        command = self.command_template.format(
            **{key: shlex.quote(str(value)) for key, value in kwargs.items()})
        if name is None:
            shown = "_".join(f"{key}-{value}" for key, value in {**node_args, **task_args}.items())
            name = f"{self.template_name}_{shown}" if shown else self.template_name
        return Task(
            template=self,
            node_args=node_args,
            task_args=task_args,
            op_args=op_args,
            node_args_hash=args_hash(node_args),
            task_args_hash=args_hash(task_args),
            command=command,
            name=name,
            upstream_tasks=upstream_tasks,
            max_attempts=max_attempts,
            compute_resources=(dict(compute_resources) if isinstance(compute_resources, dict)
                               else compute_resources),
            resource_scales=resource_scales,
            fallback_queues=list(fallback_queues) if fallback_queues is not None else None,
            cluster_name=cluster_name,
        )

    def create_task(
        self,
        *,
        name: str | None = None,
        upstream_tasks: Iterable[Task] = (),
        max_attempts: int | None = None,
        compute_resources: ResourcesSpec | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        fallback_queues: Sequence[str] | None = None,
        cluster_name: str | None = None,
        **kwargs: Any,
    ) -> Task:
        """A task with the given args; resources here override the template's defaults."""
        self._check_names(kwargs)
        what = f"task {name!r}" if name is not None else f"a task of {self.template_name!r}"
        compute_resources = self._check_options(what, max_attempts, compute_resources,
                                                resource_scales)
        return self._build(kwargs, name, upstream_tasks, max_attempts, compute_resources,
                           resource_scales, fallback_queues, cluster_name)

    def create_tasks(
        self,
        *,
        upstream_tasks: Iterable[Task] = (),
        max_concurrently_running: int | None = None,
        max_attempts: int | None = None,
        compute_resources: ResourcesSpec | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        fallback_queues: Sequence[str] | None = None,
        cluster_name: str | None = None,
        **kwargs: Any,
    ) -> Array:
        """An array: one task per combination of the list-valued args."""
        if max_concurrently_running is not None and (
            not isinstance(max_concurrently_running, int) or max_concurrently_running < 1
        ):
            raise ValueError("max_concurrently_running must be a whole number >= 1")
        # every task of the array has the same arguments and options: check them once
        self._check_names(kwargs)
        compute_resources = self._check_options(
            f"the tasks of {self.template_name!r}", max_attempts, compute_resources,
            resource_scales)
        if max_concurrently_running is not None:
            self.max_concurrently_running = max_concurrently_running
        upstream = list(upstream_tasks)
        names = list(kwargs)
        choices = [
            list(value) if isinstance(value, list | tuple | range) else [value]
            for value in kwargs.values()
        ]
        tasks = [
            self._build(dict(zip(names, combination, strict=True)), None, upstream,
                        max_attempts, compute_resources, resource_scales, fallback_queues,
                        cluster_name)
            for combination in itertools.product(*choices)
        ]
        return Array(self, tasks, max_concurrently_running)

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
