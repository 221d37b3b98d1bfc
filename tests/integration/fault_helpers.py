"""Helpers of the fault tests: marker counts, process trees, servers and daemons as processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.helpers import ROOT, count_lines, swarm_process, value, wait_until

TASKS = 200  # the "two_hundred" workflow


def done_count(out: Path) -> int:
    return sum(count_lines(out / "done.log").values())


def assert_each_done_once(out: Path, rerun: frozenset[str] = frozenset(),
                          tasks: int = TASKS, log: str = "done.log") -> None:
    done = count_lines(out / log)
    assert len(done) == tasks, f"{tasks - len(done)} tasks never wrote their marker"
    twice = {name for name, count in done.items() if count > 1}
    assert twice <= rerun, f"ran more than once: {sorted(twice - rerun)}"


def workflow_id_of(dsn: str, workflow_args: str) -> int:
    wait_until(lambda: value(dsn, "SELECT id FROM workflow WHERE workflow_args = $1 AND bound",
                             workflow_args) is not None, 60, "the bind")
    return int(value(dsn, "SELECT id FROM workflow WHERE workflow_args = $1", workflow_args))


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for thread in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (thread / "children").read_text().split()]
    return found


def distributors_of(swarm_pid: int) -> list[int]:
    """The swarm's distributor children."""
    found = []
    for child in children(swarm_pid):
        with contextlib.suppress(OSError):
            if b"distributor" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def distributor_of(swarm_pid: int) -> int:
    found = distributors_of(swarm_pid)
    assert found, "the swarm has no distributor child"
    return found[0]


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL the process group if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def server_process(dsn: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`jobmon server` on ``dsn`` in its own session, listening on ``port``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "jobmon", "server", "--database-url", dsn, "--host", "127.0.0.1",
         "--port", str(port), "--no-upgrade"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_until(lambda: listening(port), 60, "the server to listen")
        yield process
    finally:
        stop_process(process)


@contextmanager
def ready_server(env: dict[str, str], ready: Path, log: Path,
                 *extra: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`jobmon server --port 0` with ``env``; yields it and its URL once ready."""
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "jobmon", "server", "--port", "0", "--ready-file", str(ready),
             *extra],
            cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True,
        )
    try:
        wait_until(ready.exists, 120, f"the server to be ready (see {log})")
        yield process, str(json.loads(ready.read_text())["url"])
    finally:
        stop_process(process)


@contextmanager
def daemon_process(cluster_name: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`jobmon distributor --cluster NAME` serving every run, in its own session."""
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "jobmon", "--log-level", "INFO", "distributor", "--cluster",
             cluster_name], cwd=ROOT, stdout=output, stderr=output, stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        yield process
    finally:
        stop_process(process)


def run_swarm(out: Path, workflow_args: str, builder: str = "two_hundred",
          *mode: str, **env: str) -> contextlib.AbstractContextManager[subprocess.Popen[str]]:
    return swarm_process(builder, workflow_args, str(out), *mode, env=env)


def kill_pids_in(path: Path) -> None:
    """SIGKILL every process whose PID a test task wrote to ``path`` (cleanup)."""
    if not path.exists():
        return
    for line in path.read_text().split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(line), signal.SIGKILL)


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    """The PIDs still alive after waiting up to ``seconds`` for all of them to end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]
