"""Probes of issue 13's security items, as an attacker makes them: forged browser requests
on a local server, another OS user without a token, a token user reaching past their own,
and connections that hold the server's sockets."""

from __future__ import annotations

import http.client
import json
import os
import pwd
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import pytest

from jobmon import settings as settings_module
from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow
from tests.integration.helpers import ROOT, act_as, fetch, make_token, value, wait_until
from tests.support import ServerThread

pytestmark = pytest.mark.timeout(300)


def raw(url: str, method: str, path: str, headers: dict[str, str] | None = None,
        body: bytes | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    """One request with exactly these headers (Host too, when given), as a browser may send."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        headers = dict(headers or {})
        connection.putrequest(method, path, skip_host="Host" in headers,
                              skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(payload)
    except ValueError:
        return response.status, {"text": payload[:200].decode(errors="replace")}


def _bound_workflow(name: str) -> int:
    tool = Tool(name="probe")
    template = tool.get_task_template(template_name="sleep", command_template="sleep {s}",
                                      node_args=["s"], default_cluster_name="local")
    workflow = tool.create_workflow(name=name, workflow_args=f"probe-{name}")
    workflow.add_task(template.create_task(s=1))
    workflow.bind()
    assert workflow.workflow_id is not None
    return workflow.workflow_id


def _as_nobody(code: str, *args: str) -> str:
    """Run Python ``code`` as the unprivileged user nobody; its stdout."""
    if os.geteuid() != 0:
        pytest.fail("these probes act as another OS user, which needs root (CI runs as root)")
    nobody = pwd.getpwnam("nobody")
    result = subprocess.run(
        ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
         sys.executable, "-c", code, *args],
        capture_output=True, text=True, timeout=60, check=False, cwd="/",
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# ------------------------------------------------------------------ item 1: CSRF, rebinding


def test_a_web_page_cannot_steer_a_local_server(server: ServerThread) -> None:
    """Issue 13 item 1: the owner's browser on a hostile page reaches the loopback server."""
    workflow_id = _bound_workflow("csrf")
    stop = f"/api/v1/workflows/{workflow_id}/stop"
    port = urllib.parse.urlsplit(server.url).port
    evil = {"Origin": "https://evil.example"}
    forged = [
        # a "simple" request, which a page sends without a CORS preflight
        ({"Content-Type": "text/plain", **evil}, b"{}"),
        ({"Content-Type": "application/x-www-form-urlencoded", **evil}, b"a=b"),
        ({"Content-Type": "multipart/form-data; boundary=x", **evil}, b"--x--"),
        ({**evil}, None),  # fetch(url, {method: "POST", mode: "no-cors"})
        ({"Content-Type": "text/plain"}, b"{}"),  # a page that strips its Origin
        # JSON with a foreign origin: a preflight this server never grants, and refused here
        ({"Content-Type": "application/json", **evil}, b"{}"),
        ({"Content-Type": "application/json", "Origin": "null"}, b"{}"),  # sandboxed frame
        ({"Content-Type": "application/json", "Origin": f"http://127.0.0.1.evil.example:{port}"},
         b"{}"),
        ({"Content-Type": "application/json", "Origin": f"http://localhost:{port + 1}"}, b"{}"),
    ]
    for headers, body in forged:
        status, answer = raw(server.url, "POST", stop, headers, body)
        assert status in (403, 415), (headers, status, answer)
        assert "error" in answer
    assert raw(server.url, "GET", f"/api/v1/workflows/{workflow_id}")[1]["status"] != "H"
    # DNS rebinding: the page's own name in Host, reads and writes alike
    for method, path in (("GET", "/api/v1/workflows"), ("GET", "/"),
                         ("GET", f"/api/v1/workflows/{workflow_id}/export")):
        status, answer = raw(server.url, method, path, {"Host": f"rebind.evil.example:{port}"})
        assert status == 421, (path, status, answer)
        assert "does not answer to the name" in answer["error"]["message"]
    for garbage in ("", "a b", "[::1", "evil.example:99999", "local\u00e9host",
                    "x" * 5000, "127.0.0.1:8070@evil.example"):
        status, _ = raw(server.url, "GET", "/api/v1/workflows",
                        {"Host": garbage.encode("utf-8").decode("latin-1")})
        assert status in (400, 421), (garbage[:30], status)
    # the owner's own clients, a tunnel (ssh -L) and the dashboard's own page still work
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost:9999", f"[::1]:{port}",
                 f"{socket.gethostname()}:{port}", f"dash.localhost:{port}"):
        assert raw(server.url, "GET", "/api/v1/workflows", {"Host": host})[0] == 200, host
    same_origin = {"Content-Type": "application/json", "Origin": f"http://localhost:{port}",
                   "Host": f"localhost:{port}"}
    assert raw(server.url, "POST", f"/api/v1/workflows/{workflow_id}/concurrency",
               same_origin, b'{"max_concurrently_running": 7}')[0] == 200
    status, answer = raw(server.url, "POST", stop, {"Content-Type": "application/json"}, b"{}")
    assert status == 200, answer


