"""Limits changed during a run: the running swarm applies a template's new limit at once,
and the workflow's, whether the change comes from the CLI or the API (the dashboard's)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from jobmon.client.tool import Tool
from tests.compat.cli_support import jobmon
from tests.integration.helpers import value, wait_until
from tests.support import ServerThread

RUNNING = ("SELECT count(*) FROM task_instance WHERE workflow_id = $1 AND status = 'R'")


@pytest.mark.timeout(240)
def test_a_running_swarm_follows_new_template_and_workflow_limits(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JOBMON__LOCAL__MAX_PARALLEL", "16")
    from jobmon import settings as settings_module
    settings_module.reset_cache()
    tool = Tool(name="limits")
    hold = tool.get_task_template(
        template_name="hold", node_args=["n"], default_cluster_name="local",
        command_template=f"while [ ! -e {tmp_path}/go ]; do sleep 0.2; done; echo {{n}}")
    workflow = tool.create_workflow(name="limits", workflow_args="limits-1",
                                    max_concurrently_running=50)
    workflow.add_tasks([hold.create_task(n=n, name=f"hold-{n}") for n in range(6)])
    workflow.set_task_template_max_concurrency_limit("hold", 1)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(workflow.run(show_progress=False)),
                              daemon=True)
    thread.start()
    try:
        wait_until(lambda: workflow.workflow_id is not None
                   and value(server.dsn, RUNNING, workflow.workflow_id) == 1, 120,
                   "one task to run under the template's limit of 1")
        w = workflow.workflow_id
        changed = jobmon(f"workflow concurrency -w {w} -t hold -m 4")
        assert changed.code == 0, changed.stderr
        assert changed.stdout.strip() == \
            f"Workflow ID {w} task template 'hold' max concurrently running updated to 4"
        # the change poll is woken: well within its 10 s wait
        wait_until(lambda: value(server.dsn, RUNNING, w) == 4, 8, "four running tasks")
        assert value(server.dsn, "SELECT max_concurrently_running FROM task_array "
                                 "WHERE workflow_id = $1", w) == 4
        # the workflow's own limit now binds below the template's
        assert jobmon(f"concurrency_limit --workflow_id {w} --max_tasks 5").code == 0
        assert jobmon(f"workflow concurrency -w {w} -t hold -m 10").code == 0
        wait_until(lambda: value(server.dsn, RUNNING, w) == 5, 8, "five running tasks")
        assert value(server.dsn, RUNNING, w) == 5
        bad = jobmon(f"workflow concurrency -w {w} -t hold -m 0")
        assert bad.code != 0 and "0" in bad.stderr
    finally:
        (tmp_path / "go").touch()
        thread.join(120)
    assert outcome == ["D"]
