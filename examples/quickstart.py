"""A real workflow on cluster "local": prepare -> model (an array) -> aggregate -> report.

Nothing to configure: with no server given, Jobmon starts a local one on an embedded
PostgreSQL and reuses it next time. Run it twice: the second run finds the workflow
already done and says how to resume it or start a new one.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path

from jobmon.client.tool import Tool
from jobmon.errors import WorkflowAlreadyComplete, WorkflowAlreadyExists

LOCATIONS = list(range(1, 11))
YEARS = [2020, 2021]
STEPS = Path(__file__).resolve().parent / "quickstart_steps.py"


def build(workflow_args: str, out_dir: Path):  # type: ignore[no-untyped-def]
    tool = Tool(name="quickstart")
    tool.set_default_compute_resources_from_dict(
        cluster_name="local", compute_resources={"cores": 1, "memory": "1G", "runtime": "10m"}
    )
    # values go into the command as they are (shell text, as in IHME Jobmon): quote paths
    common = {"python": shlex.quote(sys.executable), "steps": shlex.quote(str(STEPS)),
              "out_dir": shlex.quote(str(out_dir))}
    prepare = tool.get_task_template(
        template_name="prepare",
        command_template="{python} {steps} prepare --location {location_id} --out {out_dir}",
        node_args=["location_id"], op_args=["python", "steps", "out_dir"],
        default_cluster_name="local",
    )
    model = tool.get_task_template(
        template_name="model",
        command_template="{python} {steps} model --location {location_id} --year {year} "
                         "--out {out_dir}",
        node_args=["location_id", "year"], op_args=["python", "steps", "out_dir"],
        default_cluster_name="local",
    )
    aggregate = tool.get_task_template(
        template_name="aggregate",
        command_template="{python} {steps} aggregate --year {year} --locations {n} "
                         "--out {out_dir}",
        node_args=["year"], task_args=["n"], op_args=["python", "steps", "out_dir"],
        default_cluster_name="local",
    )
    report = tool.get_task_template(
        template_name="report",
        command_template="{python} {steps} report --years {years} --out {out_dir}",
        node_args=["years"], op_args=["python", "steps", "out_dir"],
        default_cluster_name="local",
    )

    workflow = tool.create_workflow(name="quickstart", workflow_args=workflow_args,
                                    max_concurrently_running=8)
    prepared = {loc: prepare.create_task(location_id=loc, **common) for loc in LOCATIONS}
    aggregates = []
    for year in YEARS:
        models = [
            model.create_task(location_id=loc, year=year, upstream_tasks=[prepared[loc]],
                              **common)
            for loc in LOCATIONS
        ]
        workflow.add_tasks(models)
        aggregates.append(aggregate.create_task(year=year, n=len(LOCATIONS),
                                                upstream_tasks=models, **common))
    # an array: one task per location, for the given year (the product of list-valued args)
    checks = model.create_tasks(location_id=LOCATIONS, year=2022,
                                upstream_tasks=[prepared[loc] for loc in LOCATIONS], **common)
    workflow.add_tasks(prepared.values())
    workflow.add_tasks(checks)
    workflow.add_tasks(aggregates)
    workflow.add_task(report.create_task(years=",".join(map(str, YEARS)),
                                         upstream_tasks=aggregates, **common))
    return workflow


def main() -> int:
    workflow_args = sys.argv[1] if len(sys.argv) > 1 else "quickstart-v1"
    out_dir = Path(tempfile.gettempdir()) / f"jobmon-quickstart-{workflow_args}"
    workflow = build(workflow_args, out_dir)
    print(f"workflow {workflow.name!r}: {len(workflow.tasks)} tasks, writing to {out_dir}")
    try:
        status = workflow.run(show_progress=True)
    except (WorkflowAlreadyExists, WorkflowAlreadyComplete) as error:
        print(f"\n{error}")
        print(f"\nTo start a new workflow instead: python {sys.argv[0]} quickstart-v2")
        return 0
    print(f"final status: {status}")
    if status == "D":
        print((out_dir / "report.txt").read_text(), end="")
    return 0 if status == "D" else 1


if __name__ == "__main__":
    sys.exit(main())