def test_a_shared_server_is_not_bound_by_the_browser_rules(token_server: ServerThread) -> None:
    """Token mode: no ambient credential, so a proxy's name or a plain POST is fine."""
    token = make_token(token_server.dsn, "carol")
    status, _ = raw(token_server.url, "GET", "/api/v1/workflows",
                    {"Host": "jobmon.example.org", "Authorization": f"Bearer {token}"})
    assert status == 200


# ------------------------------------------------------------------ item 5: reads


def test_other_os_users_need_a_token_to_read_a_local_server(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13 item 5: a local server answers its owner; others read nothing untokened."""
    workflow_id = _bound_workflow("secret")
    token = make_token(server.dsn, "bob")
    probe = (
        "import json, sys, urllib.request, urllib.error\n"
        "def call(path, token=None):\n"
        "    headers = {'Authorization': 'Bearer ' + token} if token else {}\n"
        "    try:\n"
        "        return urllib.request.urlopen(urllib.request.Request(\n"
        "            sys.argv[1] + path, headers=headers)).status\n"
        "    except urllib.error.HTTPError as error:\n"
        "        return error.code\n"
        "w = '/api/v1/workflows/' + sys.argv[2]\n"
        "print(call('/health'), call('/api/v1/workflows'), call(w + '/export'),\n"
        "      call(w + '/tasks'), call(w), call('/'),\n"
        "      call('/api/v1/workflows', sys.argv[3]), call(w + '/status', sys.argv[3]),\n"
        "      call(w + '/export', sys.argv[3]), call(w + '/tasks', sys.argv[3]),\n"
        "      call(w + '/outputs', sys.argv[3]), call(w + '/task_states', sys.argv[3]))\n"
    )
    answers = _as_nobody(probe, server.url, str(workflow_id), token).split()
    assert answers == ["200", "401", "401", "401", "401", "200",  # the page itself is public
                       "200", "200", "403", "403", "403", "403"], answers
    # the owner reads everything without a token
    assert raw(server.url, "GET", f"/api/v1/workflows/{workflow_id}/export")[0] == 200


# ------------------------------------------------------------------ item 7: queues, health


def test_a_user_replaces_only_their_own_local_queues(token_server: ServerThread) -> None:
    """Issue 13 item 7: any token holder could replace cluster "local"'s queues for all."""
    alice, bob = make_token(token_server.dsn, "alice"), make_token(token_server.dsn, "bob")
    admin = make_token(token_server.dsn, "ops", admin=True)

    def post(token: str, cluster: str, queues: list[dict]) -> int:  # type: ignore[type-arg]
        return raw(token_server.url, "POST", f"/api/v1/clusters/{cluster}/queues",
                   {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                   json.dumps({"queues": queues}).encode())[0]

    def names(token: str, cluster: str) -> list[str]:
        status, answer = raw(token_server.url, "GET", f"/api/v1/clusters/{cluster}/queues",
                             {"Authorization": f"Bearer {token}"})
        assert status == 200, answer
        return [queue["name"] for queue in answer["queues"]]

    assert post(alice, "local", [{"name": "local", "max_cores": 64, "is_default": True}]) == 200
    assert post(bob, "local", [{"name": "tiny", "max_cores": 1, "is_default": True}]) == 200
    assert names(alice, "local") == ["local"]  # bob's set did not replace alice's
    assert names(bob, "local") == ["tiny"]
    assert post(bob, "slurm", [{"name": "all.q", "is_default": True}]) == 403
    assert post(admin, "slurm", [{"name": "all.q", "is_default": True}]) == 200
    assert names(bob, "slurm") == ["all.q"]


def test_health_does_not_show_the_database_url(token_server: ServerThread) -> None:
    status, answer = raw(token_server.url, "GET", "/health")
    assert status == 200 and answer["status"] == "ok"
    database = urllib.parse.urlsplit(token_server.dsn)
    text = json.dumps(answer)
    for secret in ("postgresql", str(database.port), database.path.strip("/")):
        assert secret not in text, answer


# ------------------------------------------------------------------ item 6: connections


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server_process(dsn: str, tmp_path: Path, files: str,
                    **settings: str) -> Iterator[tuple[str, int, Path]]:
    """`jobmon server` under an open-file limit ``soft:hard``; its URL, PID and log."""
    port = _free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, **{f"JOBMON__SERVER__{k.upper()}": v for k, v in settings.items()}}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            ["prlimit", f"--nofile={files}", sys.executable, "-m", "jobmon", "server",
             "--database-url", dsn, "--host", "127.0.0.1", "--port", str(port),
             "--no-upgrade"],
            cwd=ROOT, stdout=output, stderr=output, env=env, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: b"serving" in log.read_bytes(), 60, "the server to listen")
        yield url, process.pid, log
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _health(url: str, timeout: float) -> float:
    """Seconds /health took to answer 200 (fails after ``timeout``)."""
    started = time.monotonic()
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", "/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    return time.monotonic() - started


