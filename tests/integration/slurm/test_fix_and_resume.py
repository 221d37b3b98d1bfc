"""Fix and resume on the dev Slurm: too little memory and a bad op arg, fixed in the script."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobmon.client.workflow import Workflow
from tests.integration.helpers import count_lines
from tests.integration.slurm.support import instances, slurm_tool
from tests.support import ServerThread

pytestmark = pytest.mark.slurm


def _workflow(out: Path, memory: str, code: int) -> Workflow:
    tool = slurm_tool("slurm-fix")
    template = tool.get_task_template(
        template_name="hog",
        command_template="echo {step} >> {out}/ran.log; python3 -c 'b = bytearray({mb} * "
                         "1024 * 1024); b[::4096] = b\"x\" * len(b[::4096])' && exit {code}",
        node_args=["step"], task_args=["mb"], op_args=["out", "code"],
        default_cluster_name="slurm",
    )
    first = template.create_task(step="first", mb=10, out=str(out), code=0)
    hog = template.create_task(step="hog", mb=300, out=str(out), code=0, max_attempts=1,
                               compute_resources={"memory": memory}, upstream_tasks=[first])
    bad = template.create_task(step="bad", mb=10, out=str(out), code=code, max_attempts=1,
                               upstream_tasks=[first])
    workflow = tool.create_workflow(name="fix", workflow_args="slurm-fix",
                                    default_cluster_name="slurm")
    workflow.add_tasks([first, hog, bad])
    return workflow


@pytest.mark.timeout(400)
def test_more_memory_and_a_fixed_op_arg_then_resume(server: ServerThread,
                                                    tmp_path: Path) -> None:
    """Follows docsource/advanced/advanced_usage.rst, 'Resume By Recreating the Workflow':
    the script is fixed (more memory, the op arg of a failing command) and resumed."""
    broken = _workflow(tmp_path, "100M", 3)
    assert broken.run(show_progress=False, seconds_until_timeout=180) == "E"
    assert broken.workflow_id is not None
    assert sorted(str(row["status"]) for row in instances(server.dsn, broken.workflow_id)) == [
        "D", "E", "Z"]

    fixed = _workflow(tmp_path, "500M", 0)
    result = fixed.run(show_progress=False, resume=True, seconds_until_timeout=180)
    assert result == "D" and result.num_previously_complete == 1
    assert fixed.workflow_id == broken.workflow_id
    rows = instances(server.dsn, fixed.workflow_id)
    hogs = [row for row in rows if row["task_id"] == list(fixed.tasks.values())[1].task_id]
    assert [(row["status"], row["compute_resources"]["memory"]) for row in hogs] == [  # type: ignore[index]
        ("Z", 100), ("D", 500)]
    assert count_lines(tmp_path / "ran.log") == {"first": 1, "hog": 2, "bad": 2}
