"""On the dev Slurm: a distributor's credentials never reach the jobs it submits, each worker
reports with a credential for its own instance, and the logs go where `stdout`/`stderr` say."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from jobmon import settings as settings_module
from jobmon.client.tool import Tool
from tests.integration.helpers import make_token
from tests.integration.test_security_probes import assert_logs_by_the_rule
from tests.support import ServerThread

pytestmark = pytest.mark.slurm


@pytest.mark.timeout(300)
def test_slurm_jobs_get_no_credentials_and_write_logs_by_the_rule(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13 item 2 (the token reached the submit environment) and issue 12 item 6 (IHME
    Jobmon's `{stdout}/{name}.o{job_id}`, docsource/quickstart_health_example.py)."""
    admin = make_token(token_server.dsn, "ops", admin=True)
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", admin)
    monkeypatch.setenv("JOBMON__DB__URL", "postgresql://u:sentinel-password@db/x")
    monkeypatch.setenv("JOBMON__LOCAL__LOG_DIR", str(tmp_path / "jobmon-logs"))
    settings_module.reset_cache()
    out, logs = tmp_path / "out", tmp_path / "logs"
    out.mkdir()
    tool = Tool(name="slurm-env")
    template = tool.get_task_template(
        template_name="dump", node_args=["i"], op_args=["out"], default_cluster_name="slurm",
        command_template="env > {out}/env-{i}.txt; echo out-{i}; echo err-{i} >&2",
    )
    workflow = tool.create_workflow(name="slurm env", workflow_args="slurm-env",
                                    default_cluster_name="slurm")
    workflow.add_tasks(template.create_tasks(
        i=[0, 1, 2], out=str(out),
        compute_resources={"cores": 1, "memory": "200M", "runtime": "5m",
                           "stdout": str(logs), "stderr": str(logs)}))
    assert workflow.run(show_progress=False, seconds_until_timeout=240) == "D"
    for i in range(3):
        dump = (out / f"env-{i}.txt").read_text()
        assert admin not in dump and "sentinel-password" not in dump
        variables = dict(line.split("=", 1) for line in dump.splitlines() if "=" in line)
        assert variables.get("JOBMON__HTTP__TOKEN", "") == ""  # not even the worker's own
        assert "JOBMON__DB__URL" not in variables
        assert variables["SLURM_ARRAY_TASK_ID"].isdigit()
    # job ids like "123_4": the Slurm array job and index
    assert_logs_by_the_rule(token_server.dsn, workflow, logs, logs, 3, cluster_job_id=True)
    # the job scripts hold the workers' credentials: their owner's eyes only
    scripts = list((tmp_path / "jobmon-logs" / "slurm").glob("*.sh"))
    assert scripts
    for script in scripts:
        assert stat.S_IMODE(os.stat(script).st_mode) == 0o700
        assert admin not in script.read_text()