def _soft_file_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open-file limit in /proc")


def _closed_by_server(connection: socket.socket) -> bool:
    """Whether the server closed this connection (after any answer it sent first)."""
    connection.settimeout(0)
    try:
        while connection.recv(65536):
            pass
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True


def test_idle_connections_beyond_the_usual_file_limit_leave_health_answering(
    db_dsn: str, tmp_path: Path, jobmon_env: Path,
) -> None:
    """Issue 13 item 6: at a soft limit of 1,024, 1,100 idle connections starved /health."""
    with _server_process(db_dsn, tmp_path, "1024:8192") as (url, pid, log), \
            ExitStack() as stack:
        assert _soft_file_limit(pid) == 8192  # raised at start, to the hard limit
        for _ in range(1100):
            stack.enter_context(socket.create_connection(("127.0.0.1", int(url[-5:]))))
        assert _health(url, 10) < 5
    assert b"Too many open files" not in log.read_bytes()


def test_a_server_out_of_files_waits_and_says_so_once(
    db_dsn: str, tmp_path: Path, jobmon_env: Path,
) -> None:
    """Issue 13 item 6: at its hard limit the server logged a traceback per accept (169 MiB
    in 20 s) and kept idle connections forever; now they time out and /health answers."""
    port_of = lambda url: int(url.rsplit(":", 1)[1])  # noqa: E731
    with _server_process(db_dsn, tmp_path, "256:256", idle_timeout="3") as (url, pid, log), \
            ExitStack() as stack:
        assert _soft_file_limit(pid) == 256
        held = [stack.enter_context(socket.create_connection(("127.0.0.1", port_of(url))))
                for _ in range(400)]  # the kernel's backlog takes what the server won't
        time.sleep(2)
        assert _health(url, 30) < 15  # the idle ones were closed to make room
        wait_until(lambda: all(_closed_by_server(c) for c in held[:150]), 20,
                   "idle connections to be closed")
    text = log.read_bytes()
    assert len(text) < 20_000, len(text)
    assert text.count(b"open connections") <= 4, text.decode(errors="replace")
    assert b"Traceback" not in text


