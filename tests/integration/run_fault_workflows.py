"""The workflow of test_run_faults.py, built in the test or run as a swarm process.

usage: python -m tests.integration.run_fault_workflows WORKFLOW_ARGS OUT SECONDS final|- [resume]
"""

from __future__ import annotations

import sys
from pathlib import Path

from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow


def sleepers(workflow_args: str, out: Path, seconds: float, final: bool) -> Workflow:
    """Three independent sleepers, and with ``final`` a task after them all."""
    tool = Tool(name="run-faults")
    template = tool.get_task_template(
        template_name="sleeper",
        command_template="echo {step} >> {out}/ran.log; sleep {seconds}; "
                         "echo {step} >> {out}/done.log",
        node_args=["step"], op_args=["seconds", "out"], default_cluster_name="local")
    workflow = tool.create_workflow(name="faults", workflow_args=workflow_args)
    tasks = [template.create_task(step=f"s{i}", seconds=seconds, out=str(out))
             for i in range(3)]
    workflow.add_tasks(tasks)
    if final:
        workflow.add_task(template.create_task(step="final", seconds=0, out=str(out),
                                               upstream_tasks=tasks))
    return workflow


def main() -> None:
    workflow_args, out, seconds, final, *mode = sys.argv[1:]
    workflow = sleepers(workflow_args, Path(out), float(seconds), final == "final")
    status = workflow.run(show_progress=False, resume=bool(mode))
    print(f"status={status} workflow_id={workflow.workflow_id}", flush=True)


if __name__ == "__main__":
    main()
