"""The peer's side of bench/peer.py: run by IHME Jobmon's client venv, not ours.

usage: peer_workload.py chain LENGTH WORKFLOW_ARGS
       peer_workload.py levels COUNT WIDTH WORKFLOW_ARGS
Prints one JSON line: {"seconds": run() to its end}. The same shapes as bench/workloads.py.
"""

from __future__ import annotations

import json
import sys
import time

from jobmon.client.tool import Tool  # IHME Jobmon's, from PyPI

CLUSTER = "sequential"
RESOURCES = {"queue": "null.q"}  # its clusters want a queue; any name does


def _template(tool: Tool, name: str, command: str, node_args: list[str]):  # type: ignore[no-untyped-def]
    return tool.get_task_template(
        template_name=name, command_template=command, node_args=node_args,
        default_cluster_name=CLUSTER, default_compute_resources=RESOURCES,
    )


def _run(workflow) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    status = workflow.run(configure_logging=False, seconds_until_timeout=3600)
    seconds = time.perf_counter() - start
    if status != "D":
        raise SystemExit(f"the peer's workflow ended {status}")
    return seconds


def chain(length: int, workflow_args: str) -> float:
    tool = Tool(name="bench-peer")
    template = _template(tool, "link", "true {n}", ["n"])
    workflow = tool.create_workflow(name="bench-chain", workflow_args=workflow_args)
    previous = None
    for n in range(length):
        task = template.create_task(n=n, upstream_tasks=[previous] if previous else [],
                                    max_attempts=1)
        workflow.add_task(task)
        previous = task
    return _run(workflow)


def levels(count: int, width: int, workflow_args: str) -> float:
    tool = Tool(name="bench-peer")
    template = _template(tool, "noop", "true {level} {item}", ["level", "item"])
    workflow = tool.create_workflow(name="bench-levels", workflow_args=workflow_args)
    previous: list = []
    for level in range(count):
        current = [template.create_task(level=level, item=item, upstream_tasks=previous,
                                        max_attempts=1) for item in range(width)]
        workflow.add_tasks(current)
        previous = current
    return _run(workflow)


def main() -> None:
    name, *args = sys.argv[1:]
    if name == "chain":
        seconds = chain(int(args[0]), args[1])
    elif name == "levels":
        seconds = levels(int(args[0]), int(args[1]), args[2])
    else:
        raise SystemExit(f"unknown workload {name}")
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
