"""Workloads run in a fresh interpreter by the scenarios; each prints one JSON line."""

from __future__ import annotations

import json
import sys
import time

from jobmon.client.tool import Tool


def levels(count: int, width: int, workflow_args: str) -> dict[str, float]:
    tool = Tool(name="bench")
    template = tool.get_task_template(
        template_name="noop", command_template="true {level} {item}",
        node_args=["level", "item"], default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="bench-levels", workflow_args=workflow_args)
    previous: list = []
    for level in range(count):
        array = template.create_tasks(level=level, item=list(range(width)),
                                      upstream_tasks=previous)
        workflow.add_tasks(array)
        previous = list(array)
    start = time.perf_counter()
    status = workflow.run(show_progress=False)
    seconds = time.perf_counter() - start
    if status != "D":
        raise SystemExit(f"workflow ended {status}: {workflow.last_run_message}")
    return {"seconds": seconds}


def chain(length: int, workflow_args: str) -> dict[str, float]:
    tool = Tool(name="bench")
    template = tool.get_task_template(
        template_name="link", command_template="true {n}", node_args=["n"],
        default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="bench-chain", workflow_args=workflow_args)
    previous = None
    for n in range(length):
        task = template.create_task(n=n, upstream_tasks=[previous] if previous else [])
        workflow.add_task(task)
        previous = task
    start = time.perf_counter()
    status = workflow.run(show_progress=False)
    seconds = time.perf_counter() - start
    if status != "D":
        raise SystemExit(f"workflow ended {status}: {workflow.last_run_message}")
    return {"seconds": seconds}


def main() -> None:
    name, *args = sys.argv[1:]
    if name == "levels":
        figures = levels(int(args[0]), int(args[1]), args[2])
    elif name == "chain":
        figures = chain(int(args[0]), args[1])
    else:
        raise SystemExit(f"unknown workload {name}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
