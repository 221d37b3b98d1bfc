"""Crash one part in the middle of a 200-task run: the workflow still ends DONE, and every
task ran to DONE exactly once (counted with marker lines), unless the fault killed the
task itself, which then ran again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jobmon import settings as settings_module
from jobmon.server.embedded import EmbeddedPostgres
from tests.integration.fault_helpers import (
    assert_each_done_once,
    distributor_of,
    done_count,
    free_port,
    run_swarm,
    server_process,
    workflow_id_of,
)
from tests.integration.helpers import ROOT, fetch, value, wait_until
from tests.support import (
    ServerThread,
    admin_dsn,
    create_template,
    database_name,
    drop_database,
    shared_temp_dir,
)

pytestmark = pytest.mark.timeout(240)


def _server_outage(db_dsn: str, out: Path, monkeypatch: pytest.MonkeyPatch,
                   workflow_args: str, downtime: float, **swarm_env: str) -> None:
    """A run whose server is killed (-9) after 50 tasks and started again ``downtime``
    seconds later, on the same port: it ends DONE, each task done once."""
    port = free_port()
    monkeypatch.setenv("JOBMON__HTTP__SERVICE_URL", f"http://127.0.0.1:{port}")
    settings_module.reset_cache()
    with server_process(db_dsn, port) as first, \
            run_swarm(out, workflow_args, **swarm_env) as swarm_process:
        wait_until(lambda: done_count(out) >= 50, 120, "50 tasks done")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        time.sleep(downtime)
        with server_process(db_dsn, port):
            stdout, stderr = swarm_process.communicate(timeout=180)
    assert "status=D" in stdout, stderr[-3000:]
    assert_each_done_once(out)


@pytest.mark.usefixtures("fast_local")
def test_server_killed_and_restarted(db_dsn: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _server_outage(db_dsn, tmp_path, monkeypatch, "srv-kill", downtime=5)


@pytest.mark.usefixtures("fast_local")
def test_postgres_restarted(jobmon_env: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    with shared_temp_dir("jm-pgr-") as base:
        database = EmbeddedPostgres(base / "pgdata", port=5441)
        server_dsn = database.start()
        template = create_template(server_dsn)
        thread: ServerThread | None = None
        try:
            dsn = admin_dsn(server_dsn, template)
            thread = ServerThread(dsn).start()
            monkeypatch.setenv("JOBMON__HTTP__SERVICE_URL", thread.url)
            with run_swarm(tmp_path, "pg-restart") as swarm_process:
                wait_until(lambda: done_count(tmp_path) >= 50, 120, "50 tasks done")
                database.stop()
                time.sleep(2)
                database.start()
                out, err = swarm_process.communicate(timeout=180)
            assert "status=D" in out, err[-3000:]
            assert_each_done_once(tmp_path)
        finally:
            if thread is not None:
                thread.stop()
            drop_database(server_dsn, template)
            database.stop()


@pytest.mark.usefixtures("fast_local")
def test_distributor_killed_new_one_adopts_running_instances(server: ServerThread,
                                                             tmp_path: Path) -> None:
    with run_swarm(tmp_path, "dist-kill", JOBMON_TEST_SLEEP="0.5") as swarm_process:
        workflow_id = workflow_id_of(server.dsn, "dist-kill")
        wait_until(lambda: done_count(tmp_path) >= 40, 120, "40 tasks done")
        running = {row[0] for row in fetch(
            server.dsn, "SELECT task_id FROM task_instance WHERE workflow_id = $1 "
                        "AND status = 'R'", workflow_id)}
        os.kill(distributor_of(swarm_process.pid), signal.SIGKILL)
        out, err = swarm_process.communicate(timeout=180)
    assert "status=D" in out, err[-3000:]
    assert_each_done_once(tmp_path)
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
    with run_swarm(tmp_path, "task-kill", JOBMON_TEST_SLEEP="0.5") as swarm_process:
        workflow_id = workflow_id_of(server.dsn, "task-kill")
        wait_until(lambda: done_count(tmp_path) >= 40, 120, "40 tasks done")
        victim = _kill_a_running_task(server.dsn, workflow_id)
        out, err = swarm_process.communicate(timeout=180)
    assert "status=D" in out, err[-3000:]
    assert_each_done_once(tmp_path)
    instances = [row[0] for row in fetch(
        server.dsn, "SELECT status FROM task_instance WHERE task_id = $1 ORDER BY id",
        victim["task_id"])]
    assert instances[-1] == "D" and len(instances) == 2, instances


@pytest.mark.usefixtures("fast_local")
def test_swarm_killed_then_cli_resume(server: ServerThread, tmp_path: Path) -> None:
    with run_swarm(tmp_path, "swarm-kill", JOBMON_TEST_SLEEP="0.3") as swarm_process:
        workflow_id = workflow_id_of(server.dsn, "swarm-kill")
        wait_until(lambda: done_count(tmp_path) >= 40, 120, "40 tasks done")
        os.killpg(swarm_process.pid, signal.SIGKILL)
        swarm_process.wait(10)
    # the reaper marks the run lost once its heartbeat deadline passes
    wait_until(lambda: value(server.dsn, "SELECT status FROM workflow_run WHERE workflow_id = $1",
                             workflow_id) == "E", 30, "the run to be marked lost")
    done = subprocess.run(
        [sys.executable, "-m", "jobmon", "workflow", "resume", "-w", str(workflow_id), "-c",
         "local"], capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_each_done_once(tmp_path)


@pytest.mark.usefixtures("fast_local")
def test_partitioned_worker_heals_without_double_completion(server: ServerThread,
                                                            tmp_path: Path) -> None:
    with run_swarm(tmp_path, "partition", JOBMON_TEST_SLEEP="2") as swarm_process:
        workflow_id = workflow_id_of(server.dsn, "partition")
        wait_until(lambda: value(server.dsn, "SELECT count(*) FROM task_instance WHERE "
                                             "workflow_id = $1 AND status = 'R'", workflow_id) > 0,
                   60, "running instances")
        distributor = distributor_of(swarm_process.pid)
        os.kill(distributor, signal.SIGSTOP)  # no heartbeat, no report: a partition
        try:
            wait_until(lambda: value(server.dsn, "SELECT count(*) FROM task_instance WHERE "
                                                 "workflow_id = $1 AND status = 'T'",
                                     workflow_id) > 0, 30, "the reaper to notice")
        finally:
            os.kill(distributor, signal.SIGCONT)
        out, err = swarm_process.communicate(timeout=200)
    assert "status=D" in out, err[-3000:]
    assert_each_done_once(tmp_path)
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


async def _allow_connections(dsn: str, allowed: bool) -> None:
    """ALTER DATABASE ... ALLOW_CONNECTIONS, and end every session when refusing."""
    import asyncpg

    name = database_name(dsn)
    maintenance = await asyncpg.connect(admin_dsn(dsn, "postgres"))
    try:
        flag = "true" if allowed else "false"
        await maintenance.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {flag}')
        if not allowed:
            await maintenance.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 "
                "AND pid <> pg_backend_pid()", name)
    finally:
        await maintenance.close()


@pytest.mark.usefixtures("fast_local")
def test_database_not_accepting_connections_for_ten_seconds(server: ServerThread,
                                                            tmp_path: Path) -> None:
    """SQLSTATE 55000 (a maintenance block) is a 503 that every client waits out."""
    import anyio

    with run_swarm(tmp_path, "no-connections", JOBMON_TEST_SLEEP="0.1") as swarm_process:
        wait_until(lambda: done_count(tmp_path) >= 50, 120, "50 tasks done")
        anyio.run(_allow_connections, server.dsn, False)
        try:
            time.sleep(10)
        finally:
            anyio.run(_allow_connections, server.dsn, True)
        out, err = swarm_process.communicate(timeout=180)
    assert "status=D" in out, err[-3000:]
    assert_each_done_once(tmp_path)


@pytest.mark.usefixtures("fast_local")
def test_short_heartbeats_survive_a_long_server_outage(db_dsn: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Deadlines of 1.55 s (run) and 3.1 s (instances) are shorter than the clients' retry
    backoff after a 14 s outage (up to 10 s between attempts): the new server's reaper must
    wait for them to come back, not mark the run lost."""
    monkeypatch.setenv("JOBMON__HEARTBEAT__WORKFLOW_RUN_INTERVAL", "0.5")
    monkeypatch.setenv("JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL", "1.0")
    monkeypatch.setenv("JOBMON__HTTP__RETRY_MAX_WAIT", "10")
    # after 13 s away the clients' attempts come 6.4, then 10 s apart: the restarted
    # server listens between two of them
    _server_outage(db_dsn, tmp_path, monkeypatch, "short-beats", downtime=13,
                   JOBMON_TEST_SLEEP="0.1")
    lost = value(db_dsn, "SELECT count(*) FROM workflow_run_status WHERE status = 'E'")
    assert lost == 0, "the reaper marked a live run lost"
