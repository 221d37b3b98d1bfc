"""Faults around the processes that run commands: status files another database left, a
swarm and its distributor killed before a hot resume, background children, a distributor
that keeps dying, and a stop right after the bind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from jobmon import settings as settings_module
from jobmon.clock import SystemClock
from jobmon.distributor.execution import InstancePaths
from jobmon.distributor.plugins import log_dir
from jobmon.server.db import create_pool
from tests.integration.fault_helpers import (
    assert_each_done_once,
    distributor_of,
    distributors_of,
    done_count,
    kill_pids_in,
    run_swarm,
    stop_process,
    wait_gone,
    workflow_id_of,
)
from tests.integration.helpers import (
    ROOT,
    count_lines,
    fetch,
    value,
    wait_until,
    workflow_with_instances,
)
from tests.support import ServerThread

pytestmark = pytest.mark.timeout(240)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


async def _claimed(dsn: str, commands: list[str]) -> tuple[int, int, list[int]]:
    pool = await create_pool(dsn, min_size=1, max_size=2, statement_timeout=30)
    try:
        workflow_id, run_id, _, instance_ids = await workflow_with_instances(
            pool, SystemClock(), len(commands), commands)
    finally:
        await pool.close()
    return workflow_id, run_id, instance_ids


def test_a_status_file_left_by_another_database_is_not_trusted(
    server: ServerThread, jobmon_env: Path, tmp_path: Path
) -> None:
    """A fresh database numbers workflows and instances from 1 again: the status files a
    run on another database left under the same names must not make its tasks DONE."""
    out = tmp_path / "out"
    out.mkdir()
    commands = [f"echo ran >> {out}/ran-{i}" for i in range(4)]
    # claimed (I) as if a distributor took them and died before starting any
    workflow_id, run_id, instance_ids = asyncio.run(_claimed(server.dsn, commands))
    logs = log_dir(settings_module.get())
    dead = _dead_pid()
    for n, instance_id in enumerate(instance_ids):
        # what the other database's instance left: its wrapper's PID, then exit status 0,
        # in the old format (PID only) and in the new one (PID, parent, its own launch id)
        first_line = f"{dead}" if n % 2 else f"{dead} {dead} {uuid.uuid4().hex}"
        wrapper = Path(InstancePaths.under(logs, workflow_id, instance_id).wrapper)
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        wrapper.write_text(f"{first_line}\n0\n")
    distributor = subprocess.Popen(
        [sys.executable, "-m", "jobmon", "distributor", "--cluster", "local",
         "--workflow-run-id", str(run_id)],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: value(server.dsn, "SELECT count(*) FROM task_instance WHERE "
                                             "status = 'I'") == 0, 60, "the adoption")
    finally:
        stop_process(distributor)
    statuses = dict(fetch(server.dsn, "SELECT id, status FROM task_instance"))
    assert not list(out.iterdir()), "a command ran (nothing should have launched them)"
    assert set(statuses.values()) == {"W"}, f"counted as done without running: {statuses}"


@pytest.mark.usefixtures("fast_local")
def test_hot_resume_after_swarm_and_distributor_died_runs_nothing_twice(
    server: ServerThread, tmp_path: Path
) -> None:
    """The orphaned commands are adopted by the resumed run, not launched again."""
    with run_swarm(tmp_path, "orphans", "long_sleepers") as first:
        wait_until(lambda: len(count_lines(tmp_path / "ran.log")) == 6, 60,
                   "six tasks running")
        os.kill(distributor_of(first.pid), signal.SIGKILL)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    with run_swarm(tmp_path, "orphans", "long_sleepers", "hot") as second:
        out, err = second.communicate(timeout=120)
    assert "status=D" in out, err[-3000:]
    assert_each_done_once(tmp_path, tasks=7, log="ran.log")
    assert_each_done_once(tmp_path, tasks=7)


@pytest.mark.usefixtures("fast_local")
def test_a_resume_after_the_reaper_gave_up_kills_the_orphans_first(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too late to adopt: the server gave the instances up (UNKNOWN_ERROR) while their
    commands still ran. The resumed run starts them again, but never beside the old ones."""
    monkeypatch.setenv("JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL", "1.0")
    monkeypatch.setenv("JOBMON_TEST_SLEEP", "30")  # still running when the server gives up
    with run_swarm(tmp_path, "given-up", "long_sleepers") as first:
        workflow_id = workflow_id_of(server.dsn, "given-up")
        wait_until(lambda: len(count_lines(tmp_path / "ran.log")) == 6, 60,
                   "six tasks running")
        os.kill(distributor_of(first.pid), signal.SIGKILL)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    wait_until(lambda: value(server.dsn, "SELECT count(*) FROM task_instance WHERE "
                                         "workflow_id = $1 AND status = 'U'", workflow_id) == 6,
               60, "the reaper to give the six up")
    with run_swarm(tmp_path, "given-up", "long_sleepers", "hot") as second:
        out, err = second.communicate(timeout=120)
    assert "status=D" in out, err[-3000:]
    # each ran twice (given up, then again), but the first command never finished
    assert count_lines(tmp_path / "ran.log") == {**{f"s{i}": 2 for i in range(6)}, "final": 1}
    assert_each_done_once(tmp_path, tasks=7)


