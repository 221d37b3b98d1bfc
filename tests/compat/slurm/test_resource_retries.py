"""The retry examples of advanced_usage.rst on the dev Slurm cluster.

Slurm enforces runtime in whole minutes and checks about every 30 s, so the examples keep
Jobmon's shape with minutes: a first request of 60 s for a task of 100 s (which never fits
a minute, even with Slurm's 30 s of slack), and 90 s (two minutes to Slurm) that fits.
"""

from __future__ import annotations

from typing import Any

import pytest

from jobmon.client.tool import Tool
from tests.integration.helpers import fetch
from tests.support import ServerThread

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(600)]


def _instances(dsn: str, task_id: int | None) -> list[dict[str, Any]]:
    rows = fetch(dsn, "SELECT status, compute_resources, error_message FROM task_instance "
                      "WHERE task_id = $1 ORDER BY id", task_id)
    return [dict(row) for row in rows]


def test_resource_retry_and_custom_resource_scales_on_slurm(server: ServerThread) -> None:
    """Follows advanced_usage.rst 'Resource Retry' (50% more runtime after a TIMEOUT) and
    'Custom Resource Scales' (``resource_scales={"runtime": iter([...])}``: the value of each
    retry), one task each in one workflow so that they wait for Slurm together. Adapted:
    runtime '60s' (the page: '90s'), 'sleep 100' (110), iter([60, 180]) (iter([100, 120])),
    queue 'debug' (all.q), no project (the dev cluster has no accounts)."""
    tool = Tool(name="resource_resume_tutorial")
    wf = tool.create_workflow(name="resource_resume_wf", workflow_args="wf_with_resource_retries")
    resources = {"cores": 1, "runtime": "60s", "memory": "200M", "queue": "debug"}
    retry_tt = tool.get_task_template(template_name="resource_retry_tutorial_template",
                                      command_template="{arg}", node_args=["arg"],
                                      task_args=[], op_args=[])
    custom_tt = tool.get_task_template(template_name="custom_scales_tutorial_template",
                                       command_template="{arg}", node_args=["arg"],
                                       task_args=[], op_args=[])
    retry_task = retry_tt.create_task(arg="sleep 100", name="retry_task", max_attempts=2,
                                      compute_resources=resources, cluster_name="slurm")
    custom_task = custom_tt.create_task(arg="sleep 100", name="custom_task", max_attempts=3,
                                        compute_resources=resources,
                                        resource_scales={"runtime": iter([60, 180])},
                                        cluster_name="slurm")
    wf.add_tasks([retry_task, custom_task])

    assert wf.run(seconds_until_timeout=560) == "D"

    retried = _instances(server.dsn, retry_task.task_id)
    assert [i["status"] for i in retried] == ["Z", "D"]
    assert [i["compute_resources"]["runtime"] for i in retried] == [60, 90]
    assert "time limit" in str(retried[0]["error_message"])
    custom = _instances(server.dsn, custom_task.task_id)
    assert [i["status"] for i in custom] == ["Z", "Z", "D"]
    assert [i["compute_resources"]["runtime"] for i in custom] == [60, 60, 180]
