"""Large-scale workloads, run in a fresh interpreter; each prints one JSON line of figures.

usage: scale_workload.py bind TASKS EDGES WORKFLOW_ARGS
       scale_workload.py million TASKS WORKFLOW_ARGS
       scale_workload.py curve TASKS WORKFLOW_ARGS
       scale_workload.py heartbeat-setup COUNT WORKFLOW_ARGS
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobmon import endpoints, wire
from jobmon import settings as settings_module
from jobmon.client.connection import open_requester
from jobmon.client.swarm.builder import SwarmBuilder
from jobmon.client.swarm.runner import create_run
from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow

TEMPLATES = 10


def wide_workflow(tasks: int, edges: int, workflow_args: str, cluster: str,
                  compute_resources: dict[str, object] | None = None) -> Workflow:
    """TEMPLATES templates of tasks/TEMPLATES each; task i of template k depends on task i
    of template k-1, and the first template's tasks get extra upstreams up to ``edges``."""
    tool = Tool(name="bench-scale")
    per = tasks // TEMPLATES
    templates = [
        tool.get_task_template(template_name=f"step{k}", command_template=f"true {k} {{i}}",
                               node_args=["i"], default_cluster_name=cluster)
        for k in range(TEMPLATES)
    ]
    workflow = tool.create_workflow(name=f"bench-{tasks}", workflow_args=workflow_args,
                                    max_concurrently_running=100_000)
    previous = None
    layers = []
    for k, template in enumerate(templates):
        layer = template.create_tasks(i=list(range(per)), compute_resources=compute_resources)
        if previous is not None:
            for task, upstream in zip(layer, previous, strict=True):
                task.add_upstream(upstream)
        layers.append(layer)
        previous = layer
        workflow.add_tasks(layer)
        del k
    extra = edges - (TEMPLATES - 1) * per
    second = layers[1] if TEMPLATES > 1 else []
    for n in range(max(0, extra)):
        second[n % per].add_upstream(layers[0][(n + 1 + n // per) % per])
    return workflow


def bind(tasks: int, edges: int, workflow_args: str) -> dict[str, float]:
    workflow = wide_workflow(tasks, edges, workflow_args, "local")
    start = time.perf_counter()
    workflow_id = workflow.bind()
    bind_seconds = time.perf_counter() - start

    async def build() -> tuple[float, int]:
        async with open_requester(settings_module.get()) as requester:
            run = await create_run(requester, workflow_id, resume=False, cold_resume=True)
            beats = 0

            async def heartbeat() -> None:
                nonlocal beats
                beats += 1
                await requester.call(
                    endpoints.RUN_HEARTBEAT,
                    wire.RunHeartbeatRequest(next_report_seconds=30),
                    workflow_run_id=run.workflow_run_id)

            begin = time.perf_counter()
            state = await SwarmBuilder(requester).build_from_workflow_id(
                workflow_id, settings_module.get().swarm.edge_chunk_size, heartbeat,
                heartbeat_every=1.0)
            assert state.size == tasks
            return time.perf_counter() - begin, beats

    build_seconds, beats = anyio.run(build)
    return {"bind_seconds": bind_seconds, "build_seconds": build_seconds, "beats": beats}


def million(tasks: int, workflow_args: str) -> dict[str, float]:
    start = time.perf_counter()
    workflow = wide_workflow(tasks, (TEMPLATES - 1) * (tasks // TEMPLATES), workflow_args,
                             "dummy")
    status = workflow.run(show_progress=False)
    seconds = time.perf_counter() - start
    if status != "D":
        raise SystemExit(f"workflow ended {status}: {workflow.last_run_message}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # its distributor
    return {"seconds": seconds, "client_peak_rss": usage.ru_maxrss * 1024,
            "client_cpu_seconds": usage.ru_utime + usage.ru_stime,
            "distributor_cpu_seconds": children.ru_utime + children.ru_stime}


def curve(tasks: int, workflow_args: str) -> dict[str, float]:
    """The million workload at any size, its time split: building the DAG in Python, run()
    up to bound (prepare and bind), and from bound to D (the run on the no-op plugin)."""
    start = time.perf_counter()
    workflow = wide_workflow(tasks, (TEMPLATES - 1) * (tasks // TEMPLATES), workflow_args,
                             "dummy")
    built = time.perf_counter()
    bound: list[float] = []

    async def on_bound(workflow_id: int) -> None:
        bound.append(time.perf_counter())

    workflow.on_bound = on_bound
    status = workflow.run(show_progress=False)
    end = time.perf_counter()
    if status != "D":
        raise SystemExit(f"workflow ended {status}: {workflow.last_run_message}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"tasks": tasks, "build_seconds": built - start, "bind_seconds": bound[0] - built,
            "run_seconds": end - bound[0], "seconds": end - start,
            "client_peak_rss": usage.ru_maxrss * 1024,
            # the client's own CPU (user + system), steadier than wall time on a busy host
            "client_cpu_seconds": usage.ru_utime + usage.ru_stime}


def heartbeat_setup(count: int, workflow_args: str) -> dict[str, float]:
    """``count`` RUNNING instances for the heartbeat load test; prints their first id."""
    tool = Tool(name="bench-heartbeat")
    template = tool.get_task_template(template_name="beat", command_template="true {i}",
                                      node_args=["i"], default_cluster_name="local")
    workflow = tool.create_workflow(name="bench-heartbeat", workflow_args=workflow_args)
    workflow.add_tasks(template.create_tasks(i=list(range(count))))
    workflow_id = workflow.bind()

    async def setup() -> list[int]:
        async with open_requester(settings_module.get()) as requester:
            run = await create_run(requester, workflow_id, resume=False, cold_resume=True)
            for status in "IOR":
                await requester.call(endpoints.RUN_STATUS, wire.RunStatusRequest(status=status),
                                     workflow_run_id=run.workflow_run_id)
            await requester.call(endpoints.RUN_SCHEDULE, wire.ScheduleRequest(queue=[
                wire.QueueGroup(task_ids=[t.task_id for t in workflow.tasks.values()
                                          if t.task_id is not None])]),
                workflow_run_id=run.workflow_run_id)
            claimed = await requester.call(
                endpoints.CLAIM,
                wire.ClaimRequest(cluster_name="local", workflow_run_id=run.workflow_run_id,
                                  limit=count, next_report_seconds=3600))
            ids = [i.task_instance_id for i in claimed.instances]
            await requester.call(endpoints.TRANSITIONS, wire.TransitionsRequest(
                source="worker", updates=[
                    wire.InstanceUpdate(task_instance_id=i, status="R", next_report_seconds=3600)
                    for i in ids]))
            return ids

    ids = anyio.run(setup)
    assert len(ids) == count and ids == list(range(ids[0], ids[0] + count)), ids[:5]
    return {"first_id": ids[0], "count": count}


def main() -> None:
    name, *args = sys.argv[1:]
    if name == "bind":
        figures = bind(int(args[0]), int(args[1]), args[2])
    elif name == "million":
        figures = million(int(args[0]), args[1])
    elif name == "curve":
        figures = curve(int(args[0]), args[1])
    elif name == "heartbeat-setup":
        figures = heartbeat_setup(int(args[0]), args[1])
    else:
        raise SystemExit(f"unknown workload {name}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
