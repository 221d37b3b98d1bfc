"""Task: what a TaskTemplate creates and a Workflow runs (IHME Jobmon's Task)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jobmon import resources as resource_rules
from jobmon.client.boundary import run_sync
from jobmon.client.connection import open_requester
from jobmon.client.defaults import default_layers, resolved_cluster
from jobmon.client.task_errors import task_error
from jobmon.core.constants import SpecialChars

if TYPE_CHECKING:
    from jobmon.client.array import Array
    from jobmon.client.task_template import TaskTemplate
    from jobmon.client.workflow import Workflow

ResourcesSpec = Mapping[str, Any] | Callable[[], Mapping[str, Any]]
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_NAME_LIMIT = 249  # a default task name is cut here, as Jobmon cuts it
_NAME_UNSAFE = re.compile("[" + re.escape(SpecialChars.ILLEGAL_SPECIAL_CHARACTERS) + "]")
# values whose text cannot change after the task is made: its command and default name
# can be worked out again when read, instead of kept
_PLAIN = frozenset({str, int, float, bool, type(None)})


def plain_values(args: Mapping[str, Any]) -> bool:
    """True when every value is a str, int, float, bool or None (not a subclass)."""
    return _PLAIN.issuperset(map(type, args.values()))


def default_task_name(template_name: str, node_args: Mapping[str, Any]) -> str:
    """Jobmon's default: the template and node args, unsafe characters as _, cut at 249."""
    if node_args:
        name = template_name + "_" + "_".join([f"{key}-{value}" for key, value
                                               in node_args.items()])
    else:
        name = template_name
    if _NAME_UNSAFE.search(name) is not None:
        name = _NAME_UNSAFE.sub("_", name)
    return name if len(name) <= DEFAULT_NAME_LIMIT else name[:DEFAULT_NAME_LIMIT]


def attributes_dict(attributes: object, what: str) -> dict[str, str | None]:
    """Attributes as Jobmon keeps them: a list names them (no value yet), a dict gives values."""
    if attributes is None:
        return {}
    if isinstance(attributes, list | tuple):
        return {str(name): None for name in attributes}
    if isinstance(attributes, Mapping):
        return {str(name): None if value is None else str(value)
                for name, value in attributes.items()}
    raise ValueError(
        f"{what} must be a list of attribute names or a dict of attributes and their values, "
        f"not {type(attributes).__name__}"
    )


def _linked(held: Task | set[Task] | None, task: Task) -> Task | set[Task]:
    """``held`` with ``task`` in it."""
    if held is None:
        return task
    if isinstance(held, set):
        held.add(task)
        return held
    return held if held == task else {held, task}


def _as_set(held: Task | set[Task] | None) -> set[Task]:
    if held is None:
        return set()
    return held if isinstance(held, set) else {held}


