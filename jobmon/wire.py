"""Wire schemas shared by the server and its callers (msgspec Structs, JSON on the wire).

Bulk payloads are columnar (one list per field) so that 100,000 tasks encode and
decode in milliseconds and map straight onto ``UNNEST($1::bigint[], ...)``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

# The bounds of the fields below, named once; msgspec inlines them, so a name changes
# nothing in the OpenAPI document.
# what a PostgreSQL bigint column holds: an id from 1, a cursor or size from 0
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]
Positive64 = Id  # a bigint that is not an id: MiB, seconds
Int63 = Annotated[int, Meta(ge=0, le=2**63 - 1)]  # a page's after_id/before_id, bytes
Hash63 = Int63
# what a PostgreSQL integer column holds (process ids, cores)
Int32 = Annotated[int, Meta(ge=0, le=2**31 - 1)]
Count = Int32
Positive32 = Annotated[int, Meta(ge=1, le=2**31 - 1)]  # limits, cores, process ids
Name = Annotated[str, Meta(min_length=1, max_length=1000)]
NameFilter = Annotated[str, Meta(max_length=1000)]  # a query's user or name; "" for any
ShortName = Annotated[str, Meta(min_length=1, max_length=255)]  # attribute and queue names
ShortText = Annotated[str, Meta(max_length=255)]
LongText = Annotated[str, Meta(max_length=100_000)]  # workflow args, descriptions, values
HashText = Annotated[str, Meta(min_length=1, max_length=128)]
Token = Annotated[str, Meta(min_length=16, max_length=128)]
StatusFilter = Annotated[str, Meta(max_length=64)]  # comma-separated letters; "" for any
OutputTail = Annotated[str, Meta(max_length=65_536)]  # an instance's stderr tail or error
FilePath = Annotated[str, Meta(max_length=4096)]
Letter = Annotated[str, Meta(min_length=1, max_length=1)]
Seconds = Annotated[float, Meta(ge=0, le=86400 * 366)]
# when the next report is due, a lease: more than nothing, at most a day
ReportSeconds = Annotated[float, Meta(gt=0, le=86400)]
LongPollWait = Annotated[float, Meta(ge=0, le=300)]  # how long a long-poll may hold
# The longest value of a query parameter. The server reads request lines of up to
# jobmon.server.app.MAX_REQUEST_LINE bytes: this many characters, percent-encoded, fit.
QUERY_TEXT = 200_000
QueryText = Annotated[str, Meta(max_length=QUERY_TEXT)]
# A time with its zone (RFC 3339): documented as a date-time so that clients and fuzzers
# generated from the OpenAPI document send times, not arbitrary text
Timestamp = Annotated[str, Meta(min_length=10, max_length=40,
                                extra_json_schema={"format": "date-time"})]


class ErrorBody(Struct, frozen=True):
    code: str
    message: str


class ErrorResponse(Struct, frozen=True):
    error: ErrorBody


class HealthResponse(Struct, frozen=True):
    status: str
    version: str
    database: str
    schema_version: int


# ------------------------------------------------------------------ bind


# Jobmon's workflow and task attributes: name -> value, or None for a name without one
Attributes = dict[ShortName, LongText | None]


class ToolRequest(Struct, frozen=True, forbid_unknown_fields=True):
    name: Name


class ToolResponse(Struct, frozen=True):
    tool_id: int
    tool_version_id: int


class TemplateSpec(Struct, frozen=True, forbid_unknown_fields=True):
    name: Name
    command_template: Annotated[str, Meta(min_length=1, max_length=100_000)]
    node_args: list[Name] = []
    task_args: list[Name] = []
    op_args: list[Name] = []


class TemplatesRequest(Struct, frozen=True, forbid_unknown_fields=True):
    tool_version_id: Id
    templates: Annotated[list[TemplateSpec], Meta(min_length=1, max_length=10_000)]


class TemplatesResponse(Struct, frozen=True):
    task_template_version_ids: list[int]


class WorkflowRequest(Struct, frozen=True, forbid_unknown_fields=True):
    tool_version_id: Id
    name: Name
    workflow_args: LongText
    workflow_args_hash: HashText
    task_hash: HashText
    user: Name
    num_tasks: Count
    max_concurrently_running: Positive32 = 10_000
    description: LongText = ""
    default_cluster_name: ShortText = ""
    attributes: Attributes = {}
    # the bind precedes a resume: an existing workflow takes the new name, description,
    # limit and attributes (as it does when it never ran)
    resume: bool = False


class WorkflowResponse(Struct, frozen=True):
    workflow_id: int
    created: bool
    status: str
    bound: bool
    num_runs: int


class ArraySpec(Struct, frozen=True, forbid_unknown_fields=True):
    task_template_version_id: Id
    name: Name
    max_concurrently_running: Positive32 = 10_000


class ArraysRequest(Struct, frozen=True, forbid_unknown_fields=True):
    arrays: Annotated[list[ArraySpec], Meta(min_length=1, max_length=100_000)]


class ArraysResponse(Struct, frozen=True):
    array_ids: list[int]


class TaskConfig(Struct, frozen=True, forbid_unknown_fields=True):
    """Settings many tasks share; tasks point at one by index."""

    cluster_name: ShortText
    compute_resources: dict[str, Any] = {}
    resource_scales: dict[str, Any] = {}
    fallback_queues: list[ShortText] = []
    max_attempts: Annotated[int, Meta(ge=1, le=1000)] = 3


class TasksChunk(Struct, frozen=True, forbid_unknown_fields=True):
    """Tasks of one workflow, one list per field, all lists the same length."""

    configs: Annotated[list[TaskConfig], Meta(min_length=1)]
    array_id: list[Id]
    node_args_hash: list[Hash63]
    task_args_hash: list[Hash63]
    name: list[Name]
    command: list[Annotated[str, Meta(min_length=1, max_length=1_000_000)]]
    config_index: list[Count]
    args: list[dict[str, str]]
    # one per task (None: none given), or empty when no task has any
    attributes: list[Attributes | None] = []
    # Tasks that exist already take the command, name, settings and max_attempts sent here
    # if they are not DONE, when this bind precedes a resume or the workflow never ran. A
    # task in flight keeps its own unless ``reset_running`` (a cold resume kills it).
    resume: bool = False
    reset_running: bool = False


class TasksResponse(Struct, frozen=True):
    task_ids: list[int]


class EdgesChunk(Struct, frozen=True, forbid_unknown_fields=True):
    upstream_task_id: list[Id]
    downstream_task_id: list[Id]


class EdgesResponse(Struct, frozen=True):
    inserted: int


class BoundRequest(Struct, frozen=True, forbid_unknown_fields=True):
    num_tasks: Count
    num_edges: Count


class BoundResponse(Struct, frozen=True):
    workflow_id: int
    status: str


# ------------------------------------------------------------------ reading a workflow back


class PageQuery(Struct, frozen=True, forbid_unknown_fields=True):
    after_id: Int63 = 0
    limit: Annotated[int, Meta(ge=1, le=500_000)] = 10_000


class ChangesQuery(Struct, frozen=True, forbid_unknown_fields=True):
    # a PostgreSQL snapshot as text: its list of running transactions is short
    cursor: QueryText = ""
    wait: LongPollWait = 0.0
    # after the first change, how long to gather more before answering (more changes usually
    # follow the first); 0 when the swarm knows none can follow (one task in flight)
    gather: Annotated[float, Meta(ge=0, le=1)] = 0.01


class WorkflowInfo(Struct, frozen=True):
    workflow_id: int
    name: str
    workflow_args: str
    user: str
    status: str
    max_concurrently_running: int
    num_tasks: int
    created_at: str
    status_date: str
    latest_run_id: int | None
    latest_run_status: str | None
    default_cluster_name: str
    attributes: dict[str, str | None] = {}


class TaskRows(Struct, frozen=True):
    """A page of a workflow's tasks (columnar), for building swarm state on resume."""

    task_id: list[int]
    array_id: list[int]
    status: list[str]
    num_attempts: list[int]
    max_attempts: list[int]
    config_index: list[int]
    configs: list[TaskConfig]
    name: list[str]
    next_after_id: int | None


