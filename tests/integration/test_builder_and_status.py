"""SwarmBuilder from memory and from the database; WorkflowStatus; idempotent replays."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
import msgspec
import pytest

from jobmon import settings as settings_module
from jobmon import wire
from jobmon.client.connection import open_requester
from jobmon.client.prepare import prepare
from jobmon.client.swarm.builder import SwarmBuilder
from jobmon.client.swarm.orchestrator import WorkflowRunOrchestrator
from jobmon.client.swarm.runner import create_run
from jobmon.client.swarm.state import QueuePlan, SwarmState, TickPlan
from jobmon.client.tool import Tool
from jobmon.client.watch import WorkflowStatus
from jobmon.errors import ServerError
from tests.integration.helpers import fetch, value, wait_until
from tests.integration.seed import live_workflow
from tests.integration.workflows import sleepers
from tests.support import ServerThread


def _diamonds(workflow_args: str, width: int):  # type: ignore[no-untyped-def]
    tool = Tool(name="builder")
    tool.set_default_compute_resources_from_dict("local", {"memory": "1G", "cores": 1})
    split = tool.get_task_template(template_name="split", command_template="true {i}",
                                   node_args=["i"], default_cluster_name="local")
    work = tool.get_task_template(template_name="work", command_template="true {i} {j}",
                                  node_args=["i", "j"], default_cluster_name="local")
    join = tool.get_task_template(template_name="join", command_template="true {i}",
                                  node_args=["i"], default_cluster_name="local")
    workflow = tool.create_workflow(name="diamonds", workflow_args=workflow_args)
    for i in range(width):
        head = split.create_task(i=i)
        middle = work.create_tasks(i=i, j=list(range(5)), upstream_tasks=[head],
                                   compute_resources={"memory": f"{i % 3 + 1}G"})
        tail = join.create_task(i=i, upstream_tasks=list(middle), max_attempts=5)
        workflow.add_task(head)
        workflow.add_tasks(middle)
        workflow.add_task(tail)
    workflow.set_task_template_max_concurrency_limit("work", 7)
    return workflow


def _canonical(state: SwarmState) -> dict[str, object]:
    """The state as a user of it sees it: per task id, independent of config numbering."""
    tasks = {}
    for i, task_id in enumerate(state.task_ids):
        config = state.configs[state.config_of[i]]
        tasks[task_id] = (
            chr(state.status[i]), state.attempts[i], state.max_attempts[i],
            state.array_keys[state.array_of[i]], msgspec.to_builtins(config),
            sorted(state.task_ids[d] for d in state.downstream(i)), state.remaining[i],
        )
    return {
        "tasks": tasks,
        "limit": state.max_concurrently_running,
        "arrays": dict(zip(state.array_keys, state.array_limits, strict=True)),
    }


def test_build_from_workflow_id_equals_build_from_workflow(server: ServerThread) -> None:
    workflow = _diamonds("diamonds-1", width=40)
    prepared = prepare(workflow)
    beats: list[float] = []

    async def build() -> tuple[SwarmState, SwarmState, int]:
        async with open_requester() as requester:
            workflow_id = await workflow.bind_async()
            from_memory = await SwarmBuilder(requester).build_from_workflow(workflow_id, prepared)
            run = await create_run(requester, workflow_id, resume=False, cold_resume=True)
            # the run's answer carries the limits the swarm queues within, and a cursor
            assert run.cursor
            from_run = await SwarmBuilder(requester).build_from_workflow(
                workflow_id, prepared, (run.max_concurrently_running,
                                        {int(k): v for k, v in run.array_limits.items()}))
            assert _canonical(from_run) == _canonical(from_memory)

            async def heartbeat() -> None:
                beats.append(time.monotonic())
                await requester.post(
                    f"/api/v1/workflow_runs/{run.workflow_run_id}/heartbeat",
                    wire.RunHeartbeatRequest(next_report_seconds=30), wire.RunHeartbeatResponse)

            from_database = await SwarmBuilder(requester).build_from_workflow_id(
                workflow_id, edge_chunk_size=37, heartbeat=heartbeat, heartbeat_every=0.0)
            return from_memory, from_database, run.workflow_run_id

    from_memory, from_database, run_id = anyio.run(build)
    assert from_database.size == 40 * 7
    assert _canonical(from_database) == _canonical(from_memory)
    # it read in chunks of 37 and heartbeat after each, so the run never looked dead
    assert len(beats) >= (280 // 37) + (200 // 37)
    assert value(server.dsn, "SELECT count(*) FROM workflow_run_status WHERE "
                             "workflow_run_id = $1", run_id) == 3  # G, L, B: no duplicates


def test_a_task_the_server_did_not_queue_takes_the_servers_status(
        server: ServerThread, tmp_path: Path) -> None:
    """A schedule answer's ``skipped`` tasks are not left counted as queued by the swarm."""
    live = live_workflow(server.dsn, tmp_path, "skipped-1", claim=False)
    final = live.final_task_id
    settings = settings_module.get()

    async def build() -> SwarmState:
        async with open_requester() as requester:
            return await SwarmBuilder(requester).build_from_workflow_id(
                live.workflow_id, edge_chunk_size=100)

    async def send(state: SwarmState) -> None:
        async with open_requester() as requester:
            orchestrator = WorkflowRunOrchestrator(requester, settings, live.workflow_run_id,
                                                   state, "")
            await orchestrator._send(TickPlan(queue=[QueuePlan([final], None)]))

    state = anyio.run(build)
    # a change this swarm has not pulled yet: the task is DONE on the server
    fetch(server.dsn, "UPDATE task SET status = 'D', change_xid = pg_current_xact_id() "
                      "WHERE id = $1", final)
    state.apply(final, "Q", 1)  # the swarm's plan queued it (on its own word)
    anyio.run(send, state)
    assert chr(state.status[state.index_of[final]]) == "D"
    assert state.counts["Q"] == len(live.root_task_ids)  # the roots only


