"""Builds one of the test workflows and runs it; prints the final status on stdout.

usage: swarm.py NAME WORKFLOW_ARGS OUT_DIR [resume|cold|hot]

With JOBMON_TEST_KILLED_BEFORE_START set, the process SIGKILLs itself once its run exists
and its swarm is built, just before POST .../start (the run is left BOUND).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.integration.workflows import BUILDERS


def _killed_before_start() -> None:
    from jobmon.client.swarm.orchestrator import WorkflowRunOrchestrator

    async def start(_self: WorkflowRunOrchestrator) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    WorkflowRunOrchestrator.start = start  # type: ignore[method-assign]


def main() -> None:
    if os.environ.get("JOBMON_TEST_KILLED_BEFORE_START"):
        _killed_before_start()
    name, workflow_args, out_dir, *mode = sys.argv[1:]
    workflow = BUILDERS[name](workflow_args, Path(out_dir))
    resume = bool(mode) and mode[0] in ("resume", "cold", "hot")
    status = workflow.run(show_progress=False, resume=resume,
                          cold_resume=not (mode and mode[0] == "hot"))
    print(f"status={status} workflow_id={workflow.workflow_id}", flush=True)
    print(workflow.last_run_message, flush=True)


if __name__ == "__main__":
    main()
