"""Crash one part in the middle of a 200-task run: the workflow still ends DONE, and every
task ran to DONE exactly once (counted with marker lines), unless the fault killed the
task itself, which then ran again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from jobmon import settings as settings_module
from jobmon.server.embedded import EmbeddedPostgres
from tests.integration.helpers import (
    ROOT,
    count_lines,
    fetch,
    swarm_process,
    value,
    wait_until,
)
from tests.support import ServerThread, admin_dsn, create_template, drop_database

TASKS = 200
pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def fast_local(jobmon_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBMON__LOCAL__MAX_PARALLEL", "8")
    # deadlines of 6 s: a replaced distributor adopts its orphans well before the reaper
    # gives them up, even on a busy 2-core machine
    monkeypatch.setenv("JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL", "2.0")
    settings_module.reset_cache()


def _done_count(out: Path) -> int:
    return sum(count_lines(out / "done.log").values())


def _assert_each_done_once(out: Path, rerun: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    done = count_lines(out / "done.log")
    assert len(done) == TASKS, f"{TASKS - len(done)} tasks never wrote their marker"
    twice = {name for name, count in done.items() if count > 1}
    assert twice <= rerun, f"ran to DONE more than once: {sorted(twice - rerun)}"


def _workflow_id(dsn: str, workflow_args: str) -> int:
    wait_until(lambda: value(dsn, "SELECT id FROM workflow WHERE workflow_args = $1 AND bound",
                             workflow_args) is not None, 60, "the bind")
    return int(value(dsn, "SELECT id FROM workflow WHERE workflow_args = $1", workflow_args))


def _children(pid: int) -> list[int]:
    found = []
    for thread in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (thread / "children").read_text().split()]
    return found


def _distributor_of(swarm_pid: int) -> int:
    for child in _children(swarm_pid):
        if b"distributor" in Path(f"/proc/{child}/cmdline").read_bytes():
            return child
    raise AssertionError("the swarm has no distributor child")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server_process(dsn: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "jobmon", "server", "--database-url", dsn, "--host", "127.0.0.1",
         "--port", str(port), "--no-upgrade"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        wait_until(listening, 60, "the server to listen")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _swarm(out: Path, workflow_args: str, **env: str) -> Iterator[subprocess.Popen[str]]:
    return swarm_process("two_hundred", workflow_args, str(out), env=env)  # type: ignore[return-value]


@pytest.mark.usefixtures("fast_local")
def test_server_killed_and_restarted(db_dsn: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("JOBMON__HTTP__SERVICE_URL", url)
    with _server_process(db_dsn, port) as first, _swarm(tmp_path, "srv-kill") as swarm:
        wait_until(lambda: _done_count(tmp_path) >= 50, 120, "50 tasks done")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        time.sleep(5)
        with _server_process(db_dsn, port):
            out, err = swarm.communicate(timeout=180)
    assert "status=D" in out, err[-3000:]
    _assert_each_done_once(tmp_path)


@pytest.mark.usefixtures("fast_local")
def test_postgres_restarted(jobmon_env: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    base = Path(tempfile.mkdtemp(prefix="jm-pgr-"))
    base.chmod(0o755)
    database = EmbeddedPostgres(base / "pgdata", port=5441)
    server_dsn = database.start()
    template = create_template(server_dsn)
    thread: ServerThread | None = None
    try:
        dsn = admin_dsn(server_dsn, template)
        thread = ServerThread(dsn).start()
        monkeypatch.setenv("JOBMON__HTTP__SERVICE_URL", thread.url)
        with _swarm(tmp_path, "pg-restart") as swarm:
            wait_until(lambda: _done_count(tmp_path) >= 50, 120, "50 tasks done")
            database.stop()
            time.sleep(2)
            database.start()
            out, err = swarm.communicate(timeout=180)
        assert "status=D" in out, err[-3000:]
        _assert_each_done_once(tmp_path)
    finally:
        if thread is not None:
            thread.stop()
        drop_database(server_dsn, template)
        database.stop()


@pytest.mark.usefixtures("fast_local")
def test_distributor_killed_new_one_adopts_running_instances(server: ServerThread,
                                                             tmp_path: Path) -> None:
    with _swarm(tmp_path, "dist-kill", JOBMON_TEST_SLEEP="0.5") as swarm:
        workflow_id = _workflow_id(server.dsn, "dist-kill")
        wait_until(lambda: _done_count(tmp_path) >= 40, 120, "40 tasks done")
        running = {row[0] for row in fetch(
            server.dsn, "SELECT task_id FROM task_instance WHERE workflow_id = $1 "
                        "AND status = 'R'", workflow_id)}
        os.kill(_distributor_of(swarm.pid), signal.SIGKILL)
        out, err = swarm.communicate(timeout=180)
    assert "status=D" in out, err[-3000:]
    _assert_each_done_once(tmp_path)
    assert running, "nothing was running when the distributor died"
    attempts = dict(fetch(server.dsn, "SELECT task_id, count(*) FROM task_instance "
                                      "WHERE workflow_id = $1 GROUP BY task_id", workflow_id))
    relaunched = sorted(task for task in running if attempts[task] > 1)
    assert not relaunched, f"running instances were launched again: {relaunched}"


def _kill_a_running_task(dsn: str, workflow_id: int) -> Any:
    """SIGKILL the process group of a RUNNING instance's command; returns its row.

    The database lags the processes by one report: a command listed RUNNING may have just
    ended, so try the next one.
    """
    for _ in range(50):
        for row in fetch(dsn, "SELECT task_id, process_id FROM task_instance "
                              "WHERE workflow_id = $1 AND status = 'R'", workflow_id):
            try:
                os.killpg(row["process_id"], signal.SIGKILL)
            except ProcessLookupError:
                continue
            return row
        time.sleep(0.05)
    raise AssertionError("no RUNNING command could be killed")


@pytest.mark.usefixtures("fast_local")
def test_a_killed_task_process_runs_again(server: ServerThread, tmp_path: Path) -> None:
    with _swarm(tmp_path, "task-kill", JOBMON_TEST_SLEEP="0.5") as swarm:
        workflow_id = _workflow_id(server.dsn, "task-kill")
        wait_until(lambda: _done_count(tmp_path) >= 40, 120, "40 tasks done")
        victim = _kill_a_running_task(server.dsn, workflow_id)
        out, err = swarm.communicate(timeout=180)
    assert "status=D" in out, err[-3000:]
    _assert_each_done_once(tmp_path)
    instances = [row[0] for row in fetch(
        server.dsn, "SELECT status FROM task_instance WHERE task_id = $1 ORDER BY id",
        victim["task_id"])]
    assert instances[-1] == "D" and len(instances) == 2, instances


@pytest.mark.usefixtures("fast_local")
def test_swarm_killed_then_cli_resume(server: ServerThread, tmp_path: Path) -> None:
    with _swarm(tmp_path, "swarm-kill", JOBMON_TEST_SLEEP="0.3") as swarm:
        workflow_id = _workflow_id(server.dsn, "swarm-kill")
        wait_until(lambda: _done_count(tmp_path) >= 40, 120, "40 tasks done")
        os.killpg(swarm.pid, signal.SIGKILL)
        swarm.wait(10)
    # the reaper marks the run lost once its heartbeat deadline passes
    wait_until(lambda: value(server.dsn, "SELECT status FROM workflow_run WHERE workflow_id = $1",
                             workflow_id) == "E", 30, "the run to be marked lost")
    done = subprocess.run(
        [sys.executable, "-m", "jobmon", "workflow", "resume", "-w", str(workflow_id), "-c",
         "local"], capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    _assert_each_done_once(tmp_path)


@pytest.mark.usefixtures("fast_local")
def test_partitioned_worker_heals_without_double_completion(server: ServerThread,
                                                            tmp_path: Path) -> None:
    with _swarm(tmp_path, "partition", JOBMON_TEST_SLEEP="2") as swarm:
        workflow_id = _workflow_id(server.dsn, "partition")
        wait_until(lambda: value(server.dsn, "SELECT count(*) FROM task_instance WHERE "
                                             "workflow_id = $1 AND status = 'R'", workflow_id) > 0,
                   60, "running instances")
        distributor = _distributor_of(swarm.pid)
        os.kill(distributor, signal.SIGSTOP)  # no heartbeat, no report: a partition
        try:
            wait_until(lambda: value(server.dsn, "SELECT count(*) FROM task_instance WHERE "
                                                 "workflow_id = $1 AND status = 'T'",
                                     workflow_id) > 0, 30, "the reaper to notice")
        finally:
            os.kill(distributor, signal.SIGCONT)
        out, err = swarm.communicate(timeout=200)
    assert "status=D" in out, err[-3000:]
    _assert_each_done_once(tmp_path)
    # the triaged instances came back: nothing that ran was marked lost (instances that
    # were only claimed, waiting for a slot when the partition began, may have been given
    # back: NO_DISTRIBUTOR_ID, and never started)
    statuses = {row[0] for row in fetch(server.dsn, "SELECT DISTINCT status FROM "
                                                    "task_instance WHERE workflow_id = $1",
                                        workflow_id)}
    assert statuses <= {"D", "W"}, statuses
    assert value(server.dsn, "SELECT count(*) FROM task_instance_status h JOIN task_instance "
                             "ti ON ti.id = h.task_instance_id WHERE ti.workflow_id = $1 "
                             "AND h.status = 'T'", workflow_id) > 0


def test_statement_timeout_during_bind_then_a_clean_retry(
    db_dsn: str, jobmon_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.integration.workflows import BUILDERS

    monkeypatch.setenv("JOBMON__DB__STATEMENT_TIMEOUT", "0.005")
    monkeypatch.setenv("JOBMON__HTTP__RETRY_SECONDS", "2")
    settings_module.reset_cache()
    slow = ServerThread(db_dsn).start()
    try:
        monkeypatch.setenv("JOBMON__HTTP__SERVICE_URL", slow.url)
        settings_module.reset_cache()
        big = BUILDERS["big"]("timeout-bind", tmp_path)
        with pytest.raises(Exception, match="timed out") as caught:
            big.bind()
        assert "Traceback" not in str(caught.value)
    finally:
        slow.stop()
    monkeypatch.delenv("JOBMON__DB__STATEMENT_TIMEOUT")
    settings_module.reset_cache()
    healthy = ServerThread(db_dsn).start()
    try:
        monkeypatch.setenv("JOBMON__HTTP__SERVICE_URL", healthy.url)
        settings_module.reset_cache()
        again = BUILDERS["big"]("timeout-bind", tmp_path)
        workflow_id = again.bind()
        assert again.bind() == workflow_id
        assert value(db_dsn, "SELECT count(*) FROM workflow") == 1
        assert value(db_dsn, "SELECT count(*) FROM task") == len(again.tasks)
        assert value(db_dsn, "SELECT bound FROM workflow WHERE id = $1", workflow_id) is True
        edges = sum(len(task.upstream_tasks) for task in again.tasks.values())
        assert value(db_dsn, "SELECT count(*) FROM edge") == edges
    finally:
        healthy.stop()