class Task:
    """One shell command with its identity (template, node args, task args) and dependencies.

    Two tasks are equal when their template, node args and task args are; op args, name and
    resources are not part of a task's identity.
    """

    __slots__ = (
        "_cluster_name",
        "_command",
        "_compute_resources",
        "_downstream",
        "_fallback_queues",
        "_max_attempts",
        "_name",
        "_node_args",
        "_node_names",
        "_op_args",
        "_resource_scales",
        "_task_args",
        "_task_attributes",
        "_upstream",
        "_workflow",
        "array",
        "compute_resources_callable",
        "final_status",
        "key",
        "task_id",
        "template",
    )

    @staticmethod
    def is_valid_job_name(name: str) -> bool:
        """True for a name Jobmon accepts as a job name; raises ValueError otherwise."""
        if not name:
            raise ValueError("name cannot be None or empty")
        if name[0].isdigit():
            raise ValueError(f"name cannot begin with a digit, saw: '{name[0]}'")
        if any(char in name for char in SpecialChars.ILLEGAL_SPECIAL_CHARACTERS):
            raise ValueError(
                "name contains illegal special character, illegal characters are: "
                f"'{SpecialChars.ILLEGAL_SPECIAL_CHARACTERS}'"
            )
        return True

    def __init__(
        self,
        *,
        template: TaskTemplate,
        node_args: dict[str, Any] | tuple[Any, ...],
        task_args: dict[str, Any],
        op_args: dict[str, Any],
        node_args_hash: int,
        task_args_hash: int,
        command: str | None,
        name: str | None,
        upstream_tasks: Iterable[Task] = (),
        max_attempts: int | None = None,
        compute_resources: Mapping[str, Any] | None = None,
        compute_resources_callable: Callable[[], Mapping[str, Any]] | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        fallback_queues: Sequence[str] | None = None,
        cluster_name: str | None = None,
        task_attributes: dict[str, str | None] | None = None,
        node_names: tuple[str, ...] = (),
    ) -> None:
        self.template = template
        # node args as a dict, or (from create_tasks) their values in the order of
        # ``node_names``, shared by the array: the dict is made when first read
        self._node_args = node_args
        self._node_names = node_names
        self._task_args = task_args
        self._op_args = op_args
        # identity within a workflow: (template name, node args hash, task args hash)
        self.key: tuple[str, int, int] = (template.template_name, node_args_hash,
                                          task_args_hash)
        # None: worked out again from the template and args when read (see ``command`` and
        # ``name``), so that a million tasks do not each hold two strings until they bind
        self._command = command
        self._name = name
        self._upstream: Task | set[Task] | None = None
        self._downstream: Task | set[Task] | None = None
        for upstream in upstream_tasks:
            self.add_upstream(upstream)
        self._max_attempts = max_attempts
        self._compute_resources = compute_resources
        self.compute_resources_callable = compute_resources_callable
        self._resource_scales = resource_scales
        self._fallback_queues: list[str] | None = list(fallback_queues) if fallback_queues else None
        self._cluster_name = cluster_name or None
        self._task_attributes = task_attributes or None
        self.task_id: int | None = None
        self.array: Array | None = None
        self._workflow: Workflow | None = None

    # ------------------------------------------------------------------ identity

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Task):
            return NotImplemented
        return self is other or (self.key == other.key and self.template is other.template)

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: Task) -> bool:
        return self.key < other.key

    # ------------------------------------------------------------------ arguments

    @property
    def node_args_hash(self) -> int:
        """The hash of the node args (the key's second part)."""
        return self.key[1]

    @property
    def task_args_hash(self) -> int:
        """The hash of the task args (the key's third part)."""
        return self.key[2]

    # The args are handed out as the dicts the task holds. A caller may change them, but as
    # in Jobmon the task's command and name stay what they were when it was made: handing
    # one out first keeps the text that is otherwise worked out when read.

    @property
    def node_args(self) -> dict[str, Any]:
        """The args that identify the task (its node), as given."""
        self._keep_text()
        held = self._node_args
        if type(held) is tuple:
            held = self._node_args = dict(zip(self._node_names, held, strict=True))
        return held  # type: ignore[return-value]

    @node_args.setter
    def node_args(self, node_args: dict[str, Any]) -> None:
        self._keep_text()
        self._node_args = node_args

    @property
    def task_args(self) -> dict[str, Any]:
        """The args that make the command unique across workflows."""
        self._keep_text()
        return self._task_args

    @task_args.setter
    def task_args(self, task_args: dict[str, Any]) -> None:
        self._keep_text()
        self._task_args = task_args

    @property
    def op_args(self) -> dict[str, Any]:
        """The args that may change between runs of the same workflow."""
        self._keep_text()
        return self._op_args

    @op_args.setter
    def op_args(self, op_args: dict[str, Any]) -> None:
        self._keep_text()
        self._op_args = op_args

    def _keep_text(self) -> None:
        """Keep the command and name as they are now, before the args can change.

        The tasks of one ``create_tasks`` share their task and op args' dicts (as Jobmon's
        do), so those of its tasks that work their command out when read keep it too. Only
        those share them (they hold ``_node_names``): a task of ``create_task`` has its own,
        and does not walk its array (a walk per task would make reading every task's args
        quadratic in the array's size).
        """
        if self._name is None:
            self._name = self.name
        if self._command is None:
            self._command = self.command
            if self.array is not None and self._node_names:
                task_args, op_args = self._task_args, self._op_args
                for task in self.array.tasks:
                    if task._command is None and (task._task_args is task_args
                                                  or task._op_args is op_args):
                        task._command = task.command

    def node_arg_values(self) -> dict[str, Any]:
        """The node args, as ``node_args`` (a new dict; reading it keeps nothing)."""
        held = self._node_args
        if type(held) is tuple:
            return dict(zip(self._node_names, held, strict=True))
        return held  # type: ignore[return-value]

    # ------------------------------------------------------------------ command and name

    @property
    def command(self) -> str:
        """The shell command: the template filled in with the task's arguments."""
        command = self._command
        if command is None:  # the arguments are plain values: the same text every time
            return self.template.command_template.format(
                **self.node_arg_values(), **self._task_args, **self._op_args)
        return command

    @command.setter
    def command(self, command: str) -> None:
        self._command = command

    @property
    def name(self) -> str:
        """The task's name: the one given, else the template and node args (Jobmon's)."""
        name = self._name
        if name is None:
            return default_task_name(self.template.template_name, self.node_arg_values())
        return name

    @name.setter
    def name(self, name: str) -> None:
        self._name = name

    @property
    def fallback_queues(self) -> list[str]:
        """Queues to move to when a resource error asks for more than the queue allows."""
        if self._fallback_queues is None:
            self._fallback_queues = []
        return self._fallback_queues

    @fallback_queues.setter
    def fallback_queues(self, queues: Sequence[str]) -> None:
        self._fallback_queues = list(queues)

    def bind_fields(self) -> tuple[str, str, dict[str, str]]:
        """Name, command, and every arg as text, as binding sends them (one pass)."""
        node = self.node_arg_values()
        values = {**node, **self._task_args, **self._op_args}
        name = self._name
        if name is None:
            name = default_task_name(self.template.template_name, node)
        command = self._command
        if command is None:
            command = self.template.command_template.format(**values)
        return name, command, {key: str(value) for key, value in values.items()}

    # ------------------------------------------------------------------ dependencies

    # A task's upstreams and downstreams are held as None, one Task, or a set: most tasks
    # have one or none, and a million tasks should not carry two sets each.

    @property
    def upstream_tasks(self) -> set[Task]:
        """The tasks this one waits for."""
        if not isinstance(self._upstream, set):
            self._upstream = _as_set(self._upstream)
        return self._upstream

    @property
    def downstream_tasks(self) -> set[Task]:
        """The tasks that wait for this one."""
        if not isinstance(self._downstream, set):
            self._downstream = _as_set(self._downstream)
        return self._downstream

    def add_upstream(self, ancestor: Task) -> None:
        """This task waits for ``ancestor`` (set semantics: adding it again changes nothing)."""
        if not isinstance(ancestor, Task):
            raise TypeError(
                f"upstream of {self.name!r} must be a Task, not {type(ancestor).__name__}")
        if ancestor is self:
            raise ValueError(f"task {self.name!r} cannot depend on itself")
        self._upstream = _linked(self._upstream, ancestor)
        ancestor._downstream = _linked(ancestor._downstream, self)

    def add_upstreams(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self.add_upstream(task)

    def add_downstream(self, descendant: Task) -> None:
        """``descendant`` waits for this task."""
        if not isinstance(descendant, Task):
            raise TypeError(
                f"downstream of {self.name!r} must be a Task, not {type(descendant).__name__}")
        descendant.add_upstream(self)

    def add_downstreams(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self.add_downstream(task)

    # ------------------------------------------------------------------ attributes

    @property
    def task_attributes(self) -> dict[str, str | None]:
        """Attributes recorded with the task (not passed to the command)."""
        if self._task_attributes is None:
            self._task_attributes = {}
        return self._task_attributes

    def add_attribute(self, attribute: str, value: object) -> None:
        self.task_attributes[str(attribute)] = str(value)

    # ------------------------------------------------------------------ settings, resolved

    @property
    def workflow(self) -> Workflow:
        """The workflow the task was added to."""
        if self._workflow is None:
            raise AttributeError(
                f"task {self.name!r} has no workflow yet: add it with workflow.add_task()")
        return self._workflow

    @property
    def cluster_name(self) -> str:
        """The cluster it runs on: its own, else its template's, workflow's or tool's default."""
        return resolved_cluster(self._cluster_name, self.template, self._workflow)

    @property
    def max_attempts(self) -> int:
        """Attempts before giving up: the task's, else its template's, workflow's, tool's, 3."""
        return (
            self._max_attempts
            or self.template.own_max_attempts
            or (self._workflow.default_max_attempts if self._workflow is not None else None)
            or self.template.tool.default_max_attempts
            or DEFAULT_MAX_ATTEMPTS
        )

    @property
    def compute_resources(self) -> dict[str, Any]:
        """The resources asked for on its cluster, as given: tool, workflow and template
        defaults with the task's own on top (a new dict each time)."""
        return resource_rules.merge(
            *default_layers(self.template, self._workflow, self.cluster_name),
            self._compute_resources)

    @property
    def requested_resources(self) -> dict[str, Any]:
        """The resources without the queue, as Jobmon's ``requested_resources``."""
        resources = self.compute_resources
        resources.pop("queue", None)
        return resources

    @property
    def resource_scales(self) -> dict[str, Any]:
        """How resources grow after a resource error, merged over the same layers as the
        resources; memory and runtime by half when nothing says otherwise."""
        return resource_rules.merge(
            *default_layers(self.template, self._workflow, self.cluster_name, scales=True),
            self._resource_scales) or dict(resource_rules.DEFAULT_RESOURCE_SCALES)

    def __repr__(self) -> str:
        return f"Task(name={self.name!r}, command={self.command!r}, task_id={self.task_id})"

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

    # ------------------------------------------------------------------ results (Jobmon)
    # set by Workflow.run(); reading it before raises AttributeError, as in Jobmon
    final_status: str

    def get_errors(self) -> dict[str, Any] | None:
        """The latest failed instance of this task and its error log, as Jobmon's
        ``Task.get_errors``: {"task_instance_id": ..., "error_log": [{...}]}; None if none."""
        if self.task_id is None:
            return None
        task_id = self.task_id

        async def fetch() -> dict[str, Any] | None:
            async with open_requester() as requester:
                found = await task_error(requester, task_id)
            return found.as_jobmon() if found is not None else None

        return run_sync(fetch)
