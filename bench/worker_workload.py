"""The CPU one `jobmon worker` run costs: what every Slurm job pays on its node.

Run by bench/scenarios.py in a fresh interpreter against its private server:
``python bench/worker_workload.py COUNT WORKFLOW_ARGS``. It binds COUNT tasks of `true`,
starts a run, queues and claims them as a distributor would (so each instance is one a
worker may start), then runs the worker of each in turn, as a job script does, with each
entry point alternately, and prints one JSON line: CPU seconds (user + system, from the
children's rusage) per run of each entry point.

Jobmon's modules are byte-compiled first, as an installed package's are: a source tree run
with PYTHONDONTWRITEBYTECODE=1 (this development machine sets it) has no .pyc files, and
every worker would compile them again (~40 ms more CPU per job).
"""

from __future__ import annotations

import compileall
import getpass
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import jobmon.client
import jobmon.distributor
import jobmon.server
from jobmon import endpoints, wire
from jobmon.client.tool import Tool
from jobmon.distributor.worker import WorkerSettings
from jobmon.settings import get as get_settings
from jobmon.sync_requester import SyncRequester

ROOT = Path(__file__).resolve().parents[1]
# what the Slurm job script runs (distributor/plugins/slurm_submit.py): the entry point
# with the worker's settings on its command line
JOB_SCRIPT = ["-m", "jobmon.distributor.worker"]


def entry_points(installed_python: str) -> dict[str, list[str]]:
    arguments = WorkerSettings.from_settings(get_settings()).arguments()
    return {
        # jobmon installed from a wheel, as on a cluster (no editable install's import hook)
        "installed": [installed_python, *JOB_SCRIPT, *arguments],
        # this source tree's venv: its editable install's finder costs every start ~20 ms
        "lean": [sys.executable, *JOB_SCRIPT, *arguments],
        # the `jobmon worker` command, through the CLI (reads the configuration)
        "cli": [sys.executable, "-m", "jobmon", "worker"],
    }


def installed_python(folder: str) -> str:
    """A virtual environment in ``folder`` with this tree's jobmon installed from a wheel
    (not editable), without its dependencies: a worker that meets no error needs none."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", f"{folder}/venv"],
                   check=True)
    python = f"{folder}/venv/bin/python"
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", f"{folder}/wheel", str(ROOT)], **quiet)
    wheel = next(Path(folder, "wheel").glob("jobmon-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], **quiet)
    subprocess.run([python, "-m", "compileall", "-q", f"{folder}/venv"], **quiet)
    return python


def claimed_instances(count: int, workflow_args: str) -> list[int]:
    tool = Tool(name="bench")
    template = tool.get_task_template(template_name="worker", command_template="true {n}",
                                      node_args=["n"], default_cluster_name="local")
    workflow = tool.create_workflow(name="bench-worker", workflow_args=workflow_args)
    workflow.add_tasks([template.create_task(n=n) for n in range(count)])
    workflow_id = workflow.bind()
    with SyncRequester.from_settings(get_settings()) as requester:
        run = requester.call(endpoints.CREATE_RUN,
                             wire.RunRequest(user=getpass.getuser()), workflow_id=workflow_id)
        for status in ("I", "O", "R"):
            requester.call(endpoints.RUN_STATUS, wire.RunStatusRequest(status=status),
                           workflow_run_id=run.workflow_run_id)
        tasks = requester.call(endpoints.TASKS, workflow_id=workflow_id)
        requester.call(endpoints.RUN_SCHEDULE, wire.ScheduleRequest(
            queue=[wire.QueueGroup(task_ids=list(tasks.task_id))]),
            workflow_run_id=run.workflow_run_id)
        claimed = requester.call(endpoints.CLAIM, wire.ClaimRequest(
            cluster_name="local", workflow_run_id=run.workflow_run_id, limit=count,
            next_report_seconds=600))
    return [instance.task_instance_id for instance in claimed.instances]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def byte_compile() -> None:
    for package in (jobmon, jobmon.client, jobmon.server, jobmon.distributor):
        for folder in package.__path__:
            compileall.compile_dir(folder, quiet=1)


def main() -> None:
    count, workflow_args = int(sys.argv[1]), sys.argv[2]
    byte_compile()
    instances = claimed_instances(count, workflow_args)
    with tempfile.TemporaryDirectory(prefix="jobmon-bench-worker-") as folder:
        commands = entry_points(installed_python(folder))
        spent = dict.fromkeys(commands, 0.0)
        runs = dict.fromkeys(commands, 0)
        env = {**os.environ, "SLURM_JOB_ID": ""}
        for index, instance in enumerate(instances):
            name = list(commands)[index % len(commands)]  # alternate: the same load on each
            before = children_cpu()
            subprocess.run([*commands[name], "--task-instance-id", str(instance)],
                           env=env, check=True, stdout=subprocess.DEVNULL, cwd=folder)
            spent[name] += children_cpu() - before
            runs[name] += 1
    print(json.dumps({name: spent[name] / max(runs[name], 1) for name in commands}))


if __name__ == "__main__":
    main()
