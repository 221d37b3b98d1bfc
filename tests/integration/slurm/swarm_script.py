"""usage: swarm_script.py run|cold WORKFLOW_ARGS OUT_DIR COUNT SECONDS: run Slurm sleepers."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.integration.slurm.support import sleepers


def main() -> None:
    mode, workflow_args, out, count, seconds = sys.argv[1:]
    workflow = sleepers(workflow_args, Path(out), int(count), int(seconds))
    status = workflow.run(show_progress=False, resume=mode == "cold", cold_resume=True)
    print(f"status={status} workflow_id={workflow.workflow_id}", flush=True)


if __name__ == "__main__":
    main()
