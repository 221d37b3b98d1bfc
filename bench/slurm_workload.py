"""usage: slurm_workload.py COUNT WORKFLOW_ARGS WINDOW: `true` tasks on cluster "slurm".

Prints one JSON line: seconds to bind, seconds from run() until every task was LAUNCHED
(or further) on the server, and how many tasks were DONE in the WINDOW seconds after that
(the drain rate); then it cancels the rest and exits. With WINDOW ``all`` it waits for the
workflow to end instead, and reports the seconds from run() until DONE. A watcher follows
the run's change feed, as the swarm does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import anyio

from jobmon import endpoints
from jobmon import settings as settings_module
from jobmon.client.tool import Tool
from jobmon.requester import Requester

LAUNCHED_OR_LATER = {"O", "R", "D"}


class LaunchWatcher:
    """Follows the newest run of a workflow: when ``count`` tasks were launched, and how
    many are DONE."""

    def __init__(self, workflow_id: int, count: int) -> None:
        self.workflow_id = workflow_id
        self.count = count
        self.launched_at: float | None = None
        self.done: set[int] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: anyio.run(self._follow), daemon=True)

    async def _follow(self) -> None:
        url = settings_module.get().http.service_url
        async with Requester(url) as requester:
            run_id = None
            while run_id is None and not self.stop.is_set():
                info = await requester.call(endpoints.WORKFLOW, workflow_id=self.workflow_id)
                run_id = info.latest_run_id
                await anyio.sleep(0.005)
            answer = await requester.call(endpoints.RUN_CHANGES, params={"cursor": ""},
                                          workflow_run_id=run_id)
            cursor, launched = answer.cursor, set()
            while not self.stop.is_set():
                answer = await requester.call(endpoints.RUN_CHANGES,
                                              params={"cursor": cursor, "wait": 1.0},
                                              extra_timeout=1, workflow_run_id=run_id)
                cursor = answer.cursor
                for task_id, status in zip(answer.tasks.task_id, answer.tasks.status,
                                           strict=True):
                    if status in LAUNCHED_OR_LATER:
                        launched.add(task_id)
                    if status == "D":
                        self.done.add(task_id)
                if self.launched_at is None and len(launched) >= self.count:
                    self.launched_at = time.perf_counter()


def _cancel(workflow_id: int) -> None:
    """scancel the workflow's job arrays (their ids are in the instances' distributor ids)."""

    async def arrays() -> set[str]:
        url = settings_module.get().http.service_url
        async with Requester(url) as requester:
            live = await requester.call(endpoints.LIVE_INSTANCES, params={"limit": 100_000},
                                        cluster_name="slurm")
        return {job.split("_")[0] for job in live.distributor_id}

    found = anyio.run(arrays)
    if found:
        subprocess.run(["scancel", *sorted(found)], check=False, timeout=60)


def main() -> None:
    count, workflow_args = int(sys.argv[1]), sys.argv[2]
    tool = Tool(name="bench-slurm")
    template = tool.get_task_template(template_name="noop", command_template="true {i}",
                                      node_args=["i"], default_cluster_name="slurm")
    workflow = tool.create_workflow(name="bench-slurm", workflow_args=workflow_args,
                                    default_cluster_name="slurm",
                                    max_concurrently_running=count)
    workflow.add_tasks(template.create_tasks(i=list(range(count)),
                                             compute_resources={"cores": 1, "runtime": "10m"}))
    started = time.perf_counter()
    workflow.bind()
    bind = time.perf_counter() - started
    assert workflow.workflow_id is not None
    watcher = LaunchWatcher(workflow.workflow_id, count)
    watcher.thread.start()
    started = time.perf_counter()
    if sys.argv[3] != "all":
        window = float(sys.argv[3])
        threading.Thread(target=workflow.run, kwargs={"show_progress": False},
                         daemon=True).start()
        deadline = started + 600
        while watcher.launched_at is None and time.perf_counter() < deadline:
            time.sleep(0.01)
        launched = (watcher.launched_at or float("nan")) - started
        done_before = len(watcher.done)
        watch_started = time.perf_counter()
        time.sleep(window)
        # a dev cluster whose cores the machine's other work holds may finish nothing in the
        # window: watch on (up to 2 minutes) until it finishes one, so the rate says so
        while len(watcher.done) == done_before and time.perf_counter() < watch_started + 120:
            time.sleep(0.1)
        done = len(watcher.done) - done_before
        window = time.perf_counter() - watch_started
        print(json.dumps({"bind": bind, "launched": launched, "window": window,
                          "done_in_window": done}), flush=True)
        _cancel(workflow.workflow_id)
        os._exit(0)  # the swarm thread and its distributor child go with this process
    status = workflow.run(show_progress=False, seconds_until_timeout=7200)
    drained = time.perf_counter() - started
    watcher.stop.set()
    watcher.thread.join(10)
    if status != "D":
        raise SystemExit(f"workflow ended {status}: {workflow.last_run_message}")
    launched = (watcher.launched_at - started) if watcher.launched_at else float("nan")
    print(json.dumps({"bind": bind, "launched": launched, "drained": drained}))

if __name__ == "__main__":
    main()
