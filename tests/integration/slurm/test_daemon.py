"""`jobmon distributor --cluster slurm` as the cluster's daemon: restarts, one per cluster."""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import msgspec
import pytest

from jobmon import wire
from tests.integration.helpers import ROOT, count_lines, fetch, value, wait_until
from tests.integration.slurm.support import daemon, instances, job_states, sleepers
from tests.support import ServerThread

pytestmark = pytest.mark.slurm

COUNT = 6
STATUSES = "SELECT status, count(*) FROM task_instance WHERE workflow_id = $1 GROUP BY status"


def _daemon_live(server: ServerThread) -> bool:
    with urllib.request.urlopen(server.url + "/api/v1/distributors/slurm", timeout=10) as answer:
        return msgspec.json.decode(answer.read(), type=wire.DistributorStatus).live


def _submitted_array_tasks(data_dir: Path) -> collections.Counter[str]:
    """Array tasks Slurm holds for this test's submissions, by job name (one name per sbatch).

    Each sbatch of the plugin leaves its job script, named after the job, in the log dir.
    """
    names = {script.stem for script in data_dir.rglob("slurm/jobmon-*.sh")}
    out = subprocess.run(["squeue", "-h", "-r", "-t", "all", "-o", "%j %i"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return collections.Counter(line.split()[0] for line in out.splitlines()
                               if line.split()[0] in names)


@pytest.mark.timeout(400)
def test_daemon_restart_in_the_middle_of_a_run_submits_nothing_twice(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pending jobs must outlive the daemon's downtime without being reaped as lost
    monkeypatch.setenv("JOBMON__HEARTBEAT__REPORT_BY_BUFFER", "15")
    out = tmp_path / "out"
    out.mkdir()
    (out / "slow").touch()
    result: dict[str, str] = {}
    with daemon(tmp_path / "daemon-1.log") as first:
        wait_until(lambda: _daemon_live(server), 60, "the first daemon to take the lease")
        workflow = sleepers("slurm-daemon", out, COUNT, 10)

        def run() -> None:
            result["status"] = workflow.run(show_progress=False, seconds_until_timeout=360)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        wait_until(lambda: workflow.workflow_id is not None, 60, "the bind")
        workflow_id = int(workflow.workflow_id or 0)
        running = "SELECT count(*) FROM task_instance WHERE workflow_id = $1 AND status = 'R'"
        wait_until(lambda: value(server.dsn, running, workflow_id) >= 1, 120,
                   "a task RUNNING on Slurm")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    statuses_when_killed = {row[0]: row[1] for row in fetch(server.dsn, STATUSES, workflow_id)}
    with daemon(tmp_path / "daemon-2.log") as second:
        thread.join(360)
        assert not thread.is_alive()
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0

    assert result["status"] == "D", (tmp_path / "daemon-2.log").read_text()[-3000:]
    log = (tmp_path / "daemon-2.log").read_text()
    assert "adopted" in log and "taking over" in log
    rows = instances(server.dsn, workflow_id)
    # one instance per task, one job each, and Slurm holds exactly one array task per instance
    assert len(rows) == COUNT and {row["status"] for row in rows} == {"D"}
    assert len({row["distributor_id"] for row in rows}) == COUNT
    assert sum(_submitted_array_tasks(tmp_path / "data").values()) == COUNT
    assert count_lines(out / "done.log") == {f"s{i}": 1 for i in range(COUNT)}
    assert statuses_when_killed.get("R", 0) >= 1
    # the client left the cluster to the daemon: it started no distributor of its own
    assert list((tmp_path / "data").rglob("distributor-*.log")) == []
    states = job_states({str(row["distributor_id"]) for row in rows})
    wait_until(lambda: set(job_states(set(states)).values()) == {"COMPLETED"}, 30,
               "every job COMPLETED")


@pytest.mark.timeout(120)
def test_a_second_daemon_for_the_cluster_is_refused(server: ServerThread, tmp_path: Path) -> None:
    with daemon(tmp_path / "daemon-1.log") as first:
        wait_until(lambda: _daemon_live(server), 60, "the first daemon to take the lease")
        second = subprocess.run(
            [sys.executable, "-m", "jobmon", "distributor", "--cluster", "slurm"],
            cwd=ROOT, capture_output=True, text=True, timeout=90, check=False,
        )
        assert second.returncode != 0
        assert "already has a distributor daemon" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one serves on
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
    # a clean stop gives the lease back: a new daemon starts at once
    assert not _daemon_live(server)