def test_slow_senders_and_non_readers_are_cut_off(
    db_dsn: str, tmp_path: Path, jobmon_env: Path,
) -> None:
    """Issue 13 item 6: 0 of 300 slow connections were closed after 60 s."""
    with _server_process(db_dsn, tmp_path, "4096:4096", idle_timeout="3",
                         transfer_timeout="3") as (url, _, _), ExitStack() as stack:
        address = ("127.0.0.1", int(url.rsplit(":", 1)[1]))
        slow_headers = [stack.enter_context(socket.create_connection(address))
                        for _ in range(100)]
        for connection in slow_headers:
            connection.sendall(b"GET /api/v1/workflows HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        slow_body = [stack.enter_context(socket.create_connection(address)) for _ in range(20)]
        for connection in slow_body:
            connection.sendall(b"POST /api/v1/tools HTTP/1.1\r\nHost: localhost\r\n"
                               b"Content-Type: application/json\r\nContent-Length: 1000\r\n"
                               b"\r\n{\"na")
        non_reader = stack.enter_context(socket.socket())
        non_reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        non_reader.connect(address)
        non_reader.sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n"
                           * 200)
        started = time.monotonic()
        while time.monotonic() - started < 10:  # a byte of headers every half second
            for connection in slow_headers:
                with suppress(OSError):
                    connection.send(b"x")
            time.sleep(0.5)
        assert all(_closed_by_server(c) for c in slow_headers)
        assert all(_closed_by_server(c) for c in slow_body)
        # the stalled answer was cut: draining what arrived ends in EOF or a reset
        non_reader.settimeout(5)
        received = 0
        with pytest.raises((ConnectionResetError, EOFError)):
            while True:
                chunk = non_reader.recv(1 << 20)
                if not chunk:
                    raise EOFError
                received += len(chunk)
        assert _health(url, 10) < 5


# ------------------------------------------------------------------ item 2: task environment


def _env_dump_workflow(name: str, out: Path, resources: dict[str, str],
                       cluster: str = "local", count: int = 2) -> Workflow:
    tool = Tool(name="probe-env")
    template = tool.get_task_template(
        template_name="dump", node_args=["i"], op_args=["out"], default_cluster_name=cluster,
        command_template="env > {out}/env-{i}.txt; echo out-{i}; echo err-{i} >&2",
    )
    workflow = tool.create_workflow(name=name, workflow_args=f"probe-{name}",
                                    default_cluster_name=cluster)
    workflow.add_tasks(template.create_tasks(i=list(range(count)), out=str(out),
                                             compute_resources=resources))
    return workflow


