"""Faults of the processes a run relies on: the auto-started local server, a cluster's
distributor daemon, and the embedded PostgreSQL that several servers share."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import anyio
import pytest

from jobmon import wire
from jobmon.requester import Requester
from tests.integration.fault_helpers import (
    alive,
    assert_each_done_once,
    daemon_process,
    distributors_of,
    done_count,
    free_port,
    ready_server,
    run_swarm,
    wait_gone,
)
from tests.integration.helpers import healthy, wait_until
from tests.support import ServerThread, shared_temp_dir

pytestmark = pytest.mark.timeout(240)


def _stop_local_server(state_file: Path) -> None:
    """Stop the server a client started for itself (it would idle for 30 minutes)."""
    try:
        pid = int(json.loads(state_file.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
        if wait_gone([pid], 30):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.usefixtures("fast_local")
def test_the_auto_started_server_is_started_again_when_it_dies(
    db_dsn: str, jobmon_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No server configured: the client started one; after a kill -9 it starts it again."""
    monkeypatch.setenv("JOBMON__DB__URL", db_dsn)  # the started server's database
    state_file = jobmon_env / "data" / "jobmon" / "server.json"
    try:
        with run_swarm(tmp_path, "auto-server", JOBMON_TEST_SLEEP="0.2") as swarm_process:
            wait_until(lambda: done_count(tmp_path) >= 40, 120, "40 tasks done")
            first = int(json.loads(state_file.read_text())["pid"])
            os.kill(first, signal.SIGKILL)
            out, err = swarm_process.communicate(timeout=180)
        assert "status=D" in out, err[-3000:]
        assert_each_done_once(tmp_path)
        assert int(json.loads(state_file.read_text())["pid"]) != first
    finally:
        _stop_local_server(state_file)


def _daemon_live(server: ServerThread) -> bool:
    async def ask() -> bool:
        async with Requester(server.url) as requester:
            status = await requester.get("/api/v1/distributors/local", wire.DistributorStatus)
            return status.live

    return anyio.run(ask)


@pytest.mark.usefixtures("fast_local")
def test_a_run_served_by_a_daemon_that_dies_carries_on(server: ServerThread,
                                                       tmp_path: Path) -> None:
    """The run notices the lapsed lease, starts its own distributor, which adopts what the
    daemon left running."""
    with daemon_process("local", tmp_path / "daemon.log") as daemon:
        wait_until(lambda: _daemon_live(server), 30, "the daemon's lease")
        with run_swarm(tmp_path, "daemon-dies", JOBMON_TEST_SLEEP="0.3") as swarm_process:
            wait_until(lambda: done_count(tmp_path) >= 40, 120, "40 tasks done")
            assert distributors_of(swarm_process.pid) == [], "the daemon serves this run"
            os.kill(daemon.pid, signal.SIGKILL)
            daemon.wait(10)
            out, err = swarm_process.communicate(timeout=120)
    assert "status=D" in out, err[-3000:]
    assert_each_done_once(tmp_path)


def _server_env(base: Path, **extra: str) -> dict[str, str]:
    env = {name: text for name, text in os.environ.items() if not name.startswith("JOBMON__")}
    env.update(XDG_DATA_HOME=str(base / "data"), XDG_CONFIG_HOME=str(base / "config"),
               JOBMON__EMBEDDED__PORT=str(free_port()), **extra)
    return env


def _postmaster(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def test_the_embedded_database_outlives_the_server_that_started_it(tmp_path: Path) -> None:
    """Two servers on one embedded database; the one that started it stops: the other one
    serves again within seconds (it starts the database itself), and stops it at the end."""
    with shared_temp_dir("jm-share-") as base:
        data_dir = base / "pgdata"
        env = _server_env(base, JOBMON__EMBEDDED__DATA_DIR=str(data_dir))
        with ready_server(env, base / "first.json", tmp_path / "first.log") as (first, _), \
                ready_server(env, base / "second.json", tmp_path / "second.log") as (_, url):
            started_by_first = _postmaster(data_dir)
            assert healthy(url)
            first.send_signal(signal.SIGTERM)
            first.wait(30)
            wait_until(lambda: healthy(url), 30, "the survivor to reach its database again")
            assert _postmaster(data_dir) != started_by_first
        assert not (data_dir / "postmaster.pid").exists(), "the last server left it running"


def test_the_embedded_database_lives_under_xdg_data_home_as_root_too(tmp_path: Path) -> None:
    """One rule: the database sits beside server.json and the logs, in XDG_DATA_HOME."""
    with shared_temp_dir("jm-xdg-") as base:
        env = _server_env(base)
        with ready_server(env, base / "ready.json", tmp_path / "server.log"):
            data_dir = base / "data" / "jobmon" / "pgdata"
            assert (data_dir / "PG_VERSION").exists()
            assert (data_dir / "postmaster.pid").exists()
