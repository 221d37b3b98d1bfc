"""Issue 18 items 3 and 4: typed parameters checked before bind, promised results read by
`jobmon workflow results`, and a post-processing workflow over several finished runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jobmon.client.watch import WorkflowStatus
from tests.integration.helpers import ROOT, value
from tests.integration.results_workflows import diamond, results_tool
from tests.support import ServerThread


def _jobmon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jobmon.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_parameters_are_checked_before_bind_and_results_are_read_back(
    server: ServerThread, tmp_path: Path
) -> None:
    workflow = diamond(results_tool("sequential"), "sequential", tmp_path / "n", "declared")
    workflow.add_parameter("year", int, help="the year modelled", required=True)
    workflow.add_parameter("scale", "float", default=1)
    workflow.set_parameters(year="2020", colour="red")
    with pytest.raises(ValueError) as refused:
        workflow.run(show_progress=False)
    assert "parameter 'year' must be of type int, not str '2020'" in str(refused.value)
    assert "'colour' is not a declared parameter" in str(refused.value)
    assert value(server.dsn, "SELECT count(*) FROM workflow") == 0  # nothing was sent
    with pytest.raises(ValueError, match="must be one of"):
        workflow.add_parameter("when", object)
    workflow.declarations.given.clear()
    workflow.set_parameters(year=2020)
    workflow.add_result("total", task="c", key="value", help="a + b + 1")
    workflow.add_result("data", task="a", key="data.txt", file=True)
    workflow.add_result("never", task="c", key="no.such.key")
    assert workflow.run(show_progress=False) == "D"

    shown = _jobmon("workflow", "results", "-w", str(workflow.workflow_id), "--json")
    assert shown.returncode == 1  # a promised result is missing
    found = json.loads(shown.stdout)
    assert found["results"]["total"] == 3
    assert Path(found["results"]["data"]).read_text() == "data of a\n"
    assert found["parameters"] == {"year": 2020, "scale": 1.0}
    assert "no 'no'" in found["missing"]["never"]
    table = _jobmon("workflow", "results", "-w", str(workflow.workflow_id))
    assert "total" in table.stdout and "a + b + 1" in table.stdout and "missing" in table.stdout


def test_a_summary_workflow_takes_the_results_of_finished_runs(
    server: ServerThread, tmp_path: Path
) -> None:
    tool = results_tool("sequential")
    runs = []
    for name in ("first", "second"):
        run = diamond(tool, "sequential", tmp_path / name, name)
        run.add_result("total", task="c", key="value")
        assert run.run(show_progress=False) == "D"
        runs.append(run.workflow_id)
    unfinished = diamond(tool, "sequential", tmp_path / "n", "unfinished")
    unfinished.bind()
    summary = tool.create_workflow(workflow_args="summary", default_cluster_name="sequential")
    with pytest.raises(ValueError, match="not DONE"):
        summary.add_runs([runs[0], unfinished.workflow_id])  # type: ignore[list-item]
    taken = summary.add_runs(runs)
    assert [run.results["total"] for run in taken] == [3, 3]
    template = tool.get_task_template(template_name="sum", command_template="{command}",
                                      node_args=["command"])
    total = sum(run.results["total"] for run in taken)
    summary.add_task(template.create_task(
        name="sum", command=f"echo '{{\"sum\": {total}}}' > \"$JOBMON_OUTPUT\""))
    assert summary.run(show_progress=False) == "D"
    assert WorkflowStatus(summary.workflow_id).outputs()["sum"] == [{"sum": 6}]
    shown = json.loads(_jobmon("workflow", "results", "-w", str(summary.workflow_id),
                               "--json").stdout)
    assert shown["input_runs"] == runs
