"""Helpers for the Slurm tests: job states from squeue, daemons as child processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow
from tests.integration.helpers import ROOT, fetch

SWARM_SCRIPT = Path(__file__).resolve().parent / "swarm_script.py"


def job_states(job_ids: set[str]) -> dict[str, str]:
    """Slurm's state of each job or array task ('12_3' -> 'CANCELLED'), as squeue lists it."""
    out = subprocess.run(["squeue", "-h", "-r", "-t", "all", "-o", "%i %T"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    states = dict(line.split(None, 1) for line in out.splitlines() if line.strip())
    return {job: states[job].strip() for job in job_ids if job in states}


def instances(dsn: str, workflow_id: int) -> list[dict[str, object]]:
    rows = fetch(dsn, "SELECT ti.id, ti.task_id, ti.status, ti.distributor_id, ti.attempt, "
                      "ti.compute_resources, ti.error_message, ti.exit_code, ti.stdout_path, "
                      "ti.stderr_path, t.name FROM task_instance ti JOIN task t "
                      "ON t.id = ti.task_id WHERE ti.workflow_id = $1 ORDER BY ti.id",
                 workflow_id)
    return [dict(row) for row in rows]


def slurm_tool(name: str = "slurm-tests") -> Tool:
    tool = Tool(name=name)
    tool.set_default_compute_resources_from_dict(
        cluster_name="slurm", compute_resources={"cores": 1, "memory": "200M", "runtime": "10m"})
    return tool


def sleepers(workflow_args: str, out: Path, count: int, seconds: int) -> Workflow:
    """``count`` tasks on Slurm that record their start, sleep while OUT/slow exists when they
    start, then record their end."""
    tool = slurm_tool()
    template = tool.get_task_template(
        template_name="slurm_sleeper",
        command_template="echo {task} >> {out}/ran.log; if [ -e {out}/slow ]; then "
                         "sleep {seconds}; fi; echo {task} >> {out}/done.log",
        node_args=["task"], task_args=["seconds"], op_args=["out"],
        default_cluster_name="slurm",
    )
    workflow = tool.create_workflow(name="slurm sleepers", workflow_args=workflow_args,
                                    default_cluster_name="slurm")
    workflow.add_tasks(template.create_tasks(task=[f"s{i}" for i in range(count)],
                                             seconds=seconds, out=str(out)))
    return workflow


@contextlib.contextmanager
def child(args: list[str], log: Path, env: dict[str, str] | None = None,
          ) -> Iterator[subprocess.Popen[bytes]]:
    """A child process in its own session, output to ``log``; SIGKILLed by PID if still alive."""
    with open(log, "ab") as output:
        process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})},
                                   stdout=output, stderr=output, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


def daemon(log: Path, env: dict[str, str] | None = None,
           ) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """`jobmon distributor --cluster slurm` without a run id: the cluster's daemon."""
    return child([sys.executable, "-m", "jobmon", "--log-level", "INFO", "distributor",
                  "--cluster", "slurm"], log, env)


def swarm(mode: str, workflow_args: str, out: Path, log: Path, count: int, seconds: int,
          env: dict[str, str] | None = None,
          ) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """Run ``sleepers`` in a child process (mode 'run' or 'cold')."""
    return child([sys.executable, str(SWARM_SCRIPT), mode, workflow_args, str(out), str(count),
                  str(seconds)], log, env)