class EdgeRows(Struct, frozen=True):
    upstream_task_id: list[int]
    downstream_task_id: list[int]
    next_after_id: int | None


class ArrayInfo(Struct, frozen=True):
    array_id: int
    name: str
    task_template_version_id: int
    template_name: str
    max_concurrently_running: int


class ArraysInfo(Struct, frozen=True):
    arrays: list[ArrayInfo]


# ------------------------------------------------------------------ runs and the swarm


class RunRequest(Struct, frozen=True, forbid_unknown_fields=True):
    user: Name
    resume: bool = False
    cold: bool = True
    jobmon_version: ShortText = ""
    timeout: Annotated[float, Meta(ge=0, le=3600)] = 60.0


class RunResponse(Struct, frozen=True):
    workflow_run_id: int
    status: str
    resumed_from: list[int]
    # the first change cursor (GET .../changes from here on) and the limits the swarm
    # queues within, as the run began
    cursor: str
    max_concurrently_running: int
    array_limits: dict[str, int]


class RunStatusRequest(Struct, frozen=True, forbid_unknown_fields=True):
    status: Letter
    message: Annotated[str, Meta(max_length=10_000)] = ""


class RunStatusResponse(Struct, frozen=True):
    workflow_run_id: int
    status: str
    applied: bool
    workflow_status: str


