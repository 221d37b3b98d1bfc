"""Workflows of the results tests (inputs from upstream, chains), shared with Slurm's."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from jobmon.client.chain import FinishedWorkflow
from jobmon.client.task import Task
from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow

STEP = Path(__file__).resolve().parent / "scripts" / "result_step.py"
RESOURCES = {"cores": 1, "memory": "1G", "runtime": "10m"}


def results_tool(cluster: str, resources: dict[str, object] | None = None) -> Tool:
    tool = Tool(name="results-flow")
    tool.set_default_compute_resources_from_dict(cluster_name=cluster,
                                                 compute_resources=resources or RESOURCES)
    return tool


def diamond(tool: Tool, cluster: str, counts: Path, workflow_args: str,
            fail: str = "") -> Workflow:
    """a and b, then c after both: c sees both outputs and the files they named."""
    template = tool.get_task_template(
        template_name="step",
        command_template="{python} {script} {label} {counts} {fail}",
        node_args=["label"], task_args=["counts"], op_args=["python", "script", "fail"],
    )

    def step(name: str, upstream: list[Task]) -> Task:
        return template.create_task(name=name, label=name, python=sys.executable,
                                    script=str(STEP),
                                    counts=str(counts), fail=fail if name == "c" else "",
                                    upstream_tasks=upstream, max_attempts=1)

    workflow = tool.create_workflow(name=f"diamond {workflow_args}",
                                    workflow_args=workflow_args, default_cluster_name=cluster)
    first, second = step("a", []), step("b", [])
    workflow.add_tasks([first, second, step("c", [first, second])])
    return workflow


# ------------------------------------------------------------------ a chain of three diamonds
# Link k is a diamond counting its successes in {dir}/counts-{k}.txt; its task c fails while
# {dir}/broken-{k} exists, and the linker after link k fails while {dir}/linker-broken-{k}
# does. The workflow_args (JSON) carry the folder, the cluster, the link number, and the
# value of c that the linker read from the previous link's outputs.


def chain_link(settings: dict[str, Any]) -> Workflow:
    folder, cluster, link = Path(settings["dir"]), settings["cluster"], settings["link"]
    workflow = diamond(results_tool(cluster), cluster, folder / f"counts-{link}.txt",
                       json.dumps(settings, sort_keys=True),
                       fail="fail" if (folder / f"broken-{link}").exists() else "")
    if link < 3:
        workflow.set_next(next_link)
    return workflow


def next_link(finished: FinishedWorkflow) -> Workflow:
    """The linker: the next diamond, carrying the value of c it read."""
    settings = json.loads(finished.workflow_args)
    if (Path(settings["dir"]) / f"linker-broken-{settings['link']}").exists():
        raise RuntimeError("the linker is broken, as asked")
    carried = finished.outputs["c"]["value"]
    return chain_link({**settings, "link": settings["link"] + 1, "carried": carried})


def loop_back(finished: FinishedWorkflow) -> Workflow:
    """A broken linker: its follow-on is the workflow it follows (the same identity)."""
    return chain_link(json.loads(finished.workflow_args))


# ------------------------------------------------------------------ a summary over finished runs

SUMMARIZE = Path(__file__).resolve().parent / "scripts" / "summarize_runs.py"


def finished_run(tool: Tool, cluster: str, counts: Path, workflow_args: str,
                 year: int) -> Workflow:
    """A diamond promising its total (c's value), with a parameter: an input run."""
    workflow = diamond(tool, cluster, counts, workflow_args)
    workflow.add_parameter("year", int, required=True)
    workflow.set_parameters(year=year)
    workflow.add_result("total", task="c", key="value")
    return workflow


def summary(tool: Tool, cluster: str, run_ids: list[int], workflow_args: str) -> Workflow:
    """Two tasks (the second after the first) that each leave what they read at
    JOBMON_RUNS as their output (scripts/summarize_runs.py)."""
    template = tool.get_task_template(
        template_name="summarize", command_template="{python} {script} {label}",
        node_args=["label"], op_args=["python", "script"],
    )
    workflow = tool.create_workflow(name=f"summary {workflow_args}",
                                    workflow_args=workflow_args, default_cluster_name=cluster)
    workflow.add_runs(run_ids)
    first = template.create_task(name="first", label="first", python=sys.executable,
                                 script=str(SUMMARIZE), max_attempts=1)
    second = template.create_task(name="second", label="second", python=sys.executable,
                                  script=str(SUMMARIZE), upstream_tasks=[first],
                                  max_attempts=1)
    workflow.add_tasks([first, second])
    return workflow
