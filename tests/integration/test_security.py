"""Who may call: tokens stored as hashes, owners and admins, the local owner, and hostile
input that must stay data (names, args) and never reach a shell or SQL as code."""

from __future__ import annotations

import json
import logging
import os
import pwd
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import anyio
import pytest

from jobmon import settings as settings_module
from jobmon.client.tool import Tool
from jobmon.server.auth import TcpTable, peer_uid_by_sock_diag
from jobmon.server.store.tokens import hash_token
from tests.integration.helpers import ROOT, fetch, make_token, value
from tests.support import ServerThread


def _call(url: str, method: str, path: str, token: str | None = None,
          body: object = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    async def send() -> tuple[int, dict]:  # type: ignore[type-arg]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as session, session.request(
                method, url + path, json=body, headers=headers) as response:
            return response.status, await response.json()

    return anyio.run(send)


def _workflow(name: str, out: Path, args: str = "x"):  # type: ignore[no-untyped-def]
    tool = Tool(name="secure")
    template = tool.get_task_template(
        template_name="echo", command_template="echo {value} >> {out}/seen.txt",
        node_args=["value"], op_args=["out"], default_cluster_name="local",
    )
    workflow = tool.create_workflow(name=name, workflow_args=f"secure-{name}-{args}")
    workflow.add_task(template.create_task(value=args, out=str(out)))
    return workflow


def test_a_shared_server_needs_a_valid_token(token_server: ServerThread) -> None:
    status, body = _call(token_server.url, "POST", "/api/v1/tools", body={"name": "t"})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert "JOBMON__HTTP__TOKEN" in body["error"]["message"]
    status, body = _call(token_server.url, "GET", "/api/v1/workflows")
    assert status == 401  # reads too, on a shared server
    status, body = _call(token_server.url, "POST", "/api/v1/tools", token="jm_forged",
                         body={"name": "t"})
    assert status == 401 and "not valid" in body["error"]["message"]
    assert _call(token_server.url, "GET", "/health")[0] == 200  # health stays open
    # only the hash is stored
    token = make_token(token_server.dsn, "carol")
    assert value(token_server.dsn, "SELECT count(*) FROM api_token WHERE token_hash = $1",
                 token) == 0
    assert value(token_server.dsn, "SELECT count(*) FROM api_token WHERE token_hash = $1",
                 hash_token(token)) == 1


def test_only_the_owner_or_an_admin_may_change_a_workflow(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alice, bob = make_token(token_server.dsn, "alice"), make_token(token_server.dsn, "bob")
    admin = make_token(token_server.dsn, "root-admin", admin=True)
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", alice)
    settings_module.reset_cache()
    caplog.set_level(logging.DEBUG)
    workflow = _workflow("alices", tmp_path)
    assert workflow.run(show_progress=False) == "D"
    workflow_id = workflow.workflow_id
    assert value(token_server.dsn, "SELECT owner FROM workflow WHERE id = $1",
                 workflow_id) == "alice"  # whoever binds owns it, not what the body claims
    task_id = next(iter(workflow.tasks.values())).task_id
    instance = value(token_server.dsn, "SELECT id FROM task_instance WHERE task_id = $1",
                     task_id)
    url = token_server.url
    forbidden_calls = [
        ("POST", f"/api/v1/workflows/{workflow_id}/stop", None),
        ("POST", f"/api/v1/workflows/{workflow_id}/concurrency", {"max_concurrently_running": 1}),
        ("DELETE", f"/api/v1/workflows/{workflow_id}", None),
        ("POST", f"/api/v1/workflows/{workflow_id}/runs", {"user": "bob", "resume": True}),
        ("POST", f"/api/v1/workflows/{workflow_id}/task_status",
         {"task_ids": [task_id], "status": "G"}),
        ("POST", "/api/v1/task_instances/transitions",
         {"source": "worker", "updates": [{"task_instance_id": instance, "status": "E"}]}),
        ("POST", "/api/v1/distributor/claim", {"cluster_name": "slurm"}),
    ]
    for method, path, body in forbidden_calls:
        status, answer = _call(url, method, path, bob, body)
        assert status == 403, (method, path, status, answer)
        assert answer["error"]["code"] == "forbidden"
    assert "only its owner or an admin" in _call(url, *forbidden_calls[0][:2], bob)[1][
        "error"]["message"]
    # reading is fine for any user of the server
    assert _call(url, "GET", f"/api/v1/workflows/{workflow_id}/status", bob)[0] == 200
    # the owner and an admin may
    assert _call(url, "POST", f"/api/v1/workflows/{workflow_id}/concurrency", alice,
                 {"max_concurrently_running": 3})[0] == 200
    assert _call(url, "POST", f"/api/v1/workflows/{workflow_id}/concurrency", admin,
                 {"max_concurrently_running": 4})[0] == 200
    # logs carry no tokens
    logged = caplog.text + "".join(
        path.read_text(errors="replace")
        for path in (Path(os.environ["XDG_DATA_HOME"]) / "jobmon" / "logs").glob("*.log"))
    for secret in (alice, bob, admin):
        assert secret not in logged


def test_the_local_owner_needs_no_token_but_other_users_do(server: ServerThread) -> None:
    assert _call(server.url, "POST", "/api/v1/tools", body={"name": "mine"})[0] == 200
    if os.geteuid() != 0:
        pytest.skip("switching to another user needs root")
    probe = (
        "import json, sys, urllib.request, urllib.error\n"
        "def call(method, path, body=None):\n"
        "    request = urllib.request.Request(sys.argv[1] + path, method=method,\n"
        "        data=json.dumps(body).encode() if body is not None else None,\n"
        "        headers={'Content-Type': 'application/json'})\n"
        "    try:\n"
        "        return urllib.request.urlopen(request).status\n"
        "    except urllib.error.HTTPError as error:\n"
        "        return error.code\n"
        "print(call('GET', '/api/v1/workflows'), call('POST', '/api/v1/tools', {'name': 'x'}))\n"
    )
    nobody = pwd.getpwnam("nobody")
    result = subprocess.run(
        ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
         sys.executable, "-c", probe, server.url],
        capture_output=True, text=True, timeout=60, check=False, cwd="/",
    )
    # reads too: another OS user needs a token (issue 13 item 5)
    assert result.stdout.split() == ["401", "401"], result.stderr


