"""Issue 18 item 4, inside the tasks: a task of a workflow that takes finished runs as
input finds them at JOBMON_RUNS (names, workflow_args, parameters, results, outputs),
delivered as JOBMON_INPUTS is; outputs past the size limit are left out (null)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from jobmon import results
from jobmon import settings as settings_module
from jobmon.client.status import WorkflowStatus
from tests.integration.helpers import value
from tests.integration.results_workflows import finished_run, results_tool, summary
from tests.support import ServerThread


@pytest.fixture(params=["local", "sequential"])
def cluster(request: pytest.FixtureRequest, server: ServerThread) -> str:
    return str(request.param)


def _runs(cluster: str, folder: Path) -> list[int]:
    tool = results_tool(cluster)
    found = []
    for year, name in ((2020, "first"), (2021, "second")):
        run = finished_run(tool, cluster, folder / name, f"runs-{cluster}-{name}", year)
        assert run.run(show_progress=False) == "D"
        assert run.workflow_id is not None
        found.append(run.workflow_id)
    return found


def _read(workflow_id: int | None) -> dict[str, Any]:
    assert workflow_id is not None
    outputs = WorkflowStatus(workflow_id).outputs()
    return {name: found[0] for name, found in outputs.items()}


def test_the_tasks_of_a_summary_workflow_read_its_input_runs(
    cluster: str, tmp_path: Path
) -> None:
    run_ids = _runs(cluster, tmp_path)
    workflow = summary(results_tool(cluster), cluster, run_ids, f"summary-{cluster}")
    assert workflow.run(show_progress=False) == "D"
    read = _read(workflow.workflow_id)
    for name in ("first", "second"):  # with upstream tasks, and without
        assert read[name]["runs"] == run_ids
        assert read[name]["names"] == [f"diamond runs-{cluster}-first",
                                       f"diamond runs-{cluster}-second"]
        assert read[name]["workflow_args"] == [f"runs-{cluster}-first",
                                               f"runs-{cluster}-second"]
        assert read[name]["parameters"] == [{"year": 2020}, {"year": 2021}]
        assert read[name]["results"] == [{"total": 3}, {"total": 3}]
        assert read[name]["c_values"] == [3, 3]
    assert read["first"]["inputs"] == {}
    assert read["second"]["inputs"]["first"]["runs"] == run_ids  # JOBMON_INPUTS as before


def test_a_task_without_input_runs_finds_an_empty_object(server: ServerThread,
                                                         tmp_path: Path) -> None:
    tool = results_tool("sequential")
    template = tool.get_task_template(template_name="cat", command_template="{command}",
                                      node_args=["command"])
    workflow = tool.create_workflow(workflow_args="no-runs", default_cluster_name="sequential")
    workflow.add_task(template.create_task(
        name="cat", command='printf \'{"runs": %s}\' "$(cat "$JOBMON_RUNS")" > "$JOBMON_OUTPUT"'))
    assert workflow.run(show_progress=False) == "D"
    assert _read(workflow.workflow_id) == {"cat": {"runs": {}}}


def test_outputs_past_the_limit_are_left_out_and_results_stay(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_ids = _runs("sequential", tmp_path)
    first_size = value(server.dsn, "SELECT sum(octet_length(output::text)) FROM task "
                                   "WHERE workflow_id = $1 AND status = 'D'", run_ids[0])
    # the first run's outputs just fit; the second's would pass the limit
    monkeypatch.setattr(results, "RUNS_OUTPUTS_LIMIT", first_size)
    workflow = summary(results_tool("sequential"), "sequential", run_ids, "summary-limited")
    assert workflow.run(show_progress=False) == "D"
    read = _read(workflow.workflow_id)["first"]
    assert read["c_values"] == [3, None]
    assert read["results"] == [{"total": 3}, {"total": 3}]
    assert read["parameters"] == [{"year": 2020}, {"year": 2021}]


def test_the_runs_are_answered_to_a_worker_for_its_own_instance_only(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobmon.server.auth import worker_credential
    from tests.integration.helpers import act_as, fetch, make_token
    from tests.integration.test_security_probes import raw

    act_as(monkeypatch, token_server.dsn, "alice")
    run_ids = _runs("sequential", tmp_path)
    workflow = summary(results_tool("sequential"), "sequential", run_ids, "summary-token")
    assert workflow.run(show_progress=False) == "D"
    ids = {row["name"]: row["id"] for row in fetch(
        token_server.dsn, "SELECT t.name, ti.id FROM task_instance ti JOIN task t "
        "ON t.id = ti.task_id WHERE ti.workflow_id = ANY($1::bigint[])",
        [*run_ids, workflow.workflow_id])}
    key = bytes(value(token_server.dsn, "SELECT key FROM server_key"))

    def inputs(instance_id: int, credential: str) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {credential}", "Content-Type": "application/json"}
        return raw(token_server.url, "POST", "/api/v1/task_instances/inputs", headers,
                   json.dumps({"task_instance_ids": [instance_id]}).encode())

    status, body = inputs(ids["second"], worker_credential(key, ids["second"]))
    assert status == 200
    runs = body["runs"][str(workflow.workflow_id)]
    assert sorted(runs, key=int) == [str(i) for i in run_ids]
    assert runs[str(run_ids[0])]["results"] == {"total": 3}
    assert inputs(ids["second"], worker_credential(key, ids["first"]))[0] == 403
    assert inputs(ids["second"], make_token(token_server.dsn, "bob"))[0] == 403
    # an instance of an input run itself takes no runs
    status, body = inputs(ids["a"], worker_credential(key, ids["a"]))
    assert status == 200 and body["runs"] == {}


def test_the_runs_file_is_as_private_as_the_users_other_files(
    cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user whose umask keeps their files to themselves (077): JOBMON_RUNS holds other
    workflows' outputs, and was made readable by everyone (0444, a chmod past the umask) in
    a log folder other users may list, while the task's own logs were not."""
    log_dir = tmp_path / "logs"
    monkeypatch.setenv("JOBMON__LOCAL__LOG_DIR", str(log_dir))
    settings_module.reset_cache()
    run_ids = _runs(cluster, tmp_path)
    workflow = summary(results_tool(cluster), cluster, run_ids, f"private-{cluster}")
    before = os.umask(0o077)
    try:
        assert workflow.run(show_progress=False) == "D"
    finally:
        os.umask(before)
    assert _read(workflow.workflow_id)["first"]["runs"] == run_ids
    folder = log_dir / f"workflow-{workflow.workflow_id}"
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()
             if path.is_file()}
    assert "runs.json" in modes and "no-inputs.json" in modes
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}
    assert modes["runs.json"] == 0o400  # and read-only, as before
