"""Wire schemas of the dashboard's pictures (resources and time), the status vocabulary, and
the live limits of a workflow's task templates."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from jobmon.wire_operator import ResourceUsage

Limit = Annotated[int, Meta(ge=1, le=2**31 - 1)]


class ResourcePoints(Struct, frozen=True):
    """Finished instances of one template in a workflow, one column per measure (a sample
    of at most ``max_points`` per template; the counts are of all of them)."""

    task_instance_id: list[int]
    task_id: list[int]
    status: list[str]
    # max RSS in bytes and runtime in seconds, None where never measured
    maxrss: list[int | None]
    wallclock: list[float | None]
    # what the instance asked for: memory in bytes, runtime in seconds (None: no request)
    memory_request: list[float | None]
    runtime_request: list[float | None]
    # "memory" or "runtime" for an instance killed for using too much, else None
    killed_for: list[str | None]


class TemplatePicture(Struct, frozen=True):
    array_id: int
    task_template_version_id: int
    template_name: str
    # finished instances of this workflow, all of them (the points may be a sample)
    finished: int
    killed_memory: int
    killed_runtime: int
    # used under a fifth of the memory, or of the runtime, they asked for
    under_fifth_memory: int
    under_fifth_runtime: int
    points: ResourcePoints
    # the usage over all workflows and the request it suggests, as `jobmon
    # create_resource_yaml` writes it (memory like "1536M", runtime in seconds)
    usage: ResourceUsage | None
    suggested: dict[str, Any]


class ResourcePictureQuery(Struct, frozen=True, forbid_unknown_fields=True):
    max_points: Annotated[int, Meta(ge=1, le=100_000)] = 2000


class ResourcePicture(Struct, frozen=True):
    workflow_id: int
    templates: list[TemplatePicture]


class TimelineQuery(Struct, frozen=True, forbid_unknown_fields=True):
    # the run to show; 0: the latest
    workflow_run_id: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0
    # above this many instances the timeline is aggregated: running counts over time
    max_bars: Annotated[int, Meta(ge=0, le=100_000)] = 3000
    # time slices of an aggregated timeline
    buckets: Annotated[int, Meta(ge=1, le=2000)] = 240


class TimelineBars(Struct, frozen=True):
    """One bar per instance that ran, from RUNNING to its end (None: still going)."""

    task_instance_id: list[int]
    task_id: list[int]
    array_id: list[int]
    status: list[str]
    started: list[str]
    ended: list[str | None]


class RunningCounts(Struct, frozen=True):
    """Instances of one template that ran at some time in each slice of the run."""

    array_id: int
    instances: int
    counts: list[int]


class Timeline(Struct, frozen=True):
    workflow_id: int
    workflow_run_id: int | None
    run_status: str | None
    # the server's time now (open bars end here) and the span shown
    now: str
    start: str | None
    end: str | None
    # instances of the run that ran, and whether they are shown as bars or as counts
    instances: int
    aggregated: bool
    templates: dict[str, str]  # array id: template name
    bars: TimelineBars | None
    buckets: int
    running: list[RunningCounts]


class TemplateConcurrencyRequest(Struct, frozen=True, forbid_unknown_fields=True):
    """A new limit for one task template (array) of a workflow: name it or give its id."""

    max_concurrently_running: Limit
    task_template: Annotated[str, Meta(max_length=1000)] = ""
    array_id: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0


class TemplateConcurrencyResponse(Struct, frozen=True):
    workflow_id: int
    array_id: int
    task_template: str
    max_concurrently_running: int