@pytest.mark.parametrize("lookup", ["sock_diag", "proc_net_tcp"])
def test_both_lookups_name_the_user_at_the_other_end_of_a_loopback_connection(
    lookup: str,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("a client of another user needs root")
    nobody = pwd.getpwnam("nobody")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        host, port = listener.getsockname()
        client = subprocess.Popen(  # connects as nobody, then waits to be told to go
            ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
             "--clear-groups", sys.executable, "-c",
             "import socket, sys; s = socket.create_connection((sys.argv[1], "
             "int(sys.argv[2]))); s.recv(1)", host, str(port)],
            cwd="/",
        )
        try:
            listener.settimeout(30)
            connection, peer = listener.accept()
            with connection:
                local = connection.getsockname()
                if lookup == "sock_diag":
                    uid = peer_uid_by_sock_diag(peer, local)
                else:
                    uid = TcpTable.read().owners.get((peer[1], local[1]))
                assert uid == nobody.pw_uid
                connection.send(b"x")
        finally:
            client.wait(30)
    assert peer_uid_by_sock_diag(("127.0.0.1", 1), (host, port)) is None  # no such socket


def test_hostile_names_and_args_stay_data(server: ServerThread, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    name = "'; DROP TABLE task; --"
    hostile = "$(touch PWNED) `touch PWNED2`; exit 3 ; ünïcødé 🚀 \"quoted\" 'single'"
    # values are shell text in the command (as in Jobmon): untrusted text is quoted by the user
    workflow = _workflow(name, out, shlex.quote(hostile))
    assert workflow.run(show_progress=False) == "D"
    assert (out / "seen.txt").read_text() == hostile + "\n"  # printed literally, not run
    assert not (ROOT / "PWNED").exists() and not (Path.cwd() / "PWNED").exists()
    assert value(server.dsn, "SELECT name FROM workflow WHERE id = $1",
                 workflow.workflow_id) == name
    assert value(server.dsn, "SELECT count(*) FROM task") == 1  # the table is still there
    task_args = fetch(server.dsn, "SELECT args FROM task")[0][0]
    assert task_args["value"] == shlex.quote(hostile)
    listed = subprocess.run([sys.executable, "-m", "jobmon", "workflow", "status", "-w",
                             str(workflow.workflow_id), "--json"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT, check=False)
    assert listed.returncode == 0, listed.stderr
    assert name in json.dumps(json.loads(listed.stdout), ensure_ascii=False)


def test_start_moves_only_the_callers_own_new_run(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """POST .../start (B to I, O and R at once): another user's token is refused, an ended
    run is a 409 that leaves it ended, a garbage id a 400, an unknown one a 404."""
    alice, bob = make_token(token_server.dsn, "alice"), make_token(token_server.dsn, "bob")
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", alice)
    settings_module.reset_cache()
    workflow = _workflow("starts", tmp_path)
    assert workflow.run(show_progress=False) == "D"
    run_id = value(token_server.dsn, "SELECT max(id) FROM workflow_run WHERE workflow_id = $1",
                   workflow.workflow_id)
    url = token_server.url
    status, answer = _call(url, "POST", f"/api/v1/workflow_runs/{run_id}/start", bob)
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, answer = _call(url, "POST", f"/api/v1/workflow_runs/{run_id}/start", alice)
    assert status == 409, answer
    assert "DONE" in answer["error"]["message"]
    assert value(token_server.dsn, "SELECT status FROM workflow_run WHERE id = $1",
                 run_id) == "D"
    assert value(token_server.dsn, "SELECT status FROM workflow WHERE id = $1",
                 workflow.workflow_id) == "D"
    for garbage in ("abc", "0", "-1", "1.5", "%2F", "1e3", "99999999999999999999999"):
        status, answer = _call(url, "POST", f"/api/v1/workflow_runs/{garbage}/start", alice)
        assert (status, answer["error"]["code"]) == (400, "invalid_request"), garbage
    status, answer = _call(url, "POST", "/api/v1/workflow_runs/987654321/start", alice)
    assert (status, answer["error"]["code"]) == (404, "not_found")