class RunHeartbeatRequest(Struct, frozen=True, forbid_unknown_fields=True):
    next_report_seconds: ReportSeconds


class RunHeartbeatResponse(Struct, frozen=True):
    status: str
    max_concurrently_running: int


class QueueGroup(Struct, frozen=True, forbid_unknown_fields=True):
    """Tasks queued together with the same resources (None: each task's bound resources)."""

    task_ids: list[Id]
    compute_resources: dict[str, Any] | None = None


class TaskChanges(Struct, frozen=True):
    task_id: list[int]
    status: list[str]
    num_attempts: list[int]
    error_status: list[str | None]


class ScheduleRequest(Struct, frozen=True, forbid_unknown_fields=True):
    """One swarm tick's decisions, applied in order in one transaction."""

    fatal: list[Id] = []
    adjust: list[Id] = []
    queue: list[QueueGroup] = []


class ScheduleResponse(Struct, frozen=True):
    fatal: int
    adjusted: int
    queued: list[int]
    # asked to queue but not queued: the server holds another status for them (a change
    # the swarm has yet to hear of, or a replayed request); their states as they are now
    skipped: list[int]
    skipped_states: TaskChanges


class ChangesResponse(Struct, frozen=True):
    cursor: str
    run_status: str
    max_concurrently_running: int
    array_limits: dict[str, int]
    tasks: TaskChanges


# ------------------------------------------------------------------ distributor and worker


class ClaimRequest(Struct, frozen=True, forbid_unknown_fields=True):
    cluster_name: ShortText
    workflow_run_id: Id | None = None
    limit: Annotated[int, Meta(ge=0, le=100_000)] = 1000
    wait: LongPollWait = 0.0
    next_report_seconds: ReportSeconds = 90.0
    # answer the upstream outputs of each claimed instance with upstream tasks (`inputs`):
    # a distributor that starts commands itself saves a round trip before each start
    with_inputs: bool = False


class ClaimedInstance(Struct, frozen=True):
    task_instance_id: int
    task_id: int
    workflow_id: int
    workflow_run_id: int
    array_id: int
    name: str
    command: str
    compute_resources: dict[str, Any]
    attempt: int
    context: Any = None
    # for a worker on a shared cluster: reports on this instance, and nothing else
    credential: str = ""
    # issued by the database at the claim; the local distributor writes it into the
    # instance's status file, which proves the file is this launch's
    launch_token: str = ""
    # whether its task has upstream tasks, whose outputs it finds at JOBMON_INPUTS
    has_upstream: bool = False
    # those outputs by upstream task name, when the claim asked for them (with_inputs)
    inputs: dict[str, Any] | None = None
    # whether its workflow takes finished runs as input, which it finds at JOBMON_RUNS
    # (their data: ClaimResponse.runs, with_inputs; or POST /task_instances/inputs)
    has_runs: bool = False


class KillOrder(Struct, frozen=True):
    task_instance_id: int
    distributor_id: str | None
    status: str


class ClaimResponse(Struct, frozen=True):
    instances: list[ClaimedInstance]
    kill: list[KillOrder]
    # with_inputs: {workflow id: JOBMON_RUNS' content} of the claimed instances' workflows
    # that take finished runs as input (once per workflow, not per instance)
    runs: dict[int, dict[str, Any]] = {}


