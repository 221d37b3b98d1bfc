"""`jobmon server --processes N`: N processes on one port, one that dies started again, all
stopped on SIGTERM and when the supervisor itself dies; and --no-upgrade on an old schema."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.integration.fault_helpers import alive, children, ready_server, wait_gone
from tests.integration.helpers import ROOT, fetch, wait_until

pytestmark = pytest.mark.timeout(120)


def _env(base: Path) -> dict[str, str]:
    env = {name: text for name, text in os.environ.items() if not name.startswith("JOBMON__")}
    env.update(XDG_DATA_HOME=str(base / "data"), XDG_CONFIG_HOME=str(base / "config"))
    return env


def _listeners(url: str) -> set[int]:
    """The PIDs listening on the URL's port, as `ss` shows them."""
    port = url.rsplit(":", 1)[1]
    shown = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True,
                           text=True, timeout=10, check=True).stdout
    return {int(pid) for pid in re.findall(r"pid=(\d+)", shown)}


def _health(url: str) -> int:
    with urllib.request.urlopen(url + "/health", timeout=5) as response:
        return int(response.status)


def test_processes_share_the_port_and_a_dead_one_is_replaced(
    db_dsn: str, tmp_path: Path
) -> None:
    with ready_server(_env(tmp_path), tmp_path / "ready.json", tmp_path / "server.log",
                      "--processes", "2", "--database-url", db_dsn) as (supervisor, url):
        wait_until(lambda: len(children(supervisor.pid)) == 2, 30, "two server processes")
        first = set(children(supervisor.pid))
        assert _listeners(url) == first, "both processes listen on the one port"
        assert all(_health(url) == 200 for _ in range(20))

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        # (connections the kernel had queued on the killed process's socket are reset:
        # clients retry those; new ones go to the process left)
        assert wait_gone([victim], 10) == []
        assert _health(url) == 200, "the other process serves meanwhile"
        wait_until(lambda: len(set(children(supervisor.pid)) - first) == 1, 30,
                   "a replacement process")
        now = set(children(supervisor.pid))
        assert victim not in now and len(now) == 2
        wait_until(lambda: _listeners(url) == now, 30, "the replacement to listen")

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(40) == 0
        assert wait_gone(sorted(now), 5) == [], "a server process outlived SIGTERM"
    log = (tmp_path / "server.log").read_text()
    assert f"server process 0 (pid {victim}) exited with code -9" in log \
        or f"server process 1 (pid {victim}) exited with code -9" in log, log[-2000:]


def test_the_processes_die_with_their_supervisor(db_dsn: str, tmp_path: Path) -> None:
    with ready_server(_env(tmp_path), tmp_path / "ready.json", tmp_path / "server.log",
                      "--processes", "2", "--database-url", db_dsn) as (supervisor, _):
        wait_until(lambda: len(children(supervisor.pid)) == 2, 30, "two server processes")
        pids = children(supervisor.pid)
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(10)
        assert wait_gone(pids, 30) == [], "server processes outlived their supervisor"
    assert not any(alive(pid) for pid in pids)


def test_no_upgrade_refuses_a_schema_that_lacks_migrations(db_dsn: str,
                                                           tmp_path: Path) -> None:
    fetch(db_dsn, "DELETE FROM schema_migrations WHERE version = "
                  "(SELECT max(version) FROM schema_migrations)")
    completed = subprocess.run(
        [sys.executable, "-m", "jobmon", "server", "--database-url", db_dsn, "--port", "0",
         "--no-upgrade"], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
        timeout=60, check=False)
    assert completed.returncode == 1
    last = completed.stderr.strip().splitlines()[-1]
    assert "run `jobmon db upgrade`" in last and "Traceback" not in completed.stderr, \
        completed.stderr[-2000:]


def test_idle_shutdown_is_refused_with_several_processes(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "jobmon", "server", "--processes", "2", "--idle-shutdown", "60"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 2
    assert "--processes" in completed.stderr and "one process" in completed.stderr


def test_a_schema_newer_than_this_jobmon_is_refused_in_one_line(db_dsn: str,
                                                                tmp_path: Path) -> None:
    """As after a rollback to an older Jobmon without restoring the database."""
    fetch(db_dsn, "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')")
    for command in (["server", "--database-url", db_dsn, "--port", "0", "--no-upgrade"],
                    ["db", "upgrade", "--database-url", db_dsn]):
        completed = subprocess.run([sys.executable, "-m", "jobmon", *command], cwd=ROOT,
                                   env=_env(tmp_path), capture_output=True, text=True,
                                   timeout=60, check=False)
        assert completed.returncode == 1, command
        assert "Traceback" not in completed.stderr, completed.stderr[-2000:]
        last = completed.stderr.strip().splitlines()[-1]
        assert "schema is at version 9999" in last and last.endswith("upgrade Jobmon"), last