def _assert_clean_environment(dump: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in dump
    variables = dict(line.split("=", 1) for line in dump.splitlines() if "=" in line)
    assert variables.get("JOBMON__HTTP__TOKEN", "") == ""
    assert "JOBMON__DB__URL" not in variables and "JOBMON__CONFIG_FILE" not in variables
    assert variables["JOBMON_TASK_INSTANCE_ID"].isdigit()
    assert variables["PATH"] == os.environ["PATH"]  # the user's own environment stays


def test_tasks_get_no_credentials_and_logs_go_where_the_resources_say(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13 item 2 on cluster "local", and issue 12 item 6: `stdout`/`stderr` folders
    (IHME Jobmon's docsource/quickstart_health_example.py writes "stdout": "/tmp")."""
    admin = make_token(token_server.dsn, "ops", admin=True)
    config = tmp_path / "daemon.toml"
    config.write_text(f'[http]\ntoken = "{admin}"\n')
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", admin)
    monkeypatch.setenv("JOBMON__CONFIG_FILE", str(config))
    monkeypatch.setenv("JOBMON__DB__URL", "postgresql://u:sentinel-password@db/x")
    settings_module.reset_cache()
    out, stdout, stderr = tmp_path / "out", tmp_path / "o", tmp_path / "e"
    out.mkdir()
    workflow = _env_dump_workflow("env", out, {"stdout": str(stdout), "stderr": str(stderr)})
    assert workflow.run(show_progress=False) == "D"
    for i in (0, 1):
        _assert_clean_environment((out / f"env-{i}.txt").read_text(),
                                  [admin, "sentinel-password", str(config)])
    assert_logs_by_the_rule(token_server.dsn, workflow, stdout, stderr, 2)


def assert_logs_by_the_rule(dsn: str, workflow: Workflow, stdout: Path, stderr: Path,
                            count: int, *, cluster_job_id: bool = False) -> None:
    """Each dump task's logs are `{stdout}/{name}.o{job_id}` (and .e), with its own lines;
    the job id is the task instance id, or Slurm's ("123_4") with ``cluster_job_id``."""
    rows = fetch(dsn, "SELECT ti.id, ti.distributor_id, t.name, ti.stdout_path, "
                      "ti.stderr_path FROM task_instance ti JOIN task t ON t.id = ti.task_id "
                      "WHERE ti.workflow_id = $1", workflow.workflow_id)
    assert len(rows) == count
    for instance_id, distributor_id, name, stdout_path, stderr_path in rows:
        job = distributor_id if cluster_job_id else instance_id
        assert stdout_path == str(stdout / f"{name}.o{job}")
        assert stderr_path == str(stderr / f"{name}.e{job}")
        i = name.rsplit("-", 1)[1]
        assert Path(stdout_path).read_text() == f"out-{i}\n"
        assert Path(stderr_path).read_text() == f"err-{i}\n"


def test_a_worker_credential_reports_on_its_own_instance_only(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13 item 2: what a worker on a shared cluster holds can do nothing else."""
    from jobmon.server.auth import worker_credential  # here: the test predates it

    act_as(monkeypatch, token_server.dsn, "alice")
    out = tmp_path / "out"
    out.mkdir()
    workflow = _env_dump_workflow("credential", out, {})
    assert workflow.run(show_progress=False) == "D"
    mine, other = (row[0] for row in fetch(
        token_server.dsn, "SELECT id FROM task_instance WHERE workflow_id = $1 ORDER BY id",
        workflow.workflow_id))
    key = bytes(value(token_server.dsn, "SELECT key FROM server_key"))
    credential = worker_credential(key, mine)
    forged = f"jmw_{other}_{credential.rsplit('_', 1)[1]}"
    url = token_server.url

    def call(method: str, path: str, body: object = None, token: str = credential) -> int:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return raw(url, method, path, headers,
                   None if body is None else json.dumps(body).encode())[0]

    beat = "/api/v1/task_instances/heartbeat"
    assert call("GET", f"/api/v1/task_instances/{mine}") == 200
    assert call("POST", beat, {"task_instance_ids": [mine], "next_report_seconds": 60}) == 200
    assert call("GET", f"/api/v1/task_instances/{other}") == 403
    assert call("POST", beat, {"task_instance_ids": [mine, other],
                               "next_report_seconds": 60}) == 403
    assert call("POST", "/api/v1/task_instances/transitions",
                {"source": "worker", "updates": [{"task_instance_id": other,
                                                  "status": "E"}]}) == 403
    for method, path in (("GET", "/api/v1/workflows"),
                         ("GET", f"/api/v1/workflows/{workflow.workflow_id}/export"),
                         ("POST", "/api/v1/tools")):
        assert call(method, path, {"name": "x"} if method == "POST" else None) == 403, path
    assert call("GET", f"/api/v1/task_instances/{other}", token=forged) == 401


# ------------------------------------------------------------------ item 3: archives


def test_an_archive_holds_only_the_instances_own_logs_as_their_owner_could_read_them(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13 item 3: a user names /etc/shadow-like files as their logs; an admin's
    `jobmon workflow archive` must not ship them."""
    if os.geteuid() != 0:
        pytest.fail("this probe needs root (CI runs as root)")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET\n")
    secret.chmod(0o600)
    # logs the owner ("nobody") can reach: /tmp itself is open to all
    with tempfile.TemporaryDirectory(prefix="jobmon-probe-") as shared:
        Path(shared).chmod(0o755)
        logs_dir = Path(shared) / "logs"
        act_as(monkeypatch, token_server.dsn, "nobody")
        out = tmp_path / "out"
        out.mkdir()
        workflow = _env_dump_workflow("archive", out, {"stdout": str(logs_dir),
                                                       "stderr": str(logs_dir)}, count=3)
        assert workflow.run(show_progress=False) == "D"
        rows = fetch(token_server.dsn, "SELECT id, stdout_path, stderr_path FROM task_instance"
                                       " WHERE workflow_id = $1 ORDER BY id",
                     workflow.workflow_id)
        (first, _first_out, _), (_, second_out, second_err), (_, third_out, _) = rows
        # what a user could report for their own instance: any path at all
        fetch(token_server.dsn, "UPDATE task_instance SET stdout_path = $2 WHERE id = $1",
              first, str(secret))
        # files by the rule's names that are not the owner's to read
        Path(second_out).unlink()
        Path(second_out).symlink_to(secret)
        Path(second_err).unlink()
        os.link(secret, second_err)
        admin = make_token(token_server.dsn, "ops", admin=True)
        archive = tmp_path / "wf.tar.gz"
        result = subprocess.run(
            [sys.executable, "-m", "jobmon", "workflow", "archive", "-w",
             str(workflow.workflow_id), "-o", str(archive)],
            capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
            env={**os.environ, "JOBMON__HTTP__TOKEN": admin},
        )
        assert result.returncode == 0, result.stderr
        with tarfile.open(archive) as opened:
            contents = {member.name: opened.extractfile(member).read()  # type: ignore[union-attr]
                        for member in opened.getmembers() if member.isfile()}
        assert not any(b"TOPSECRET" in data for data in contents.values())
        logged = [data for name, data in contents.items() if "/logs/" in name]
        assert Path(third_out).read_bytes() in logged  # the instance's own log is there
        assert len(logged) == 3  # first's stderr, third's stdout and stderr


def test_the_server_records_only_an_instances_own_log_paths(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13 item 3: a user reported /etc/passwd as the log of their own instance."""
    alice = make_token(token_server.dsn, "alice")
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", alice)
    settings_module.reset_cache()
    tool = Tool(name="probe-paths")
    template = tool.get_task_template(template_name="nap", command_template="sleep {s}",
                                      node_args=["s"], default_cluster_name="local")
    workflow = tool.create_workflow(name="paths", workflow_args="probe-paths")
    workflow.add_task(template.create_task(s=4))
    finished: list[str] = []
    runner = threading.Thread(target=lambda: finished.append(workflow.run(show_progress=False)))
    runner.start()
    try:
        wait_until(lambda: value(token_server.dsn, "SELECT count(*) FROM task_instance "
                                                   "WHERE status = 'R'") == 1, 60, "R")
        instance, rule_path = fetch(token_server.dsn,
                                    "SELECT id, stdout_path FROM task_instance")[0]
        status, answer = raw(token_server.url, "POST", "/api/v1/task_instances/transitions",
                             {"Authorization": f"Bearer {alice}",
                              "Content-Type": "application/json"},
                             json.dumps({"source": "worker", "updates": [
                                 {"task_instance_id": instance, "status": "D",
                                  "stdout_path": "/etc/passwd",
                                  "stderr_path": "/root/.ssh/id_rsa"}]}).encode())
        assert status == 200 and answer["results"] == ["applied"], answer
    finally:
        runner.join(60)
    stdout_path, stderr_path = fetch(token_server.dsn,
                                     "SELECT stdout_path, stderr_path FROM task_instance")[0]
    assert stdout_path == rule_path and stdout_path.endswith(f".o{instance}")
    assert stderr_path.endswith(f".e{instance}")