class InstanceUpdate(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    task_instance_id: Id
    status: Letter
    distributor_id: ShortText | None = None
    nodename: ShortText | None = None
    process_id: Int32 | None = None
    exit_code: Annotated[int, Meta(ge=-255, le=255)] | None = None
    stderr_tail: OutputTail | None = None
    error_message: OutputTail | None = None
    maxrss: Int63 | None = None
    wallclock: Annotated[float, Meta(ge=0)] | None = None
    stdout_path: FilePath | None = None
    stderr_path: FilePath | None = None
    output: Any = None
    context: Any = None
    next_report_seconds: ReportSeconds | None = None


class TransitionsRequest(Struct, frozen=True, forbid_unknown_fields=True):
    source: Annotated[str, Meta(pattern="^(swarm|distributor|worker|reaper|operator)$")]
    updates: Annotated[list[InstanceUpdate], Meta(max_length=100_000)]


class TransitionsResponse(Struct, frozen=True):
    """Per update: 'applied', 'ignored' (repeated or late) or 'rejected', and the status now."""

    results: list[str]
    statuses: list[str | None]


class InstanceHeartbeatRequest(Struct, frozen=True, forbid_unknown_fields=True):
    task_instance_ids: Annotated[list[Id], Meta(max_length=100_000)]
    next_report_seconds: ReportSeconds


class InstanceHeartbeatResponse(Struct, frozen=True):
    """Instances among those sent that must stop (KILL_SELF or no longer active)."""

    kill: list[int]


class InstanceInfo(Struct, frozen=True):
    task_instance_id: int
    task_id: int
    workflow_id: int
    workflow_run_id: int
    status: str
    command: str
    compute_resources: dict[str, Any]
    attempt: int
    name: str
    context: Any = None
    launch_token: str = ""  # see ClaimedInstance
    has_upstream: bool = False  # see ClaimedInstance
    has_runs: bool = False  # see ClaimedInstance


def encode(value: object) -> bytes:
    return _ENCODER.encode(value)


_ENCODER = msgspec.json.Encoder()


# ------------------------------------------------------------------ watching and steering


class WorkflowSummary(Struct, frozen=True):
    workflow_id: int
    name: str
    user: str
    status: str
    num_tasks: int
    counts: dict[str, int]
    retries: int
    latest_run_id: int | None
    latest_run_status: str | None
    max_concurrently_running: int
    created_at: str
    status_date: str
    attributes: dict[str, str | None] = {}


class TaskStates(Struct, frozen=True):
    """A page of tasks with their state (columnar)."""

    task_id: list[int]
    name: list[str]
    status: list[str]
    num_attempts: list[int]
    max_attempts: list[int]
    context: list[Any]
    exit_code: list[int | None]
    error_message: list[str | None]
    stderr_tail: list[str | None]
    next_after_id: int | None


class TaskStatesQuery(Struct, frozen=True, forbid_unknown_fields=True):
    after_id: Int63 = 0
    limit: Annotated[int, Meta(ge=1, le=100_000)] = 10_000
    status: StatusFilter = ""
    # comma-separated ids: about 25,000 of them
    task_ids: QueryText = ""
    # highest task id first; ``after_id`` then pages downwards (ids below it)
    newest_first: bool = False


class Outputs(Struct, frozen=True):
    task_id: list[int]
    name: list[str]
    output: list[Any]
    next_after_id: int | None


class HistoryRow(Struct, frozen=True, array_like=True):
    """One status change: of an instance (kind "instance"), or of the task itself ("task",
    with the instance whose report moved it, if one did)."""

    time: str
    task_instance_id: int | None
    status: str
    # who: swarm, distributor, worker, reaper or operator
    source: str
    kind: str = "instance"
    # the status before (None: the instance's first)
    from_status: str | None = None
    # the user whose request made the change (None: the server's own reaper)
    user: str | None = None
    # run, cluster job id, host, pid, reason, what an operator asked for
    context: dict[str, Any] = {}


class TaskHistory(Struct, frozen=True):
    task_id: int
    rows: list[HistoryRow]


class WorkflowHistoryRow(Struct, frozen=True):
    """A status change of a workflow or of one of its runs, or an operator action on it."""

    time: str
    kind: str  # "workflow" or "run"
    workflow_run_id: int | None
    from_status: str | None
    status: str
    source: str
    user: str | None
    # task_update, stop, resume, concurrency, reset, prune, clear; None: a status change
    action: str | None
    context: dict[str, Any]


class WorkflowHistory(Struct, frozen=True):
    workflow_id: int
    rows: list[WorkflowHistoryRow]


class ConcurrencyRequest(Struct, frozen=True, forbid_unknown_fields=True):
    max_concurrently_running: Positive32


class ConcurrencyResponse(Struct, frozen=True):
    workflow_id: int
    max_concurrently_running: int


class StopResponse(Struct, frozen=True):
    workflow_id: int
    workflow_run_id: int | None
    killed: int


class ClearResponse(Struct, frozen=True):
    workflow_id: int
    deleted_tasks: int


# ------------------------------------------------------------------ distributor daemons


class LeaseRequest(Struct, frozen=True, forbid_unknown_fields=True):
    """A daemon takes or renews the lease that makes it the one daemon of a cluster."""

    token: Token
    hostname: ShortText
    process_id: Int32
    lease_seconds: ReportSeconds
    # the holder is this process on the same host, and the caller saw it die
    takeover_process_id: Positive32 | None = None


class LeaseRelease(Struct, frozen=True, forbid_unknown_fields=True):
    token: Token


class DistributorStatus(Struct, frozen=True):
    """Whether a daemon serves the cluster (``live``), and which process it is."""

    cluster_name: str
    live: bool
    hostname: str = ""
    process_id: int = 0
    started_at: str = ""
    heartbeat_date: str = ""
    seconds_left: float = 0.0


class LiveInstancesQuery(Struct, frozen=True, forbid_unknown_fields=True):
    workflow_run_id: Id | None = None
    after_id: Int63 = 0
    limit: Annotated[int, Meta(ge=1, le=100_000)] = 10_000


class LiveInstances(Struct, frozen=True):
    """Instances of a cluster that a distributor launched and that are not over yet."""

    task_instance_id: list[int]
    distributor_id: list[str]
    status: list[str]
    next_after_id: int | None
    workflow_id: list[int] = []
    workflow_run_id: list[int] = []
    # the run the asking distributor serves (None: a daemon serving the whole cluster)
    for_run: int | None = None
    launch_token: list[str] = []  # "" for an instance claimed before launch ids existed


# ------------------------------------------------------------------ operators and the dashboard


class WorkflowListQuery(Struct, frozen=True, forbid_unknown_fields=True):
    """Filters of the workflow list; newest first, paged with ``before_id``."""

    user: NameFilter = ""
    # comma-separated workflow status letters
    status: StatusFilter = ""
    # a case-insensitive part of the name
    name: NameFilter = ""
    # comma-separated ids: exactly these workflows
    workflow_ids: QueryText = ""
    before_id: Int63 = 0
    limit: Annotated[int, Meta(ge=1, le=1000)] = 50


class WorkflowList(Struct, frozen=True):
    workflows: list[WorkflowSummary]
    next_before_id: int | None


class InstanceDetail(Struct, frozen=True):
    """One task instance with everything known about its outcome, and its status timeline."""

    task_instance_id: int
    task_id: int
    workflow_run_id: int
    attempt: int
    status: str
    status_date: str
    cluster_name: str
    compute_resources: dict[str, Any]
    distributor_id: str | None
    nodename: str | None
    process_id: int | None
    exit_code: int | None
    error_message: str | None
    stderr_tail: str | None
    maxrss: int | None
    wallclock: float | None
    stdout_path: str | None
    stderr_path: str | None
    timeline: list[HistoryRow]


class TaskDetail(Struct, frozen=True):
    task_id: int
    workflow_id: int
    name: str
    command: str
    status: str
    status_date: str
    num_attempts: int
    max_attempts: int
    array_id: int
    template_name: str
    output: Any
    context: Any
    instances: list[InstanceDetail]
    attributes: dict[str, str | None] = {}
    # the task's own status changes (kind "task"), oldest first
    history: list[HistoryRow] = []


class TaskRef(Struct, frozen=True):
    task_id: int
    name: str
    status: str


class TaskDependencies(Struct, frozen=True):
    task_id: int
    workflow_id: int
    upstream: list[TaskRef]
    downstream: list[TaskRef]


class TaskUpdateRequest(Struct, frozen=True, forbid_unknown_fields=True):
    """Mark tasks DONE (D), or reset them and everything downstream to REGISTERING (G)."""

    task_ids: Annotated[list[Id], Meta(min_length=1, max_length=100_000)]
    status: Annotated[str, Meta(pattern="^[DG]$")]
    # answer what would change, change nothing
    dry_run: bool = False
    # D: also every task upstream of them (G always takes everything downstream)
    recursive: bool = False


class TaskUpdateResponse(Struct, frozen=True):
    workflow_id: int
    status: str
    # every task now in ``status`` because of the request (for G: with all downstream)
    task_ids: list[int]
    workflow_status: str
    dry_run: bool


class ArrayProgress(Struct, frozen=True):
    """The tasks of one task template (array) of a workflow, by status."""

    array_id: int
    template_name: str
    num_tasks: int
    counts: dict[str, int]
    max_concurrently_running: int


class ErrorGroup(Struct, frozen=True):
    """Failed tasks that failed the same way: exit code, instance status, last stderr line."""

    exit_code: int | None
    instance_status: str | None
    message: str
    tasks: int
    # the first few of them
    task_ids: list[int]
    task_names: list[str]


class WorkflowOverview(Struct, frozen=True):
    summary: WorkflowSummary
    arrays: list[ArrayProgress]
    errors: list[ErrorGroup]


class TemplateEdge(Struct, frozen=True):
    upstream_array_id: int
    downstream_array_id: int
    edges: int


class TemplateEdges(Struct, frozen=True):
    edges: list[TemplateEdge]


class RunDetail(Struct, frozen=True):
    workflow_run_id: int
    status: str
    user: str
    jobmon_version: str
    message: str
    created_at: str
    status_date: str
    heartbeat_date: str
    timeline: list[HistoryRow]


class WorkflowRuns(Struct, frozen=True):
    workflow_id: int
    runs: list[RunDetail]


class ExportPage(Struct, frozen=True):
    """A page of a workflow's tasks with their instances, for archives."""

    tasks: list[TaskDetail]
    next_after_id: int | None


class PruneCandidatesQuery(Struct, frozen=True, forbid_unknown_fields=True):
    # ISO 8601 with a time zone: workflows whose status is older than this
    before: Timestamp
    status: StatusFilter = "D,F,H,A"
    after_id: Int63 = 0
    limit: Annotated[int, Meta(ge=1, le=10_000)] = 1000


class PruneCandidate(Struct, frozen=True):
    workflow_id: int
    name: str
    user: str
    status: str
    status_date: str
    num_tasks: int


class PruneCandidates(Struct, frozen=True):
    workflows: list[PruneCandidate]
    next_after_id: int | None


class PruneRequest(Struct, frozen=True, forbid_unknown_fields=True):
    """Delete one batch of a finished workflow; the last batch deletes the workflow itself."""

    before: Timestamp
    statuses: Annotated[list[Letter], Meta(min_length=1, max_length=9)]
    batch_size: Annotated[int, Meta(ge=1, le=50_000)] = 1000


class PruneResponse(Struct, frozen=True):
    workflow_id: int
    deleted_tasks: int
    # the workflow is gone: this was its last batch
    done: bool


# ------------------------------------------------------------------ cluster queues


class QueueInfo(Struct, frozen=True, forbid_unknown_fields=True):
    """One queue (partition) of a cluster and its limits; None means no limit."""

    name: ShortName
    max_cores: Positive32 | None = None
    max_memory_mib: Positive64 | None = None
    max_runtime_seconds: Positive64 | None = None
    is_default: bool = False


class ClusterQueues(Struct, frozen=True, forbid_unknown_fields=True):
    queues: Annotated[list[QueueInfo], Meta(max_length=10_000)]


# ------------------------------------------------------------------ errors of a run's tasks

ALL_ERRORS = 10_000_000  # the limit that stands for "all" (Jobmon's get_errors(limit=None))


class TaskErrorsQuery(Struct, frozen=True, forbid_unknown_fields=True):
    limit: Annotated[int, Meta(ge=1, le=ALL_ERRORS)] = 1000
    # only tasks that failed for good (ERROR_FATAL)
    fatal_only: bool = False


class TaskErrors(Struct, frozen=True):
    """The latest failed instance of each task that has one (columnar), by task id."""

    task_id: list[int]
    task_name: list[str]
    task_status: list[str]
    task_instance_id: list[int]
    # the status-history row of the failure: Jobmon's task_instance_error_log_id
    error_log_id: list[int | None]
    error_time: list[str]
    instance_status: list[str]
    exit_code: list[int | None]
    error_message: list[str | None]
    stderr_tail: list[str | None]


class AttributesRequest(Struct, frozen=True, forbid_unknown_fields=True):
    """Attributes to add to a workflow, or whose values change (Jobmon's add_attributes)."""

    attributes: Attributes


class AttributesResponse(Struct, frozen=True):
    workflow_id: int
    attributes: dict[str, str | None]
