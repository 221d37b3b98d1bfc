"""Resume never loses work: DONE tasks are skipped, cold kills, hot adopts, lost swarms."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from jobmon.errors import WorkflowAlreadyExists
from tests.integration.helpers import ROOT, count_lines, fetch, swarm_process, value, wait_until
from tests.integration.workflows import flaky_chain, sleepers
from tests.support import ServerThread

RUNNING = "SELECT count(*) FROM task_instance WHERE workflow_id = $1 AND status = 'R'"


def _workflow_id(dsn: str, workflow_args: str) -> int:
    wait_until(lambda: value(dsn, "SELECT id FROM workflow WHERE workflow_args = $1",
                             workflow_args) is not None, 30, "the workflow to be bound")
    return int(value(dsn, "SELECT id FROM workflow WHERE workflow_args = $1", workflow_args))


def test_resume_skips_done_tasks_and_gives_failed_ones_fresh_attempts(
    server: ServerThread, tmp_path: Path
) -> None:
    (tmp_path / "broken-b").touch()
    workflow = flaky_chain("flaky-1", tmp_path)
    assert workflow.run(show_progress=False) == "F"
    assert count_lines(tmp_path / "ran.log") == {"a": 1, "b": 2, "side": 1}

    with pytest.raises(WorkflowAlreadyExists):
        flaky_chain("flaky-1", tmp_path).run(show_progress=False)

    (tmp_path / "broken-b").unlink()
    again = flaky_chain("flaky-1", tmp_path)
    assert again.run(show_progress=False, resume=True) == "D"
    assert again.workflow_id == workflow.workflow_id
    # a and side were DONE: not run again; b got fresh attempts and c ran once
    assert count_lines(tmp_path / "ran.log") == {"a": 1, "b": 3, "side": 1, "c": 1}
    attempts = dict(fetch(server.dsn, "SELECT name, num_attempts FROM task WHERE workflow_id = $1",
                          workflow.workflow_id))
    assert attempts["flaky_task-b"] == 1


def test_cli_resume_needs_no_python_script(server: ServerThread, tmp_path: Path) -> None:
    (tmp_path / "broken-b").touch()
    workflow = flaky_chain("flaky-cli", tmp_path)
    assert workflow.run(show_progress=False) == "F"
    (tmp_path / "broken-b").unlink()

    wrong = subprocess.run(
        [sys.executable, "-m", "jobmon", "workflow", "resume", "-w", str(workflow.workflow_id),
         "-c", "slurm"], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert wrong.returncode == 1
    assert "runs on local, not on 'slurm'" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    done = subprocess.run(
        [sys.executable, "-m", "jobmon", "workflow", "resume", "-w", str(workflow.workflow_id),
         "-c", "local"], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert f"Workflow {workflow.workflow_id} has successfully resumed to completion" \
        in done.stdout
    assert count_lines(tmp_path / "ran.log") == {"a": 1, "b": 3, "side": 1, "c": 1}


def test_cold_resume_kills_the_old_runs_instances_and_the_old_swarm_exits(
    server: ServerThread, tmp_path: Path
) -> None:
    with swarm_process("sleepers", "cold-1", str(tmp_path)) as old:
        workflow_id = _workflow_id(server.dsn, "cold-1")
        wait_until(lambda: value(server.dsn, RUNNING, workflow_id) >= 2, 30, "running sleepers")
        pids = [row[0] for row in fetch(
            server.dsn, "SELECT process_id FROM task_instance WHERE workflow_id = $1 "
                        "AND status = 'R'", workflow_id)]

        resumed = sleepers("cold-1", tmp_path)
        assert resumed.run(show_progress=False, resume=True) == "D"

        out, err = old.communicate(timeout=60)
        assert "status=H" in out, (out, err[-2000:])
    assert resumed.workflow_id == workflow_id
    for pid in pids:  # the old instances' processes were killed
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    old_statuses = {row[0] for row in fetch(
        server.dsn, "SELECT ti.status FROM task_instance ti JOIN workflow_run r "
                    "ON r.id = ti.workflow_run_id WHERE r.workflow_id = $1 AND r.id = "
                    "(SELECT min(id) FROM workflow_run WHERE workflow_id = $1)", workflow_id)}
    assert old_statuses <= {"F", "D", "K"}, old_statuses
    runs = fetch(server.dsn, "SELECT status FROM workflow_run WHERE workflow_id = $1 ORDER BY id",
                 workflow_id)
    assert [row[0] for row in runs] == ["T", "D"]
    assert value(server.dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id) == "D"


def test_hot_resume_adopts_running_instances(server: ServerThread, tmp_path: Path) -> None:
    with swarm_process("sleepers", "hot-1", str(tmp_path)) as old:
        workflow_id = _workflow_id(server.dsn, "hot-1")
        wait_until(lambda: value(server.dsn, RUNNING, workflow_id) >= 2, 30, "running sleepers")
        resumed = sleepers("hot-1", tmp_path)
        assert resumed.run(show_progress=False, resume=True, cold_resume=False) == "D"
        out, _ = old.communicate(timeout=60)
        assert "status=H" in out
    # every task ran exactly once: the running ones were adopted, not restarted
    ran = count_lines(tmp_path / "ran.log")
    assert ran and set(ran.values()) == {1}, ran
    assert value(server.dsn, "SELECT count(*) FROM task_instance WHERE workflow_id = $1",
                 workflow_id) == 7


def test_resume_after_the_old_swarm_was_killed(server: ServerThread, tmp_path: Path) -> None:
    with swarm_process("sleepers", "killed-1", str(tmp_path)) as old:
        workflow_id = _workflow_id(server.dsn, "killed-1")
        wait_until(lambda: value(server.dsn, RUNNING, workflow_id) >= 1, 30, "a running task")
        os.killpg(old.pid, signal.SIGKILL)
        old.wait(10)
    resumed = sleepers("killed-1", tmp_path)
    assert resumed.run(show_progress=False, resume=True) == "D"
    runs = [row[0] for row in fetch(
        server.dsn, "SELECT status FROM workflow_run WHERE workflow_id = $1 ORDER BY id",
        workflow_id)]
    assert runs[-1] == "D" and runs[0] in ("T", "C", "E")
    done = count_lines(tmp_path / "done.log")
    assert len(done) == 7 and set(done.values()) == {1}
