"""Workflows the integration tests run, in this process or in a swarm subprocess.

Each task appends its name to OUT_DIR/ran.log when it starts, so tests count executions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow

MARK = "echo {task} >> {out}/ran.log"


def sleepers(workflow_args: str, out: Path, count: int = 6, seconds: float = 2.0) -> Workflow:
    """``count`` independent tasks that each sleep, then a final task."""
    tool = Tool(name="tests")
    template = tool.get_task_template(
        template_name="sleeper",
        command_template=MARK + "; sleep {seconds}; echo done-{task} >> {out}/done.log",
        node_args=["task"], task_args=["seconds"], op_args=["out"],
        default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="sleepers", workflow_args=workflow_args)
    tasks = [template.create_task(task=f"s{i}", seconds=seconds, out=str(out))
             for i in range(count)]
    workflow.add_tasks(tasks)
    workflow.add_task(template.create_task(task="final", seconds=0, out=str(out),
                                           upstream_tasks=tasks))
    return workflow


def flaky_chain(workflow_args: str, out: Path) -> Workflow:
    """a -> b -> c and a -> side; a task fails while OUT_DIR/broken-<task> exists."""
    tool = Tool(name="tests")
    template = tool.get_task_template(
        template_name="flaky",
        command_template=MARK + "; test ! -e {out}/broken-{task}",
        node_args=["task"], op_args=["out"], default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="flaky", workflow_args=workflow_args)
    a = template.create_task(task="a", out=str(out))
    b = template.create_task(task="b", out=str(out), upstream_tasks=[a], max_attempts=2)
    c = template.create_task(task="c", out=str(out), upstream_tasks=[b])
    side = template.create_task(task="side", out=str(out), upstream_tasks=[a])
    workflow.add_tasks([a, b, c, side])
    return workflow


def two_hundred(workflow_args: str, out: Path) -> Workflow:
    """4 levels of 50 tasks; each writes its name to OUT_DIR/done.log when it finishes."""
    return layers(workflow_args, out, "two hundred", levels=4, width=50)


def five_hundred(workflow_args: str, out: Path) -> Workflow:
    """5 levels of 100 tasks; each writes its name to OUT_DIR/done.log when it finishes."""
    return layers(workflow_args, out, "five hundred", levels=5, width=100)


def layers(workflow_args: str, out: Path, name: str, levels: int, width: int) -> Workflow:
    """``levels`` levels of ``width`` tasks, each task after two of the level above; each
    sleeps JOBMON_TEST_SLEEP seconds, then writes its name to OUT_DIR/done.log."""
    seconds = os.environ.get("JOBMON_TEST_SLEEP", "0.02")
    tool = Tool(name="tests")
    template = tool.get_task_template(
        template_name="marked",
        command_template="sleep {seconds}; echo {task} >> {out}/done.log",
        node_args=["task"], op_args=["seconds", "out"], default_cluster_name="local",
    )
    workflow = tool.create_workflow(name=name, workflow_args=workflow_args)
    previous: list = []
    for level in range(levels):
        layer = [
            template.create_task(
                task=f"L{level}-{i}", seconds=seconds, out=str(out),
                upstream_tasks=[previous[i], previous[(i + 1) % width]] if previous else [],
            )
            for i in range(width)
        ]
        workflow.add_tasks(layer)
        previous = layer
    return workflow


def big(workflow_args: str, out: Path) -> Workflow:
    """20,000 tasks and 40,000 edges, for bind tests (never run)."""
    tool = Tool(name="tests")
    template = tool.get_task_template(template_name="big", command_template="true {i}",
                                      node_args=["i"], default_cluster_name="local")
    workflow = tool.create_workflow(name="big", workflow_args=workflow_args)
    tasks = template.create_tasks(i=list(range(20_000)))
    for i in range(100, 20_000):
        tasks[i].add_upstream(tasks[i - 100])
        tasks[i].add_upstream(tasks[i - 99])
    workflow.add_tasks(tasks)
    return workflow


def long_sleepers(workflow_args: str, out: Path) -> Workflow:
    """``sleepers`` sleeping JOBMON_TEST_SLEEP seconds (default 15)."""
    return sleepers(workflow_args, out, seconds=float(os.environ.get("JOBMON_TEST_SLEEP", "15")))


# a child that writes its PID, then sleeps 300 s
_CHILD = "sh -c 'echo $$ >> {out}/pids; exec sleep 300'"


def background_children(workflow_args: str, out: Path) -> Workflow:
    """One task that leaves three children behind: in its group, in a new session, and
    double-forked in a new session (re-parented when its parent exits)."""
    tool = Tool(name="tests")
    template = tool.get_task_template(
        template_name="leaves_children",
        command_template=(MARK + f"; {_CHILD} & setsid {_CHILD} & (setsid {_CHILD} &); "
                          "sleep 1; echo done-{task} >> {out}/done.log"),
        node_args=["task"], op_args=["out"], default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="children", workflow_args=workflow_args)
    workflow.add_task(template.create_task(task="parent", out=str(out)))
    return workflow


BUILDERS: dict[str, Callable[[str, Path], Workflow]] = {
    "two_hundred": two_hundred,
    "five_hundred": five_hundred,
    "big": big,
    "sleepers": sleepers,
    "long_sleepers": long_sleepers,
    "flaky_chain": flaky_chain,
    "background_children": background_children,
}
