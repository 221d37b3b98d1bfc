"""Every HTTP write can be retried: sent twice (same body, same X-Request-Id), it changes the
database once, and the second answer agrees with the first (the same ids, a no-op, or a
404 after a delete).

The write routes come from the OpenAPI document, so a new one without a replay case here
fails the test instead of going unchecked.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jobmon import wire
from jobmon import wire_operator as wo
from jobmon import wire_pictures as wp
from jobmon import wire_results as wr
from jobmon.server import openapi
from jobmon.server.app import create_app  # noqa: F401  (registers every route on API)
from jobmon.server.routes import API
from tests.integration.helpers import fetch
from tests.integration.seed import LiveWorkflow, Seeded, live_workflow, seeded_server
from tests.support import ServerThread

pytestmark = pytest.mark.timeout(120)

WRITE_METHODS = ("post", "put", "patch", "delete")
WRITES = sorted((method.upper(), path)
                for path, methods in openapi.build(API.routes)["paths"].items()
                for method in methods if method in WRITE_METHODS)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass
class Replay:
    """One write to send twice, and how its two answers must agree."""

    path: str
    body: object
    check: Callable[[Answer, Answer], None]
    method: str = "POST"
    first_status: int = 200


@dataclass
class Context:
    server: ServerThread
    seeded: Seeded
    out: Path
    made: list[str] = field(default_factory=list)

    def send(self, method: str, path: str, body: object = None,
             request_id: str | None = None) -> Answer:
        data = None if body is None else (body if isinstance(body, bytes) else wire.encode(body))
        request = urllib.request.Request(
            self.server.url + path, data=data, method=method,
            headers={"Content-Type": "application/json",
                     "X-Request-Id": request_id or uuid.uuid4().hex})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return Answer(answer.status, json.loads(answer.read()))
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, json.loads(error.read()))

    def ok(self, method: str, path: str, body: object = None) -> dict[str, Any]:
        answer = self.send(method, path, body)
        assert answer.status == 200, (path, answer)
        return answer.body

    def unique(self, what: str) -> str:
        name = f"replay-{what}-{len(self.made)}"
        self.made.append(name)
        return name

    def counts(self) -> dict[str, int]:
        """Rows of every table of the schema."""
        tables = [row[0] for row in fetch(
            self.server.dsn, "SELECT relname FROM pg_class WHERE relkind = 'r' "
                             "AND relnamespace = 'public'::regnamespace ORDER BY relname")]
        return {table: fetch(self.server.dsn, f'SELECT count(*) FROM "{table}"')[0][0]
                for table in tables}

    # ------------------------------------------------------------ things to replay writes on

    def tool_version(self) -> int:
        return int(self.ok("POST", "/api/v1/tools", wire.ToolRequest(name="replay"))[
            "tool_version_id"])

    def template_version(self) -> int:
        answer = self.ok("POST", "/api/v1/task_templates", wire.TemplatesRequest(
            tool_version_id=self.tool_version(),
            templates=[wire.TemplateSpec(name="replayed", command_template="echo {i}",
                                         node_args=["i"])]))
        return int(answer["task_template_version_ids"][0])

    def workflow_request(self) -> wire.WorkflowRequest:
        args = self.unique("workflow")
        return wire.WorkflowRequest(
            tool_version_id=self.tool_version(), name="replayed", workflow_args=args,
            workflow_args_hash=args, task_hash=args, user=getpass.getuser(), num_tasks=2)

    def workflow(self) -> int:
        return int(self.ok("POST", "/api/v1/workflows", self.workflow_request())["workflow_id"])

    def array(self, workflow_id: int) -> int:
        answer = self.ok("POST", f"/api/v1/workflows/{workflow_id}/arrays", wire.ArraysRequest(
            arrays=[wire.ArraySpec(task_template_version_id=self.template_version(),
                                   name="replayed")]))
        return int(answer["array_ids"][0])

    def tasks_chunk(self, array_id: int) -> wire.TasksChunk:
        return wire.TasksChunk(
            configs=[wire.TaskConfig(cluster_name="local")], array_id=[array_id, array_id],
            node_args_hash=[1, 2], task_args_hash=[0, 0], name=["one", "two"],
            command=["echo 1", "echo 2"], config_index=[0, 0], args=[{"i": "1"}, {"i": "2"}])

    def tasks(self, workflow_id: int) -> list[int]:
        answer = self.ok("POST", f"/api/v1/workflows/{workflow_id}/tasks",
                         self.tasks_chunk(self.array(workflow_id)))
        return [int(i) for i in answer["task_ids"]]

    def bound_workflow(self) -> int:
        workflow_id = self.workflow()
        first, second = self.tasks(workflow_id)
        self.ok("POST", f"/api/v1/workflows/{workflow_id}/edges",
                wire.EdgesChunk(upstream_task_id=[first], downstream_task_id=[second]))
        self.ok("POST", f"/api/v1/workflows/{workflow_id}/bound",
                wire.BoundRequest(num_tasks=2, num_edges=1))
        return workflow_id

    def live(self, claim: bool = True) -> LiveWorkflow:
        return live_workflow(self.server.dsn, self.out, self.unique("live"), claim=claim)

    def stopped(self) -> LiveWorkflow:
        live = self.live()
        self.ok("POST", f"/api/v1/workflows/{live.workflow_id}/stop")
        return live


# ------------------------------------------------------------------ how two answers agree


def same(first: Answer, second: Answer) -> None:
    assert second == first


def same_but(**changed: Any) -> Callable[[Answer, Answer], None]:
    """The second answer is the first with these fields changed (to say: nothing new)."""

    def check(first: Answer, second: Answer) -> None:
        assert second.status == 200, second
        assert second.body == {**first.body, **changed}, (first, second)

    return check


def same_fields(*names: str) -> Callable[[Answer, Answer], None]:
    def check(first: Answer, second: Answer) -> None:
        assert second.status == 200, second
        assert {n: second.body[n] for n in names} == {n: first.body[n] for n in names}

    return check


def gone(first: Answer, second: Answer) -> None:
    assert second.status == 404 and second.body["error"]["code"] == "not_found", second


# ------------------------------------------------------------------ one case per write route

Case = Callable[[Context], Replay]
WORKFLOW = "/api/v1/workflows/{workflow_id}"
RUN = "/api/v1/workflow_runs/{workflow_run_id}"


def _tools(ctx: Context) -> Replay:
    return Replay("/api/v1/tools", wire.ToolRequest(name=ctx.unique("tool")), same)


def _templates(ctx: Context) -> Replay:
    return Replay("/api/v1/task_templates", wire.TemplatesRequest(
        tool_version_id=ctx.tool_version(),
        templates=[wire.TemplateSpec(name=ctx.unique("template"), command_template="echo {x}",
                                     node_args=["x"])]), same)


def _workflows(ctx: Context) -> Replay:
    return Replay("/api/v1/workflows", ctx.workflow_request(), same_but(created=False))


def _arrays(ctx: Context) -> Replay:
    workflow_id = ctx.workflow()
    return Replay(f"/api/v1/workflows/{workflow_id}/arrays", wire.ArraysRequest(
        arrays=[wire.ArraySpec(task_template_version_id=ctx.template_version(),
                               name="replayed")]), same)


def _tasks(ctx: Context) -> Replay:
    workflow_id = ctx.workflow()
    return Replay(f"/api/v1/workflows/{workflow_id}/tasks",
                  ctx.tasks_chunk(ctx.array(workflow_id)), same)


def _edges(ctx: Context) -> Replay:
    workflow_id = ctx.workflow()
    first, second = ctx.tasks(workflow_id)

    def check(one: Answer, two: Answer) -> None:
        assert (one.body["inserted"], two.body["inserted"]) == (1, 0), (one, two)

    return Replay(f"/api/v1/workflows/{workflow_id}/edges",
                  wire.EdgesChunk(upstream_task_id=[first], downstream_task_id=[second]), check)


def _bound(ctx: Context) -> Replay:
    workflow_id = ctx.workflow()
    first, second = ctx.tasks(workflow_id)
    ctx.ok("POST", f"/api/v1/workflows/{workflow_id}/edges",
           wire.EdgesChunk(upstream_task_id=[first], downstream_task_id=[second]))
    return Replay(f"/api/v1/workflows/{workflow_id}/bound",
                  wire.BoundRequest(num_tasks=2, num_edges=1), same)


def _same_run_new_cursor(first: Answer, second: Answer) -> None:
    # the same run; its cursor is taken when asked, and any cursor taken before the swarm
    # reads its tasks serves
    assert second.status == 200, second
    assert second.body["cursor"], second
    assert {**second.body, "cursor": ""} == {**first.body, "cursor": ""}, (first, second)


def _runs(ctx: Context) -> Replay:
    return Replay(f"/api/v1/workflows/{ctx.bound_workflow()}/runs",
                  wire.RunRequest(user=getpass.getuser()), _same_run_new_cursor)


def _run_start(ctx: Context) -> Replay:
    run = ctx.ok("POST", f"/api/v1/workflows/{ctx.bound_workflow()}/runs",
                 wire.RunRequest(user=getpass.getuser()))
    return Replay(f"/api/v1/workflow_runs/{run['workflow_run_id']}/start", None,
                  same_but(applied=False))


def _run_status(ctx: Context) -> Replay:
    live = ctx.live(claim=False)
    return Replay(f"/api/v1/workflow_runs/{live.workflow_run_id}/status",
                  wire.RunStatusRequest(status="S", message="replayed"), same_but(applied=False))


def _run_heartbeat(ctx: Context) -> Replay:
    return Replay(f"/api/v1/workflow_runs/{ctx.seeded.live_run_id}/heartbeat",
                  wire.RunHeartbeatRequest(next_report_seconds=86400), same)


def _schedule(ctx: Context) -> Replay:
    live = ctx.live(claim=False)
    final = live.final_task_id
    return Replay(f"/api/v1/workflow_runs/{live.workflow_run_id}/schedule",
                  wire.ScheduleRequest(queue=[wire.QueueGroup(task_ids=[final])]),
                  same_but(queued=[], skipped=[final], skipped_states={
                      "task_id": [final], "status": ["Q"], "num_attempts": [1],
                      "error_status": [None]}))


def _claim(ctx: Context) -> Replay:
    # a distributor whose claim answer was lost asks again with the same request id: it
    # gets the same instances, instead of leaving them claimed and never launched
    live = ctx.live(claim=False)

    def check(first: Answer, second: Answer) -> None:
        assert len(first.body["instances"]) == 2, first
        same(first, second)

    return Replay("/api/v1/distributor/claim",
                  wire.ClaimRequest(cluster_name="local", workflow_run_id=live.workflow_run_id,
                                    limit=2, next_report_seconds=3600), check)


def _transitions(ctx: Context) -> Replay:
    live = ctx.live()

    def check(first: Answer, second: Answer) -> None:
        assert first.body == {"results": ["applied"], "statuses": ["R"]}, first
        assert second.body == {"results": ["ignored"], "statuses": ["R"]}, second

    return Replay("/api/v1/task_instances/transitions", wire.TransitionsRequest(
        source="worker", updates=[wire.InstanceUpdate(task_instance_id=live.instances["O"][0],
                                                      status="R", nodename="replayed")]), check)


def _instance_heartbeat(ctx: Context) -> Replay:
    return Replay("/api/v1/task_instances/heartbeat", wire.InstanceHeartbeatRequest(
        task_instance_ids=[ctx.seeded.live_instances["R"]], next_report_seconds=3600), same)


def _concurrency(ctx: Context) -> Replay:
    return Replay(f"/api/v1/workflows/{ctx.seeded.live_workflow_id}/concurrency",
                  wire.ConcurrencyRequest(max_concurrently_running=7), same)


def _template_concurrency(ctx: Context) -> Replay:
    return Replay(f"/api/v1/workflows/{ctx.seeded.live_workflow_id}/template_concurrency",
                  wp.TemplateConcurrencyRequest(max_concurrently_running=3,
                                                task_template="sleeper"), same)


def _stop(ctx: Context) -> Replay:
    live = ctx.live()

    def check(first: Answer, second: Answer) -> None:
        assert first.body["workflow_run_id"] == live.workflow_run_id, first
        assert first.body["killed"] == 4, first  # Q, I, O and R
        # nothing was left to stop or kill
        assert second.body == {"workflow_id": live.workflow_id, "workflow_run_id": None,
                               "killed": 0}, second

    return Replay(f"/api/v1/workflows/{live.workflow_id}/stop", None, check)


def _clear(ctx: Context) -> Replay:
    return Replay(f"/api/v1/workflows/{ctx.stopped().workflow_id}", None, gone,
                  method="DELETE")


def _task_status(ctx: Context) -> Replay:
    live = ctx.stopped()
    return Replay(f"/api/v1/workflows/{live.workflow_id}/task_status",
                  wire.TaskUpdateRequest(task_ids=[live.final_task_id], status="D"), same)


def _prune(ctx: Context) -> Replay:
    live = ctx.stopped()
    before = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    return Replay(f"/api/v1/workflows/{live.workflow_id}/prune",
                  wire.PruneRequest(before=before, statuses=["H"]), gone)


def _reset(ctx: Context) -> Replay:
    live = ctx.live()
    ctx.ok("POST", f"/api/v1/workflow_runs/{live.workflow_run_id}/status",
           wire.RunStatusRequest(status="E", message="failed"))

    def check(first: Answer, second: Answer) -> None:
        assert first.body["tasks_reset"] > 0 and first.body["workflow_status"] == "G", first
        same_but(tasks_reset=0)(first, second)

    return Replay(f"/api/v1/workflows/{live.workflow_id}/reset", wo.ResetRequest(), check)


def _resume_signal(ctx: Context) -> Replay:
    live = ctx.live()

    def check(first: Answer, second: Answer) -> None:
        assert first.body["taken_over"] == [live.workflow_run_id], first
        assert first.body["waiting_for"][0]["status"] == "C", first
        same_but(taken_over=[])(first, second)

    return Replay(f"/api/v1/workflows/{live.workflow_id}/resume_signal",
                  wo.ResumeSignalRequest(cold=True), check)


def _increase_resources(ctx: Context) -> Replay:
    live = ctx.live()
    ctx.ok("POST", "/api/v1/task_instances/transitions", wire.TransitionsRequest(
        source="distributor", updates=[wire.InstanceUpdate(task_instance_id=live.instances["O"][0],
                                                           status="Z")]))

    def check(first: Answer, second: Answer) -> None:
        assert len(first.body["task_ids"]) == 1, first
        same(first, second)

    return Replay(f"/api/v1/workflows/{live.workflow_id}/increase_resources", None, check)


def _lease_request(ctx: Context) -> tuple[str, wire.LeaseRequest]:
    return (f"/api/v1/distributors/{ctx.unique('cluster')}",
            wire.LeaseRequest(token="replayed-token-0123", hostname="replay-host",
                              process_id=4242, lease_seconds=600))


def _lease(ctx: Context) -> Replay:
    cluster, body = _lease_request(ctx)
    # the renewal moves the heartbeat on; who holds the lease stays
    return Replay(cluster + "/lease", body,
                  same_fields("cluster_name", "live", "hostname", "process_id", "started_at"))


def _release(ctx: Context) -> Replay:
    cluster, body = _lease_request(ctx)
    ctx.ok("POST", cluster + "/lease", body)
    return Replay(cluster + "/release", wire.LeaseRelease(token=body.token),
                  same_fields("cluster_name", "live"))


def _queues(ctx: Context) -> Replay:
    return Replay(f"/api/v1/clusters/{ctx.unique('cluster')}/queues", wire.ClusterQueues(
        queues=[wire.QueueInfo(name="short", max_runtime_seconds=3600, is_default=True),
                wire.QueueInfo(name="long", max_cores=64)]), same)


def _attributes(ctx: Context) -> Replay:
    return Replay(f"/api/v1/workflows/{ctx.workflow()}/attributes",
                  wire.AttributesRequest(attributes={"release": "7", "note": None}), same)


def _inputs(ctx: Context) -> Replay:
    return Replay("/api/v1/task_instances/inputs", wr.InputsRequest(
        task_instance_ids=[ctx.seeded.live_instances["R"]]), same)


def _link(ctx: Context) -> Replay:
    first, second = ctx.workflow(), ctx.workflow()

    def check(one: Answer, two: Answer) -> None:
        assert one == two and [link["workflow_id"] for link in one.body["links"]] == \
            [first, second], one

    return Replay(f"/api/v1/workflows/{first}/link",
                  wr.LinkRequest(linker="links:next_one", next_workflow_id=second), check)


def _declarations(ctx: Context) -> Replay:
    return Replay(f"/api/v1/workflows/{ctx.workflow()}/declarations", wr.Declarations(
        parameters=[wr.Parameter(name="year", type="int", value=2020)],
        results=[wr.ResultSpec(name="total", task="sum", key="value")]), same)


REPLAYS: dict[tuple[str, str], Case] = {
    ("POST", "/api/v1/tools"): _tools,
    ("POST", "/api/v1/task_templates"): _templates,
    ("POST", "/api/v1/workflows"): _workflows,
    ("POST", WORKFLOW + "/arrays"): _arrays,
    ("POST", WORKFLOW + "/tasks"): _tasks,
    ("POST", WORKFLOW + "/edges"): _edges,
    ("POST", WORKFLOW + "/bound"): _bound,
    ("POST", WORKFLOW + "/runs"): _runs,
    ("POST", RUN + "/status"): _run_status,
    ("POST", RUN + "/start"): _run_start,
    ("POST", RUN + "/heartbeat"): _run_heartbeat,
    ("POST", RUN + "/schedule"): _schedule,
    ("POST", "/api/v1/distributor/claim"): _claim,
    ("POST", "/api/v1/task_instances/transitions"): _transitions,
    ("POST", "/api/v1/task_instances/heartbeat"): _instance_heartbeat,
    ("POST", WORKFLOW + "/concurrency"): _concurrency,
    ("POST", WORKFLOW + "/template_concurrency"): _template_concurrency,
    ("POST", WORKFLOW + "/stop"): _stop,
    ("DELETE", WORKFLOW): _clear,
    ("POST", WORKFLOW + "/task_status"): _task_status,
    ("POST", WORKFLOW + "/prune"): _prune,
    ("POST", WORKFLOW + "/reset"): _reset,
    ("POST", WORKFLOW + "/resume_signal"): _resume_signal,
    ("POST", WORKFLOW + "/increase_resources"): _increase_resources,
    ("POST", "/api/v1/distributors/{cluster_name}/lease"): _lease,
    ("POST", "/api/v1/distributors/{cluster_name}/release"): _release,
    ("POST", "/api/v1/clusters/{cluster_name}/queues"): _queues,
    ("POST", WORKFLOW + "/attributes"): _attributes,
    ("POST", "/api/v1/task_instances/inputs"): _inputs,
    ("POST", WORKFLOW + "/link"): _link,
    ("POST", WORKFLOW + "/declarations"): _declarations,
}


@pytest.fixture(scope="module")
def context(pg_server_dsn: str, template_db: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    base = tmp_path_factory.mktemp("replay")
    with seeded_server(pg_server_dsn, template_db, base) as (server, seeded):
        yield Context(server, seeded, base)


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_a_replayed_write_changes_nothing_the_second_time(method: str, path: str,
                                                          context: Context) -> None:
    case = REPLAYS.get((method, path))
    assert case is not None, f"{method} {path} has no replay case in REPLAYS: add one"
    replay = case(context)
    assert replay.method == method
    request_id = uuid.uuid4().hex
    first = context.send(method, replay.path, replay.body, request_id)
    assert first.status == replay.first_status, first
    counts = context.counts()
    second = context.send(method, replay.path, replay.body, request_id)
    assert context.counts() == counts, f"{method} {replay.path} wrote again when replayed"
    replay.check(first, second)


def test_every_replay_case_names_a_documented_write(context: Context) -> None:
    with urllib.request.urlopen(context.server.url + "/api/v1/openapi.json",
                                timeout=30) as answer:
        served = json.loads(answer.read())
    documented = sorted((method.upper(), path) for path, methods in served["paths"].items()
                        for method in methods if method in WRITE_METHODS)
    assert documented == WRITES
    assert sorted(REPLAYS) == WRITES
    assert len(WRITES) >= 22


def test_a_claim_replayed_after_other_claims_still_gets_its_own_instances(
        context: Context) -> None:
    live = context.live(claim=False)
    body = wire.ClaimRequest(cluster_name="local", workflow_run_id=live.workflow_run_id,
                             limit=1, next_report_seconds=3600)
    lost = context.send("POST", "/api/v1/distributor/claim", body, "claim-whose-answer-was-lost")
    other = context.send("POST", "/api/v1/distributor/claim", body)
    again = context.send("POST", "/api/v1/distributor/claim", body, "claim-whose-answer-was-lost")
    claimed = [answer.body["instances"][0]["task_instance_id"] for answer in (lost, other, again)]
    assert claimed[0] != claimed[1] and claimed[2] == claimed[0], claimed
    # once launched, an instance is no longer handed out again under that request id
    launched = context.ok("POST", "/api/v1/task_instances/transitions", wire.TransitionsRequest(
        source="distributor", updates=[wire.InstanceUpdate(task_instance_id=claimed[0],
                                                           status="O", distributor_id="1")]))
    assert launched["results"] == ["applied"]
    late = context.send("POST", "/api/v1/distributor/claim", body, "claim-whose-answer-was-lost")
    assert claimed[0] not in [i["task_instance_id"] for i in late.body["instances"]]