def test_workflow_status_watches_collects_and_clears(server: ServerThread, tmp_path: Path) -> None:
    workflow = sleepers("status-1", tmp_path, count=3, seconds=1.0)
    result: list[str] = []
    runner = threading.Thread(target=lambda: result.append(workflow.run(show_progress=False)))
    runner.start()
    try:
        wait_until(lambda: workflow.workflow_id is not None, 30, "the bind")
        assert workflow.workflow_id is not None
        status = WorkflowStatus(workflow.workflow_id)
        wait_until(lambda: value(server.dsn, "SELECT count(*) FROM task WHERE status = 'R'") > 0,
                   30, "a running task")
        with pytest.raises(ServerError, match="is running"):
            status.clear()
        assert status.wait(block=False) in ("I", "O", "R")
        assert status.wait(block=True, sleep=0.2) == "D"
    finally:
        runner.join(60)
    assert result == ["D"]
    assert status.progress() == (4, 4)
    states = status.task_states()
    assert len(states) == 4 and {s.status for s in states.values()} == {"D"}
    assert all(s.attempts == 1 and s.error is None for s in states.values())
    one = next(iter(states))
    assert status.task_states([one]).keys() == {one}
    history = status.history(one)
    assert [entry.status for entry in history] == ["Q", "I", "R", "D"]
    assert [entry.source for entry in history] == ["swarm", "distributor", "distributor",
                                                   "distributor"]
    assert history == sorted(history, key=lambda entry: entry.time)

    assert status.clear() == 4
    assert value(server.dsn, "SELECT count(*) FROM task") == 0
    assert value(server.dsn, "SELECT count(*) FROM task_instance_status") == 0
    with pytest.raises(ServerError, match="does not exist"):
        status.progress()


def test_replayed_writes_change_nothing_twice(server: ServerThread, tmp_path: Path) -> None:
    workflow = sleepers("replay-1", tmp_path, count=2, seconds=0.1)
    assert workflow.run(show_progress=False) == "D"
    workflow_id = workflow.workflow_id
    counts_before = {
        table: value(server.dsn, f"SELECT count(*) FROM {table}")
        for table in ("task", "edge", "task_instance", "task_instance_status", "workflow_run",
                      "workflow_run_status", "task_config", "task_array")
    }
    instances = fetch(server.dsn, "SELECT id FROM task_instance WHERE workflow_id = $1",
                      workflow_id)

    async def replay() -> list[str]:
        async with open_requester(settings_module.get()) as requester:
            again = sleepers("replay-1", tmp_path, count=2, seconds=0.1)
            assert await again.bind_async() == workflow_id  # binding again finds it
            results: list[str] = []
            for _ in range(2):
                answer = await requester.post(
                    "/api/v1/task_instances/transitions",
                    wire.TransitionsRequest(source="worker", updates=[
                        wire.InstanceUpdate(task_instance_id=row[0], status="D", exit_code=0)
                        for row in instances]),
                    wire.TransitionsResponse)
                results += answer.results
            return results

    results = anyio.run(replay)
    assert set(results) == {"ignored"}
    counts_after = {
        table: value(server.dsn, f"SELECT count(*) FROM {table}")
        for table in counts_before
    }
    assert counts_after == counts_before
