"""sbatch failing like a busy controller: retried with backoff, and never submitted twice."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from jobmon.client.tool import Tool
from tests.integration.slurm.support import instances, job_states
from tests.support import ServerThread

pytestmark = pytest.mark.slurm

# Call 1 fails before reaching the controller. Call 2 reaches it (the job exists) but the
# answer is lost. Later calls work.
FLAKY_SBATCH = """#!/bin/bash
calls={calls}
n=$(( $(cat "$calls" 2>/dev/null || echo 0) + 1 ))
echo $n > "$calls"
case $n in
1) echo "sbatch: error: Batch job submission failed: Unable to contact slurm controller \\
(connect failure)" >&2; exit 1;;
2) {sbatch} "$@" > /dev/null
   echo "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation" >&2
   exit 1;;
*) exec {sbatch} "$@";;
esac
"""


@pytest.mark.timeout(180)
def test_transient_sbatch_failures_are_retried_without_a_second_submission(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shutil.which("sbatch")
    assert real is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "sbatch-calls"
    wrapper = bin_dir / "sbatch"
    wrapper.write_text(FLAKY_SBATCH.format(calls=calls, sbatch=real))
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")

    tool = Tool(name="slurm-flaky")
    template = tool.get_task_template(template_name="ok", command_template="sleep 5; echo {n}",
                                      node_args=["n"], default_cluster_name="slurm")
    workflow = tool.create_workflow(name="flaky sbatch", workflow_args="slurm-flaky-sbatch",
                                    default_cluster_name="slurm")
    workflow.add_tasks(template.create_tasks(n=[1, 2, 3], max_attempts=1,
                                             compute_resources={"memory": "200M"}))

    assert workflow.run(show_progress=False, seconds_until_timeout=150) == "D"

    assert calls.read_text().strip() == "2"  # the failed call, then the one that got through
    (log,) = (tmp_path / "data").rglob("distributor-*-slurm.log")
    assert "sbatch reported a failure, but job" in log.read_text()
    assert workflow.workflow_id is not None
    rows = instances(server.dsn, workflow.workflow_id)
    assert len(rows) == 3 and {row["status"] for row in rows} == {"D"}
    arrays = {str(row["distributor_id"]).split("_")[0] for row in rows}
    assert len(arrays) == 1
    # Slurm holds that one array of three tasks and nothing else from this test
    scripts = list((tmp_path / "data").rglob("slurm/jobmon-*.sh"))
    assert len(scripts) == 1
    (array,) = arrays
    states = job_states({f"{array}_{index}" for index in range(4)})
    assert sorted(states) == [f"{array}_0", f"{array}_1", f"{array}_2"]
