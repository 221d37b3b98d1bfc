"""Every HTTP endpoint of the server, written once: the server registers its routes from this
table and every client calls through it (`tests/unit/test_endpoints.py` holds both to it).

An ``Endpoint`` is a method, a route template and the msgspec structs of its body, its
query and its answer. ``path_for`` fills the template in, and is the one place that quotes
a path parameter. The requesters' ``call`` sends a request to one.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, Generic, TypeVar

from jobmon import wire, worker_routes
from jobmon import wire_operator as wo
from jobmon import wire_pictures as wp
from jobmon import wire_results as wr

R = TypeVar("R")
_PARAMETER = re.compile(r"{(\w+)}")


class Endpoint(Generic[R]):
    """One route: ``request`` is the body's struct (None: no body), ``response`` the answer's;
    ``query`` the struct its query string decodes into (None: it takes none)."""

    # a plain class, not a dataclass: `jobmon worker` imports this once per job
    __slots__ = ("method", "parameters", "path", "query", "request", "response")

    def __init__(self, method: str, path: str, request: type[Any] | None, response: type[R],
                 query: type[Any] | None = None) -> None:
        self.method = method
        self.path = path
        self.request = request
        self.response = response
        self.query = query
        self.parameters: tuple[str, ...] = tuple(_PARAMETER.findall(path))

    def __repr__(self) -> str:
        return f"Endpoint({self.method} {self.path})"

    def check_body(self, body: object) -> None:
        """Refuse a body this endpoint does not take (the server would answer 400)."""
        if self.request is None:
            if body is not None:
                raise TypeError(f"{self.method} {self.path} takes no body")
        elif not isinstance(body, self.request):
            raise TypeError(f"{self.method} {self.path} takes a {self.request.__name__}, "
                            f"not {type(body).__name__}")

    def path_for(self, **parameters: object) -> str:
        """The path with each ``{name}`` replaced by its value, quoted (a ``/`` included).

        The result is sent as it is (already quoted): a value of ``.`` or ``..`` is quoted
        too, as a URL would otherwise drop it as a dot segment and call another path.
        """
        if set(parameters) != set(self.parameters):
            raise TypeError(f"{self.method} {self.path} takes the path parameters "
                            f"{list(self.parameters)}, not {sorted(parameters)}")
        return _PARAMETER.sub(lambda match: _quoted(str(parameters[match[1]])), self.path)


def _quoted(value: str) -> str:
    if value in (".", ".."):
        return "%2E" * len(value)
    return urllib.parse.quote(value, safe="")


ENDPOINTS: list[Endpoint[Any]] = []


def _endpoint(method: str, path: str, request: type[Any] | None, response: type[R],
              query: type[Any] | None = None) -> Endpoint[R]:
    endpoint = Endpoint(method, path, request, response, query)
    ENDPOINTS.append(endpoint)
    return endpoint


_WORKFLOW = "/api/v1/workflows/{workflow_id}"
_RUN = "/api/v1/workflow_runs/{workflow_run_id}"
_TASK = "/api/v1/tasks/{task_id}"
_CLUSTER = "/api/v1/distributors/{cluster_name}"
_QUEUES = "/api/v1/clusters/{cluster_name}/queues"

# meta
HEALTH = _endpoint("GET", "/health", None, wire.HealthResponse)
OPENAPI = _endpoint("GET", "/api/v1/openapi.json", None, dict[str, Any])
STATUSES = _endpoint("GET", "/api/v1/statuses", None, dict[str, Any])

# binding: tools, templates, the workflow, its arrays, tasks and edges
UPSERT_TOOL = _endpoint("POST", "/api/v1/tools", wire.ToolRequest, wire.ToolResponse)
UPSERT_TEMPLATES = _endpoint("POST", "/api/v1/task_templates", wire.TemplatesRequest,
                             wire.TemplatesResponse)
CREATE_WORKFLOW = _endpoint("POST", "/api/v1/workflows", wire.WorkflowRequest,
                            wire.WorkflowResponse)
UPSERT_ARRAYS = _endpoint("POST", _WORKFLOW + "/arrays", wire.ArraysRequest,
                          wire.ArraysResponse)
INSERT_TASKS = _endpoint("POST", _WORKFLOW + "/tasks", wire.TasksChunk, wire.TasksResponse)
INSERT_EDGES = _endpoint("POST", _WORKFLOW + "/edges", wire.EdgesChunk, wire.EdgesResponse)
FINISH_BIND = _endpoint("POST", _WORKFLOW + "/bound", wire.BoundRequest, wire.BoundResponse)
ADD_ATTRIBUTES = _endpoint("POST", _WORKFLOW + "/attributes", wire.AttributesRequest,
                           wire.AttributesResponse)

# reading a workflow
WORKFLOW = _endpoint("GET", _WORKFLOW, None, wire.WorkflowInfo)
ARRAYS = _endpoint("GET", _WORKFLOW + "/arrays", None, wire.ArraysInfo)
TASKS = _endpoint("GET", _WORKFLOW + "/tasks", None, wire.TaskRows, wire.PageQuery)
EDGES = _endpoint("GET", _WORKFLOW + "/edges", None, wire.EdgeRows, wire.PageQuery)
WORKFLOW_ERRORS = _endpoint("GET", _WORKFLOW + "/errors", None, wire.TaskErrors,
                            wire.TaskErrorsQuery)
TASK_ERRORS = _endpoint("GET", _TASK + "/errors", None, wire.TaskErrors, wire.TaskErrorsQuery)

# runs
CREATE_RUN = _endpoint("POST", _WORKFLOW + "/runs", wire.RunRequest, wire.RunResponse)
RUN_STATUS = _endpoint("POST", _RUN + "/status", wire.RunStatusRequest, wire.RunStatusResponse)
START_RUN = _endpoint("POST", _RUN + "/start", None, wire.RunStatusResponse)
RUN_HEARTBEAT = _endpoint("POST", _RUN + "/heartbeat", wire.RunHeartbeatRequest,
                          wire.RunHeartbeatResponse)
RUN_SCHEDULE = _endpoint("POST", _RUN + "/schedule", wire.ScheduleRequest,
                         wire.ScheduleResponse)
RUN_CHANGES = _endpoint("GET", _RUN + "/changes", None, wire.ChangesResponse, wire.ChangesQuery)

# status
WORKFLOW_STATUS = _endpoint("GET", _WORKFLOW + "/status", None, wire.WorkflowSummary)
TASK_STATES = _endpoint("GET", _WORKFLOW + "/task_states", None, wire.TaskStates,
                        wire.TaskStatesQuery)
OUTPUTS = _endpoint("GET", _WORKFLOW + "/outputs", None, wire.Outputs, wire.PageQuery)
TASK_HISTORY = _endpoint("GET", _TASK + "/history", None, wire.TaskHistory)
WORKFLOW_HISTORY = _endpoint("GET", _WORKFLOW + "/history", None, wire.WorkflowHistory)
TIMELINE = _endpoint("GET", _WORKFLOW + "/timeline", None, wp.Timeline, wp.TimelineQuery)
RESOURCE_PICTURE = _endpoint("GET", _WORKFLOW + "/resource_picture", None,
                             wp.ResourcePicture, wp.ResourcePictureQuery)

# operator
SET_CONCURRENCY = _endpoint("POST", _WORKFLOW + "/concurrency", wire.ConcurrencyRequest,
                            wire.ConcurrencyResponse)
SET_TEMPLATE_CONCURRENCY = _endpoint("POST", _WORKFLOW + "/template_concurrency",
                                     wp.TemplateConcurrencyRequest,
                                     wp.TemplateConcurrencyResponse)
STOP_WORKFLOW = _endpoint("POST", _WORKFLOW + "/stop", None, wire.StopResponse)
CLEAR_WORKFLOW = _endpoint("DELETE", _WORKFLOW, None, wire.ClearResponse)
LIST_WORKFLOWS = _endpoint("GET", "/api/v1/workflows", None, wire.WorkflowList,
                           wire.WorkflowListQuery)
OVERVIEW = _endpoint("GET", _WORKFLOW + "/overview", None, wire.WorkflowOverview)
TEMPLATE_EDGES = _endpoint("GET", _WORKFLOW + "/template_edges", None, wire.TemplateEdges)
WORKFLOW_RUNS = _endpoint("GET", _WORKFLOW + "/runs", None, wire.WorkflowRuns)
EXPORT = _endpoint("GET", _WORKFLOW + "/export", None, wire.ExportPage, wire.PageQuery)
UPDATE_TASKS = _endpoint("POST", _WORKFLOW + "/task_status", wire.TaskUpdateRequest,
                         wire.TaskUpdateResponse)
TASK = _endpoint("GET", _TASK, None, wire.TaskDetail)
TASK_DEPENDENCIES = _endpoint("GET", _TASK + "/dependencies", None, wire.TaskDependencies)
TASK_SUBTREE = _endpoint("GET", "/api/v1/task_subtree", None, wo.TaskSubtree, wo.SubtreeQuery)
PRUNE_CANDIDATES = _endpoint("GET", "/api/v1/prune_candidates", None, wire.PruneCandidates,
                             wire.PruneCandidatesQuery)
PRUNE = _endpoint("POST", _WORKFLOW + "/prune", wire.PruneRequest, wire.PruneResponse)

# self-service: reset, resume, resources
RESET = _endpoint("POST", _WORKFLOW + "/reset", wo.ResetRequest, wo.ResetResponse)
RESUME_SIGNAL = _endpoint("POST", _WORKFLOW + "/resume_signal", wo.ResumeSignalRequest,
                          wo.ResumeState)
RESUMABLE = _endpoint("GET", _WORKFLOW + "/resumable", None, wo.ResumeState)
INCREASE_RESOURCES = _endpoint("POST", _WORKFLOW + "/increase_resources", None,
                               wo.IncreasedResources)

# resource usage
TEMPLATE_VERSION_USAGE = _endpoint(
    "GET", "/api/v1/task_template_versions/{task_template_version_id}/resource_usage", None,
    wo.ResourceUsage, wo.ResourceUsageQuery)
WORKFLOW_TEMPLATE_RESOURCES = _endpoint("GET", _WORKFLOW + "/template_resources", None,
                                        wo.TemplateResources, wo.UsageQuery)
TASK_TEMPLATE_RESOURCES = _endpoint("GET", _TASK + "/template_resources", None,
                                    wo.TemplateResources, wo.UsageQuery)
TASK_USAGE = _endpoint("GET", _TASK + "/resource_usage", None, wo.TaskResourceUsage)
FILE_PATHS = _endpoint("GET", _WORKFLOW + "/filepaths", None, wo.FilePaths, wo.FilePathsQuery)

# results and chains
INPUTS = _endpoint("POST", worker_routes.INPUTS, wr.InputsRequest,
                   wr.InputsResponse)
LINK = _endpoint("POST", _WORKFLOW + "/link", wr.LinkRequest, wr.Chain)
CHAIN = _endpoint("GET", _WORKFLOW + "/chain", None, wr.Chain)
DECLARE = _endpoint("POST", _WORKFLOW + "/declarations", wr.Declarations,
                    wr.DeclarationsResponse)
DECLARATIONS = _endpoint("GET", _WORKFLOW + "/declarations", None, wr.DeclarationsResponse)

# distributors, clusters and task instances
SET_QUEUES = _endpoint("POST", _QUEUES, wire.ClusterQueues, wire.ClusterQueues)
QUEUES = _endpoint("GET", _QUEUES, None, wire.ClusterQueues)
LEASE = _endpoint("POST", _CLUSTER + "/lease", wire.LeaseRequest, wire.DistributorStatus)
RELEASE = _endpoint("POST", _CLUSTER + "/release", wire.LeaseRelease, wire.DistributorStatus)
DISTRIBUTOR = _endpoint("GET", _CLUSTER, None, wire.DistributorStatus)
LIVE_INSTANCES = _endpoint("GET", _CLUSTER + "/instances", None, wire.LiveInstances,
                           wire.LiveInstancesQuery)
CLAIM = _endpoint("POST", "/api/v1/distributor/claim", wire.ClaimRequest, wire.ClaimResponse)
TRANSITIONS = _endpoint("POST", worker_routes.TRANSITIONS, wire.TransitionsRequest,
                        wire.TransitionsResponse)
INSTANCE_HEARTBEAT = _endpoint("POST", worker_routes.INSTANCE_HEARTBEAT,
                               wire.InstanceHeartbeatRequest, wire.InstanceHeartbeatResponse)
INSTANCE = _endpoint("GET", worker_routes.INSTANCE, None, wire.InstanceInfo)

