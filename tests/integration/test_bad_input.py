"""Garbage sent to the server gets a clear answer: the status a client can act on and an
``{"error": {"code", "message"}}`` body whose message says what was wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from jobmon import errors, wire
from jobmon import settings as settings_module
from jobmon.client.connection import open_requester
from tests.integration.helpers import ROOT, make_token, value
from tests.integration.seed import Seeded, seeded_server
from tests.support import ServerThread, admin_dsn

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def seeded(pg_server_dsn: str, template_db: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerThread, Seeded]]:
    # a 1 MiB limit so that a "huge" body is cheap to send
    with seeded_server(pg_server_dsn, template_db, tmp_path_factory.mktemp("bad-input"),
                       JOBMON__SERVER__MAX_REQUEST_MB="1") as running:
        yield running


def call(server: ServerThread, method: str, path: str, body: bytes | None = None,
         **headers: str) -> tuple[int, dict[str, Any]]:
    """The status and the JSON body of one plain HTTP request; fails on any other body."""
    request = urllib.request.Request(server.url + path, data=body, method=method,
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, kind, text = answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as error:
        with error:
            status, kind, text = error.code, error.headers["Content-Type"], error.read()
    assert kind.startswith("application/json"), (status, kind, text[:500])
    return status, json.loads(text)


def error_of(answer: tuple[int, dict[str, Any]], status: int, code: str) -> str:
    """The message of an error answer, after checking its status, code and shape."""
    got, body = answer
    assert got == status, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    message: str = body["error"]["message"]
    assert "Traceback" not in message
    return message


def post(server: ServerThread, path: str, body: object) -> tuple[int, dict[str, Any]]:
    return call(server, "POST", path, json.dumps(body).encode())


def test_malformed_json_is_a_400_that_says_so(seeded: tuple[ServerThread, Seeded]) -> None:
    server, _ = seeded
    for raw in (b'{"name": "t"', b"{'name': 't'}", b"\xff\xfe", b"[1, 2,]", b"null"):
        message = error_of(call(server, "POST", "/api/v1/tools", raw), 400,
                           errors.CODE_INVALID)
        assert "not valid JSON" in message or "invalid request body" in message, (raw, message)
    assert "not valid JSON" in error_of(call(server, "POST", "/api/v1/tools", b'{"name": '),
                                        400, errors.CODE_INVALID)
    message = error_of(call(server, "POST", "/api/v1/tools", b""), 400, errors.CODE_INVALID)
    assert message == "the request needs a JSON body"


def test_wrong_types_are_a_400_naming_the_field(seeded: tuple[ServerThread, Seeded]) -> None:
    server, known = seeded
    message = error_of(post(server, "/api/v1/tools", {"name": 5}), 400, errors.CODE_INVALID)
    assert "Expected `str`, got `int`" in message and "$.name" in message, message
    message = error_of(post(server, f"/api/v1/workflow_runs/{known.live_run_id}/heartbeat",
                            {"next_report_seconds": "soon"}), 400, errors.CODE_INVALID)
    assert "$.next_report_seconds" in message, message
    message = error_of(post(server, "/api/v1/task_instances/transitions", {
        "source": "worker",
        "updates": [{"task_instance_id": known.live_instances["R"], "status": "D",
                     "exit_code": "zero"}]}), 400, errors.CODE_INVALID)
    assert "$.updates[0].exit_code" in message, message
    message = error_of(post(server, "/api/v1/tools", {"name": "t", "colour": "red"}), 400,
                       errors.CODE_INVALID)
    assert "colour" in message, message
    message = error_of(post(server, "/api/v1/tools", {}), 400, errors.CODE_INVALID)
    assert "missing required field `name`" in message, message
    # out of the range the database can hold: the schema says so before SQL does
    message = error_of(post(server, "/api/v1/distributors/local/lease", {
        "token": "t" * 16, "hostname": "h", "process_id": 2**31, "lease_seconds": 5}), 400,
        errors.CODE_INVALID)
    assert "$.process_id" in message, message
    message = error_of(post(server, "/api/v1/tools", {"name": "nul\u0000in a name"}), 400,
                       errors.CODE_INVALID)
    assert "NUL" in message, message


def test_a_malformed_request_id_is_a_400(seeded: tuple[ServerThread, Seeded]) -> None:
    server, _ = seeded
    for bad in ("x" * 129, "two words", ""):
        message = error_of(call(server, "POST", "/api/v1/tools", b'{"name": "t"}',
                                **{"X-Request-Id": bad}), 400, errors.CODE_INVALID)
        assert message.startswith("X-Request-Id must be 1 to 128 visible ASCII"), message
    status, _ = call(server, "POST", "/api/v1/tools", b'{"name": "t"}',
                     **{"X-Request-Id": "retry-1"})
    assert status == 200


def test_wrong_query_types_are_a_400_naming_the_parameter(
        seeded: tuple[ServerThread, Seeded]) -> None:
    server, known = seeded
    workflow = f"/api/v1/workflows/{known.done_workflow_id}"
    message = error_of(call(server, "GET", workflow + "/tasks?limit=many"), 400,
                       errors.CODE_INVALID)
    assert "$.limit" in message and "invalid query parameter" in message, message
    message = error_of(call(server, "GET", workflow + "/tasks?limit=0"), 400,
                       errors.CODE_INVALID)
    assert "$.limit" in message, message
    message = error_of(call(server, "GET", workflow + "/tasks?colour=red"), 400,
                       errors.CODE_INVALID)
    assert "colour" in message, message
    message = error_of(call(server, "GET", f"/api/v1/workflow_runs/{known.live_run_id}"
                                           "/changes?cursor=x&wait=-1"), 400,
                       errors.CODE_INVALID)
    assert "$.wait" in message, message
    message = error_of(call(server, "GET", f"/api/v1/workflow_runs/{known.live_run_id}"
                                           "/changes?cursor=not-a-cursor"), 400,
                       errors.CODE_INVALID)
    assert "not a cursor this server gave" in message, message


def test_times_at_the_ends_of_the_calendar_are_a_400(seeded: tuple[ServerThread, Seeded]) -> None:
    server, known = seeded
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        message = error_of(call(server, "GET", "/api/v1/prune_candidates?before="
                                + urllib.parse.quote(moment)), 400, errors.CODE_INVALID)
        assert message == f"before {moment!r} is out of the range of times", message
        message = error_of(post(server, f"/api/v1/workflows/{known.done_workflow_id}/prune",
                                {"before": moment, "statuses": ["D"]}), 400,
                           errors.CODE_INVALID)
        assert "out of the range of times" in message, message
    message = error_of(call(server, "GET", "/api/v1/prune_candidates?before=2020-01-01T00:00"),
                       400, errors.CODE_INVALID)
    assert "needs a time zone" in message, message
    status, _ = call(server, "GET", "/api/v1/prune_candidates?before=0001-01-01T00:00:00Z")
    assert status == 200


def test_ids_in_the_path_must_be_positive_integers(seeded: tuple[ServerThread, Seeded]) -> None:
    server, _ = seeded
    for text in ("0", "-1", "abc", "1.5", "%C2%B2", "%D9%A1", "9" * 30):
        message = error_of(call(server, "GET", f"/api/v1/workflows/{text}"), 400,
                           errors.CODE_INVALID)
        assert "workflow_id must be a positive integer" in message, (text, message)


def test_ids_that_do_not_exist_are_a_404_per_kind(seeded: tuple[ServerThread, Seeded]) -> None:
    server, _ = seeded
    missing = 987654321
    for method, path, body, what in [
        ("GET", f"/api/v1/workflows/{missing}", None, "workflow"),
        ("GET", f"/api/v1/workflows/{missing}/status", None, "workflow"),
        ("POST", f"/api/v1/workflows/{missing}/stop", b"", "workflow"),
        ("DELETE", f"/api/v1/workflows/{missing}", None, "workflow"),
        ("POST", f"/api/v1/workflow_runs/{missing}/heartbeat",
         b'{"next_report_seconds": 10}', "workflow run"),
        ("POST", f"/api/v1/workflow_runs/{missing}/status", b'{"status": "R"}',
         "workflow run"),
        ("GET", f"/api/v1/workflow_runs/{missing}/changes", None, "workflow run"),
        ("GET", f"/api/v1/tasks/{missing}", None, "task"),
        ("GET", f"/api/v1/tasks/{missing}/history", None, "task"),
        ("GET", f"/api/v1/task_instances/{missing}", None, "task instance"),
    ]:
        message = error_of(call(server, method, path, body), 404, errors.CODE_NOT_FOUND)
        assert message == f"{what} {missing} does not exist", (path, message)


def test_transitions_the_tables_forbid_are_a_409_or_rejected(
        seeded: tuple[ServerThread, Seeded]) -> None:
    server, known = seeded
    run = f"/api/v1/workflow_runs/{known.done_run_id}"
    message = error_of(post(server, run + "/status", {"status": "R"}), 409,
                       errors.CODE_TRANSITION)
    assert message == (f"workflow run {known.done_run_id} is DONE (D); it cannot become "
                       "RUNNING (R)")
    assert value(server.dsn, "SELECT status FROM workflow_run WHERE id = $1",
                 known.done_run_id) == "D"
    message = error_of(post(server, run + "/schedule", {"fatal": known.ids("task_id")[:1]}),
                       409, errors.CODE_TRANSITION)
    assert "no longer live" in message, message
    # a finished workflow's tasks may be reset; a running one's may not
    message = error_of(post(server, f"/api/v1/workflows/{known.live_workflow_id}/task_status",
                            {"task_ids": known.ids("task_id")[-1:], "status": "G"}), 409,
                       errors.CODE_WORKFLOW_RUNNING)
    assert "running" in message, message

    # a batch of instance reports answers per item: applied, ignored (late) or rejected
    done_instance = int(value(server.dsn, "SELECT min(id) FROM task_instance WHERE status = 'D'"))
    launched, instantiated = known.live_instances["O"], known.live_instances["I"]
    status, body = post(server, "/api/v1/task_instances/transitions", {
        "source": "distributor", "updates": [
            {"task_instance_id": done_instance, "status": "Q"},  # D -> Q: never
            {"task_instance_id": done_instance, "status": "U"},  # late, harmless
            {"task_instance_id": instantiated, "status": "D"},  # I -> D skips running
            {"task_instance_id": launched, "status": "R"},  # O -> R: fine
            {"task_instance_id": 987654321, "status": "R"},  # no such instance
        ]})
    assert status == 200, body
    assert body["results"] == ["rejected", "ignored", "rejected", "applied", "rejected"]
    assert body["statuses"] == ["D", "D", "I", "R", None]
    assert value(server.dsn, "SELECT status FROM task_instance WHERE id = $1",
                 instantiated) == "I"
    message = error_of(post(server, "/api/v1/task_instances/transitions", {
        "source": "worker", "updates": [{"task_instance_id": launched, "status": "Y"}]}),
        400, errors.CODE_INVALID)
    assert "Y" in message, message


def test_unknown_routes_and_wrong_methods_answer_json(seeded: tuple[ServerThread, Seeded]) -> None:
    server, _ = seeded
    message = error_of(call(server, "GET", "/api/v1/no/such/route"), 404, errors.CODE_NOT_FOUND)
    assert message == "no such endpoint: GET /api/v1/no/such/route"
    message = error_of(call(server, "GET", "/api/v2/workflows"), 404, errors.CODE_NOT_FOUND)
    assert "/api/v2/workflows" in message
    message = error_of(call(server, "PUT", "/api/v1/tools", b"{}"), 405, errors.CODE_INVALID)
    assert message == "PUT is not allowed on /api/v1/tools"
    message = error_of(call(server, "GET", "/api/v1/tools"), 405, errors.CODE_INVALID)
    assert message == "GET is not allowed on /api/v1/tools"
    message = error_of(call(server, "DELETE", "/api/v1/task_instances/transitions"), 405,
                       errors.CODE_INVALID)
    assert "DELETE" in message


def test_a_huge_body_is_a_413_and_the_client_gives_up_at_once(
        seeded: tuple[ServerThread, Seeded]) -> None:
    server, known = seeded
    huge = json.dumps({"name": "x" * (2 * 1024 * 1024)}).encode()
    message = error_of(call(server, "POST", "/api/v1/tools", huge), 413, errors.CODE_TOO_LARGE)
    assert "larger than the server's limit" in message, message
    assert value(server.dsn, "SELECT count(*) FROM tool WHERE length(name) > 1000") == 0

    # the client sends a chunk of tasks larger than the limit: one clear error, no retries
    # (JOBMON__HTTP__RETRY_SECONDS is 30 here: a retry loop would take that long)
    chunk = wire.TasksChunk(
        configs=[wire.TaskConfig(cluster_name="local")], array_id=[known.ids("array_id")[0]],
        node_args_hash=[1], task_args_hash=[1], name=["big"],
        command=["echo " + "y" * (3 * 1024 * 1024)], config_index=[0], args=[{}])

    async def send() -> None:
        async with open_requester() as requester:
            await requester.post(f"/api/v1/workflows/{known.live_workflow_id}/tasks", chunk,
                                 wire.TasksResponse)

    started = time.monotonic()
    with pytest.raises(errors.ServerError) as raised:
        anyio.run(send)
    assert time.monotonic() - started < 10
    assert raised.value.status == 413 and raised.value.code == errors.CODE_TOO_LARGE
    assert "larger than the server's limit" in str(raised.value)


def test_a_token_user_naming_an_id_in_other_digits_gets_a_400(
        db_dsn: str, jobmon_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ownership checks read the id from the path before the route does; they must not
    # trip over "²", which str.isdigit() accepts and int() does not
    monkeypatch.setenv("JOBMON__SERVER__AUTH", "token")
    settings_module.reset_cache()
    server = ServerThread(db_dsn).start()
    try:
        token = make_token(db_dsn, "someone")
        bearer = {"Authorization": f"Bearer {token}"}
        for path in ("/api/v1/workflows/%C2%B2/stop", "/api/v1/workflow_runs/%C2%B2/heartbeat"):
            message = error_of(call(server, "POST", path, b'{"next_report_seconds": 10}',
                                    **bearer), 400, errors.CODE_INVALID)
            assert "must be a positive integer, not '²'" in message, message
        error_of(call(server, "GET", "/api/v1/distributors/local/instances"
                                     "?workflow_run_id=%C2%B2", **bearer),
                 403, errors.CODE_FORBIDDEN)
    finally:
        server.stop()


# ------------------------------------------------------------------ the `jobmon` command


def jobmon(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m jobmon` in a clean environment plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JOBMON__")}
    return subprocess.run([sys.executable, "-m", "jobmon", *args], cwd=ROOT,
                          env={**clean, **env}, capture_output=True, text=True, timeout=90,
                          check=False, stdin=subprocess.DEVNULL)


def assert_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for text in expected:
        assert text in lines[0], (text, lines[0])


BAD_CONFIGS = [
    ("[http\nservice_url = 'x'\n", "is not valid TOML"),
    ("[http]\nservice_urll = 'http://127.0.0.1:9'\n", "unknown key http.service_urll"),
    ("[htp]\nservice_url = 'http://127.0.0.1:9'\n", "unknown section [htp]"),
    ("[server]\nport = 'eighty'\n", "server.port = 'eighty' is not a valid int"),
    ("\xff\xfe not text", "is not valid TOML"),
]


@pytest.mark.timeout(300)
def test_a_bad_config_file_is_one_line_for_every_command(tmp_path: Path) -> None:
    commands = [("workflow", "status", "-w", "1"), ("server", "--port", "0"),
                ("db", "upgrade"), ("config", "show"), ("task", "status", "-t", "1")]
    for number, (text, expected) in enumerate(BAD_CONFIGS):
        config = tmp_path / f"jobmon-{number}.toml"
        config.write_bytes(text.encode("latin-1"))
        for command in commands[:1] if number else commands:
            assert_one_line(jobmon(*command, JOBMON__CONFIG_FILE=str(config)),
                            str(config), expected)
    assert_one_line(jobmon("config", "show", JOBMON__CONFIG_FILE=str(tmp_path / "none.toml")),
                    "none.toml", "does not exist")
    assert_one_line(jobmon("workflow", "status", JOBMON__HTTP__SERVCE_URL="x"),
                    "JOBMON__HTTP__SERVCE_URL names no setting")
    assert_one_line(jobmon("workflow", "status", JOBMON__HTTP__RETRY_SECONDS="soon"),
                    "JOBMON__HTTP__RETRY_SECONDS", "is not a valid float")


DEAD_DATABASE = "postgresql://postgres@127.0.0.1:9/x"


def test_a_database_that_is_down_is_one_line_for_the_server_and_tokens() -> None:
    # (`jobmon db upgrade` on a dead port: tests/integration/test_server_cli.py)
    started = time.monotonic()
    for command in (("server", "--port", "0", "--database-url", DEAD_DATABASE),
                    ("token", "list", "--database-url", DEAD_DATABASE)):
        assert_one_line(jobmon(*command),
                        "cannot connect to the database at postgresql://postgres@127.0.0.1:9/x",
                        "Connect call failed")
    assert time.monotonic() - started < 60


def test_a_database_that_does_not_exist_is_one_line(pg_server_dsn: str) -> None:
    missing = admin_dsn(pg_server_dsn, "jobmon_no_such_database")
    for command in (("server", "--port", "0"), ("db", "upgrade")):
        assert_one_line(jobmon(*command, "--database-url", missing),
                        "cannot connect to the database",
                        '"jobmon_no_such_database" does not exist')


ODD_NAMES = ["a/b", "..", ".", "../x", "x/..", "%2F", "%2E%2E", "é-ü", "a b", "a?b", "a#b",
             "a\\b"]


def test_odd_names_in_the_path_reach_their_own_cluster(server: ServerThread) -> None:
    """A cluster name goes into the path quoted, whatever it holds: each of these names is
    its own cluster, through both requesters (the client's and the worker's), where a name
    of ``.`` or ``..`` was dropped as a dot segment and another path was called."""
    from jobmon import endpoints
    from jobmon.requester import Requester
    from jobmon.sync_requester import SyncRequester

    def queues(name: str, index: int) -> wire.ClusterQueues:
        return wire.ClusterQueues(queues=[wire.QueueInfo(name=f"q{index}", is_default=True)])

    async def through_the_client() -> dict[str, list[str]]:
        async with Requester(server.url) as requester:
            for index, name in enumerate(ODD_NAMES):
                await requester.call(endpoints.SET_QUEUES, queues(name, index),
                                     cluster_name=name)
            return {name: [queue.name for queue in (await requester.call(
                endpoints.QUEUES, cluster_name=name)).queues] for name in ODD_NAMES}

    expected = {name: [f"q{index}"] for index, name in enumerate(ODD_NAMES)}
    assert anyio.run(through_the_client) == expected
    with SyncRequester(server.url) as requester:
        assert {name: [queue.name for queue in requester.call(
            endpoints.QUEUES, cluster_name=name).queues] for name in ODD_NAMES} == expected
    assert value(server.dsn, "SELECT count(DISTINCT cluster_name) FROM cluster_queue "
                             "WHERE cluster_name = ANY($1::text[])", ODD_NAMES) == len(ODD_NAMES)
