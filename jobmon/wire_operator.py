"""Wire schemas of the self-service and resource-usage routes behind Jobmon's commands:
resource usage of task templates and tasks, log file paths, workflow reset, and the steps
of a resume by id (signal the old run, wait for it, scale resources)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from jobmon.wire import QUERY_TEXT

Fraction = Annotated[float, Meta(gt=0, lt=1)]


class ResourceUsageQuery(Struct, frozen=True, forbid_unknown_fields=True):
    """Which finished instances of a task template version to count."""

    # comma-separated workflow ids: only instances of tasks of these workflows
    workflows: Annotated[str, Meta(max_length=QUERY_TEXT)] = ""
    # a JSON object {"node_arg": [value, ...]}: only tasks with one of these values of each
    node_args: Annotated[str, Meta(max_length=QUERY_TEXT)] = ""
    # the confidence of the intervals of the means (Jobmon's ``ci``), e.g. 0.95
    ci: Fraction | None = None
    # the high percentile reported beside the median
    percentile: Fraction = 0.95


class UsageQuery(Struct, frozen=True, forbid_unknown_fields=True):
    ci: Fraction | None = None
    percentile: Fraction = 0.95


class UsageStats(Struct, frozen=True):
    """One measure (max RSS in bytes, or runtime in seconds) over the counted instances;
    zero values (never measured) are left out. None where nothing was measured."""

    count: int
    min: float | None
    mean: float | None
    median: float | None
    percentile: float | None
    max: float | None
    stddev: float | None
    # [low, high] of the mean at the asked confidence; None without ci or with < 2 values
    ci: list[float] | None


class ResourceUsage(Struct, frozen=True):
    """What the finished instances (D, Z, X, U, F, E) of one task template version used,
    and what its tasks asked for."""

    task_template_version_id: int
    template_name: str
    # finished instances counted (Jobmon's num_tasks) and the tasks they belong to
    instances: int
    tasks: int
    # the version has tasks in some workflow (Jobmon's num_tasks is None when not)
    has_tasks: bool
    percentile: float
    memory: UsageStats
    runtime: UsageStats
    # cores requested by its tasks (absent: 1), and the queue its instances used most
    cores_min: int | None
    cores_max: int | None
    cores_mean: float | None
    queue: str | None
    clusters: list[str]


class TemplateResources(Struct, frozen=True):
    """The resource usage of every task template version a workflow (or a task) uses,
    each over all workflows: what ``jobmon create_resource_yaml`` writes from."""

    templates: list[ResourceUsage]


class TaskResourceUsage(Struct, frozen=True):
    """The DONE instance of a task (Jobmon's ``Task.resource_usage()``); all None if none."""

    task_id: int
    num_attempts: int | None
    nodename: str | None
    runtime: float | None
    memory: int | None


class FilePathsQuery(Struct, frozen=True, forbid_unknown_fields=True):
    array_name: Annotated[str, Meta(max_length=1000)] = ""
    job_name: Annotated[str, Meta(max_length=1000)] = ""
    limit: Annotated[int, Meta(ge=1, le=100_000)] = 5


class FilePath(Struct, frozen=True):
    task_id: int
    task_name: str
    array_name: str
    task_instance_id: int
    stdout_path: str
    stderr_path: str


class FilePaths(Struct, frozen=True):
    workflow_id: int
    paths: list[FilePath]


class ResetRequest(Struct, frozen=True, forbid_unknown_fields=True):
    # keep DONE tasks (Jobmon's partial_reset)
    partial: bool = False


class ResetResponse(Struct, frozen=True):
    workflow_id: int
    # the tasks now REGISTERING with fresh attempts
    tasks_reset: int
    workflow_status: str


class ResumeSignalRequest(Struct, frozen=True, forbid_unknown_fields=True):
    # kill the running instances (cold) or let them finish (hot)
    cold: bool = False


class RunRef(Struct, frozen=True):
    workflow_run_id: int
    status: str
    user: str


class ResumeState(Struct, frozen=True):
    """Whether a new run may start: no earlier run is live or still winding down."""

    workflow_id: int
    resumable: bool
    # runs this request told to stop (only the signal's answer has any)
    taken_over: list[int]
    # runs not over yet
    waiting_for: list[RunRef]


class IncreasedResources(Struct, frozen=True):
    """Tasks whose last attempt hit a resource error, now with scaled resources."""

    workflow_id: int
    task_ids: list[int]


class SubtreeQuery(Struct, frozen=True, forbid_unknown_fields=True):
    # comma-separated task ids
    task_ids: Annotated[str, Meta(min_length=1, max_length=QUERY_TEXT)]
    # comma-separated task status letters: only tasks in these
    status: Annotated[str, Meta(max_length=64)] = ""


class TaskSubtree(Struct, frozen=True):
    """Tasks and everything downstream of them (Jobmon's sub task tree), by task id."""

    task_id: list[int]
    status: list[str]
    name: list[str]