@pytest.mark.usefixtures("fast_local")
def test_a_tasks_background_children_end_with_it(server: ServerThread, tmp_path: Path) -> None:
    """`cmd &`, `setsid cmd &` and a double fork all end when the task ends, as on Slurm."""
    pids_file = tmp_path / "pids"
    try:
        with run_swarm(tmp_path, "children", "background_children") as swarm_process:
            out, err = swarm_process.communicate(timeout=60)
        assert "status=D" in out, err[-3000:]
        pids = [int(line) for line in pids_file.read_text().split()]
        assert len(pids) == 3
        assert wait_gone(pids, 10) == [], "children of a finished task still run"
    finally:
        kill_pids_in(pids_file)


def test_a_cluster_tasks_background_children_end_with_its_worker(
    server: ServerThread, tmp_path: Path
) -> None:
    """The same on a cluster node, for a cluster that does not end them itself."""
    child = f"sh -c 'echo $$ >> {tmp_path}/pids; exec sleep 300'"
    command = f"{child} & setsid {child} & (setsid {child} &); sleep 0.5"
    _, _, instance_ids = asyncio.run(_claimed(server.dsn, [command]))
    try:
        worker = subprocess.run(
            [sys.executable, "-m", "jobmon", "worker", "--task-instance-id",
             str(instance_ids[0])], cwd=ROOT, capture_output=True, text=True, timeout=60,
            check=False)
        assert worker.returncode == 0, worker.stderr
        pids = [int(line) for line in (tmp_path / "pids").read_text().split()]
        assert len(pids) == 3
        assert wait_gone(pids, 5) == [], "children of a finished task still run"
    finally:
        kill_pids_in(tmp_path / "pids")


@pytest.mark.usefixtures("fast_local")
def test_a_distributor_that_keeps_dying_is_restarted_with_backoff(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven deaths in a row within the retry window: the run goes on; restarts slow down."""
    monkeypatch.setenv("JOBMON__HTTP__RETRY_MAX_WAIT", "1")
    gaps: list[float] = []
    with run_swarm(tmp_path, "restarts", JOBMON_TEST_SLEEP="0.3") as swarm_process:
        wait_until(lambda: done_count(tmp_path) >= 10, 120, "10 tasks done")
        victim = distributor_of(swarm_process.pid)
        for _ in range(7):
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()

            def replaced(dead: int = victim) -> bool:
                return any(pid != dead for pid in distributors_of(swarm_process.pid))

            wait_until(replaced, 30, "a new distributor")
            gaps.append(time.monotonic() - killed)
            victim = distributor_of(swarm_process.pid)
        out, err = swarm_process.communicate(timeout=180)
    assert "status=D" in out, err[-3000:]
    assert_each_done_once(tmp_path)
    assert gaps[0] < 1.0, f"the first restart must be at once: {gaps}"
    assert min(gaps[3:]) >= 0.5, f"restarts did not back off: {gaps}"


@pytest.mark.usefixtures("fast_local")
def test_workflow_stop_right_after_the_bind_leaves_no_instance_to_kill(
    server: ServerThread, tmp_path: Path
) -> None:
    with run_swarm(tmp_path, "stop-early", JOBMON_TEST_SLEEP="5") as swarm_process:
        workflow_id = workflow_id_of(server.dsn, "stop-early")
        wait_until(lambda: value(server.dsn, "SELECT count(*) FROM task_instance WHERE "
                                             "workflow_id = $1", workflow_id) > 0, 60,
                   "queued instances")
        stopped = subprocess.run(
            [sys.executable, "-m", "jobmon", "workflow", "stop", "-w", str(workflow_id)],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
        assert stopped.returncode == 0, stopped.stderr
        swarm_process.communicate(timeout=60)

    def nothing_to_kill() -> bool:
        return value(server.dsn, "SELECT count(*) FROM task_instance WHERE workflow_id = $1 "
                                 "AND status = 'K'", workflow_id) == 0

    wait_until(nothing_to_kill, 20, "every instance of the stopped workflow to be closed")
    assert value(server.dsn, "SELECT count(*) FROM task_instance WHERE workflow_id = $1 "
                             "AND status IN ('Q', 'I', 'O', 'R', 'T')", workflow_id) == 0
