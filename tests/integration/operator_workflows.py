"""Workflows for the operator tests (CLI and dashboard): outputs, a failure, logs, a chain.

``mixed``: prep -> work[0..3] -> report. prep leaves an output; work 2 fails with a
recognisable stderr and no retry; so report never runs and the workflow ends FAILED.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow

ERROR_LINE = "ValueError: bad input 2"
OUTPUT = {"rows": 42, "label": "prep"}


def mixed(workflow_args: str, name: str = "mixed", work_seconds: float = 0.0,
          width: int = 4, failing: int | None = 2, tool_name: str = "operators") -> Workflow:
    tool = Tool(name=tool_name)
    prep = tool.get_task_template(
        template_name="prep",
        command_template="echo {payload} > \"$JOBMON_OUTPUT\"; echo prepared {step}",
        node_args=["step"], op_args=["payload"], default_cluster_name="local",
    )
    work = tool.get_task_template(
        template_name="work",
        command_template="echo working {item}; sleep {seconds}; if [ {item} = {failing} ]; "
                         "then echo 'Traceback (most recent call last):' >&2; "
                         f"echo '{ERROR_LINE}' >&2; exit 3; fi",
        node_args=["item"], task_args=["seconds"], op_args=["failing"],
        default_cluster_name="local",
    )
    report = tool.get_task_template(
        template_name="report", command_template="echo report {kind}", node_args=["kind"],
        default_cluster_name="local",
    )
    workflow = tool.create_workflow(name=name, workflow_args=workflow_args,
                                    max_concurrently_running=100)
    first = prep.create_task(step="all", payload=shlex.quote(json.dumps(OUTPUT)), name="prep-all")
    middle = [work.create_task(item=i, seconds=work_seconds,
                               failing=-1 if failing is None else failing,
                               upstream_tasks=[first], max_attempts=1, name=f"work-{i}")
              for i in range(width)]
    last = report.create_task(kind="final", upstream_tasks=middle, name="report-final")
    workflow.add_task(first)
    workflow.add_tasks(middle)
    workflow.add_task(last)
    return workflow


def chain(workflow_args: str, out: Path, length: int = 4) -> Workflow:
    """t0 -> t1 -> ... ; each task appends its name to OUT/ran.log."""
    tool = Tool(name="operators")
    step = tool.get_task_template(
        template_name="step", command_template="echo {n} >> {out}/ran.log",
        node_args=["n"], op_args=["out"], default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="chain", workflow_args=workflow_args)
    previous: list = []  # type: ignore[type-arg]
    for n in range(length):
        task = step.create_task(n=n, out=str(out), upstream_tasks=previous, name=f"t{n}")
        workflow.add_task(task)
        previous = [task]
    return workflow


def dashboard(workflow_args: str, name: str, gate: Path, width: int = 6) -> Workflow:
    """prep -> work[i] -> report, and two 'hold' tasks that sleep until the workflow stops.

    work-i finishes when the test creates GATE/go-i, so that the test decides when the
    progress moves whatever the machine's load; work-2 fails at once with ERROR_LINE.
    """
    tool = Tool(name="operators")
    prep = tool.get_task_template(
        template_name="prep", command_template="echo {payload} > \"$JOBMON_OUTPUT\"; echo {step}",
        node_args=["step"], op_args=["payload"], default_cluster_name="local",
    )
    work = tool.get_task_template(
        template_name="work",
        command_template="echo working {item}; if [ {item} = 2 ]; then "
                         "echo 'Traceback (most recent call last):' >&2; "
                         f"echo '{ERROR_LINE}' >&2; exit 3; fi; "
                         "while [ ! -e {gate}/go-{item} ]; do sleep 0.2; done",
        node_args=["item"], op_args=["gate"], default_cluster_name="local",
    )
    hold = tool.get_task_template(
        template_name="hold", command_template="sleep {seconds}; echo held {n}",
        node_args=["n"], task_args=["seconds"], default_cluster_name="local",
    )
    report = tool.get_task_template(
        template_name="report", command_template="echo report {kind}", node_args=["kind"],
        default_cluster_name="local",
    )
    workflow = tool.create_workflow(name=name, workflow_args=workflow_args,
                                    max_concurrently_running=50)
    first = prep.create_task(step="all", payload=shlex.quote(json.dumps(OUTPUT)), name="prep-all")
    middle = [work.create_task(item=i, gate=str(gate), upstream_tasks=[first], max_attempts=1,
                               name=f"work-{i}") for i in range(width)]
    holds = [hold.create_task(n=n, seconds=600, upstream_tasks=[first], name=f"hold-{n}")
             for n in range(2)]
    last = report.create_task(kind="final", upstream_tasks=middle + holds, name="report-final")
    workflow.add_task(first)
    workflow.add_tasks(middle + holds)
    workflow.add_task(last)
    return workflow
