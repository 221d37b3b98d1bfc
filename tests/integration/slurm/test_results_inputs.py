"""Issue 18 item 1 on the dev Slurm: each worker fetches its own task's upstream outputs
with its own instance credential, and the files an output names reach the next task."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobmon.client.watch import WorkflowStatus
from tests.integration.helpers import act_as
from tests.integration.results_workflows import diamond, results_tool
from tests.integration.slurm.support import instances
from tests.support import ServerThread

pytestmark = pytest.mark.slurm


@pytest.mark.timeout(300)
def test_slurm_tasks_read_their_upstream_outputs_and_files(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    act_as(monkeypatch, token_server.dsn, "alice", tmp_path / "jobmon-logs")
    counts = tmp_path / "counts.txt"
    tool = results_tool("slurm", {"cores": 1, "memory": "200M", "runtime": "5m"})
    workflow = diamond(tool, "slurm", counts, "slurm-inputs")
    assert workflow.run(show_progress=False, seconds_until_timeout=240) == "D"
    outputs = WorkflowStatus(workflow.workflow_id).outputs()
    assert [outputs[name][0]["value"] for name in "abc"] == [1, 1, 3]
    assert outputs["c"][0]["seen"] == ["a", "b"]
    assert outputs["c"][0]["upstream_data"] == ["data of a\n", "data of b\n"]
    assert sorted(counts.read_text().split()) == ["a", "b", "c"]
    assert workflow.workflow_id is not None
    # they ran as Slurm jobs ("123" or "123_4"), reported by their workers
    assert all(str(row["distributor_id"]).split("_")[0].isdigit()
               for row in instances(token_server.dsn, workflow.workflow_id))
