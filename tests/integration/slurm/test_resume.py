"""A cold resume cancels the old run's Slurm jobs with scancel and finishes the workflow."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.integration.helpers import count_lines, value, wait_until
from tests.integration.slurm.support import instances, job_states, sleepers, swarm
from tests.support import ServerThread

pytestmark = pytest.mark.slurm

RUNNING = "SELECT count(*) FROM task_instance WHERE workflow_id = $1 AND status = 'R'"


@pytest.mark.timeout(300)
def test_cold_resume_scancels_the_running_jobs_of_the_old_run(
    server: ServerThread, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "slow").touch()
    # slow worker heartbeats: the resumed run's scancel, not the worker's own kill, ends them
    slow_workers = {"JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL": "10"}
    with swarm("run", "slurm-cold", out, tmp_path / "swarm.log", count=2, seconds=120,
               env=slow_workers) as process:
        wait_until(lambda: value(server.dsn, "SELECT id FROM workflow WHERE workflow_args = "
                                             "'slurm-cold'") is not None, 60, "the bind")
        workflow_id = int(value(server.dsn, "SELECT id FROM workflow WHERE workflow_args = "
                                            "'slurm-cold'"))
        wait_until(lambda: value(server.dsn, RUNNING, workflow_id) == 2, 120,
                   "both tasks RUNNING on Slurm")
        process.send_signal(signal.SIGKILL)  # the swarm dies; its jobs run on
        process.wait(30)
    old = instances(server.dsn, workflow_id)
    old_jobs = {str(row["distributor_id"]) for row in old}
    assert set(job_states(old_jobs).values()) == {"RUNNING"}

    (out / "slow").unlink()
    resumed = sleepers("slurm-cold", out, 2, 120)
    assert resumed.run(show_progress=False, resume=True, cold_resume=True,
                       seconds_until_timeout=200) == "D"

    wait_until(lambda: set(job_states(old_jobs).values()) == {"CANCELLED"}, 30,
               f"the old jobs {sorted(old_jobs)} to be CANCELLED")
    rows = {int(str(row["id"])): row for row in instances(server.dsn, workflow_id)}
    for row in old:
        killed = rows[int(str(row["id"]))]
        assert killed["status"] == "F"
        assert "scancel" in str(killed["error_message"])
    new = [row for key, row in rows.items() if key not in {row["id"] for row in old}]
    assert len(new) == 2 and {row["status"] for row in new} == {"D"}
    # the old commands never finished; each task finished once, in the new run
    assert count_lines(out / "ran.log") == {"s0": 2, "s1": 2}
    assert count_lines(out / "done.log") == {"s0": 1, "s1": 1}
