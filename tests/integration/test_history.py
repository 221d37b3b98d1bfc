"""The history of everything: who changed what, from what to what, and why, for every kind
of actor (the swarm, the distributor, the worker, the reaper, and a user's operator actions
through the CLI and the API), on a real server and database."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import asyncpg
import pytest
from click.testing import CliRunner

from jobmon import settings as settings_module
from jobmon.cli.main import main
from jobmon.client.watch import HistoryEntry, WorkflowStatus
from jobmon.clock import ManualClock, SystemClock
from jobmon.server.metrics import Metrics
from jobmon.server.reaper import Reaper
from tests.integration.helpers import fetch, make_token, value, workflow_with_instances
from tests.integration.workflows import sleepers
from tests.support import ServerThread

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _chained(entries: list[HistoryEntry]) -> bool:
    """Each entry comes from the status the one before it reached (per object)."""
    last: dict[tuple[str, int | None], str] = {}
    for entry in entries:
        key = (entry.kind, entry.task_instance_id if entry.kind == "instance" else None)
        if key in last and entry.from_status != last[key]:
            return False
        last[key] = entry.status
    return True


def test_a_run_is_recorded_by_swarm_and_distributor_with_its_user(
    server: ServerThread, tmp_path: Path
) -> None:
    workflow = sleepers("history-run", tmp_path, count=2, seconds=0)
    assert workflow.run() == "D"
    me = getpass.getuser()
    status = WorkflowStatus(workflow.workflow_id)
    task_id = value(server.dsn, "SELECT min(id) FROM task WHERE workflow_id = $1",
                    workflow.workflow_id)

    everything = status.history(task_id, everything=True)
    own = [entry for entry in everything if entry.kind == "task"]
    moves = [(e.from_status, e.status, e.source) for e in own]
    # a command that starts and ends between two reports moves its task once, to DONE
    assert moves in (
        [("G", "Q", "swarm"), ("Q", "I", "distributor"), ("I", "D", "distributor")],
        [("G", "Q", "swarm"), ("Q", "I", "distributor"), ("I", "R", "distributor"),
         ("R", "D", "distributor")]), moves
    assert {entry.user for entry in everything} == {me}
    assert _chained(everything)
    instance = own[0].task_instance_id
    assert instance is not None and all(e.task_instance_id == instance for e in own)
    # Jobmon's shape stays: 4-tuples of the instance's statuses
    plain = status.history(task_id)
    assert [(len(entry), entry.status) for entry in plain] == [
        (4, "Q"), (4, "I"), (4, "R"), (4, "D")]
    _time, instance_id, letter, source = plain[-1]
    assert (instance_id, letter, source) == (instance, "D", "distributor")
    # the context says where it ran: the run, the cluster job id, the host and the process
    ran = fetch(server.dsn, "SELECT * FROM task_instance WHERE id = $1", instance)[0]
    assert plain[-1].context["host"] == ran["nodename"]
    assert plain[-1].context["pid"] == ran["process_id"]
    assert plain[-1].context["job"] == ran["distributor_id"]
    assert plain[-1].context["run"] == ran["workflow_run_id"]
    assert "host" not in plain[0].context  # not yet, when it was queued

    # the workflow's own history: bound (G to Q), then each status its run brought
    workflow_rows = status.history()
    moves = [(e.from_status, e.status) for e in workflow_rows if e.kind == "workflow"]
    assert moves[0] == ("G", "Q") and moves[-1] == ("R", "D") and ("O", "R") in moves
    runs = [e for e in workflow_rows if e.kind == "run"]
    assert [e.status for e in runs] == ["G", "L", "B", "I", "O", "R", "D"]
    assert runs[0].from_status is None and runs[-1].from_status == "R"
    assert {e.user for e in workflow_rows} == {me}
    assert _chained(workflow_rows)


def _as(token: str, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False,
                                env={"JOBMON__HTTP__TOKEN": token})
    assert result.exit_code == 0, result.output
    return result.output


async def _workflow_rows(pool: asyncpg.Pool, workflow_id: int) -> list[asyncpg.Record]:
    async with pool.acquire() as connection:
        return await connection.fetch(
            "SELECT status, source, username, action, context FROM workflow_status "
            "WHERE workflow_id = $1 ORDER BY id", workflow_id)


@pytest.mark.anyio
async def test_operator_actions_appear_with_the_user_who_made_them(
    token_server: ServerThread, pool: asyncpg.Pool, db_dsn: str
) -> None:
    workflow_id, run_id, task_ids, _ = await workflow_with_instances(pool, SystemClock(), 3)
    token = await anyio.to_thread.run_sync(make_token, db_dsn, "alice", True)
    settings_module.reset_cache()
    w = str(workflow_id)

    await anyio.to_thread.run_sync(_as, token, "workflow", "concurrency", "-w", w, "-m", "7")
    await anyio.to_thread.run_sync(_as, token, "workflow", "concurrency", "-w", w, "-m", "2",
                                   "-t", "t")
    await anyio.to_thread.run_sync(_as, token, "workflow", "stop", "-w", w)
    await anyio.to_thread.run_sync(_as, token, "task", "update", "-w", w, "-t",
                                   str(task_ids[0]), "-s", "D", "--yes")

    rows = await _workflow_rows(pool, workflow_id)
    actions = [(row["action"], row["username"]) for row in rows if row["action"]]
    assert actions == [("concurrency", "alice"), ("concurrency", "alice"), ("stop", "alice"),
                       ("task_update", "alice")]
    workflow_limit, template_limit = (row for row in rows if row["action"] == "concurrency")
    assert workflow_limit["context"]["to"] == 7 and workflow_limit["source"] == "operator"
    assert (template_limit["context"]["template"], template_limit["context"]["to"]) == ("t", 2)
    stopped = next(row for row in rows if row["action"] == "stop")
    assert stopped["context"]["run"] == run_id and stopped["context"]["killed"] == 3
    # the stop moved the run (S) and its workflow, and asked to kill every instance, as alice
    async with pool.acquire() as connection:
        run_row = await connection.fetchrow(
            "SELECT source, username, context FROM workflow_run_status "
            "WHERE workflow_run_id = $1 AND status = 'S'", run_id)
        kills = await connection.fetch(
            "SELECT h.source, h.username, h.context FROM task_instance_status h "
            "JOIN task_instance ti ON ti.id = h.task_instance_id "
            "WHERE ti.workflow_id = $1 AND h.status = 'K'", workflow_id)
        marked = await connection.fetchrow(
            "SELECT source, username, context FROM task_status "
            "WHERE task_id = $1 AND status = 'D'", task_ids[0])
    assert (run_row["source"], run_row["username"]) == ("operator", "alice")
    assert run_row["context"] == {"reason": "stopped by an operator"}
    assert len(kills) == 3 and {(k["source"], k["username"]) for k in kills} == {
        ("operator", "alice")}
    assert kills[0]["context"]["request"] == "workflow stop"
    assert (marked["source"], marked["username"]) == ("operator", "alice")
    assert marked["context"]["request"] == "task update" and marked["context"]["status"] == "D"

    # the CLI shows it: the task's history names alice and what she asked for
    shown = await anyio.to_thread.run_sync(_as, token, "task", "status", "-t",
                                           str(task_ids[0]))
    history = shown[shown.index(f"task {task_ids[0]} history"):]
    assert "operator" in history and "alice" in history
    as_json = await anyio.to_thread.run_sync(_as, token, "task", "status", "-t",
                                             str(task_ids[0]), "--json")
    last = json.loads(as_json)[0]["history"][-1]
    assert (last["from_status"], last["status"], last["user"]) == ("I", "D", "alice")
    assert last["context"]["request"] == "task update"

    # a prune deletes the workflow; the record of who pruned it stays, and the API shows it
    assert await pool.fetchval("SELECT status FROM workflow WHERE id = $1", workflow_id) == "H"
    tomorrow = (dt.datetime.now() + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    await anyio.to_thread.run_sync(_as, token, "workflow", "prune", "--before", tomorrow,
                                   "--status", "H")
    assert await pool.fetchval("SELECT count(*) FROM workflow WHERE id = $1", workflow_id) == 0
    assert await pool.fetchval("SELECT count(*) FROM task_status WHERE task_id = ANY($1)",
                               task_ids) == 0
    kept = WorkflowStatus(workflow_id)
    entries = await anyio.to_thread.run_sync(kept.history)
    assert (entries[-1].action, entries[-1].user, entries[-1].source) == (
        "prune", "alice", "operator")
    shown = json.loads(await anyio.to_thread.run_sync(_as, token, "workflow", "history",
                                                      "-w", w, "--json"))
    assert [(row["action"], row["user"]) for row in shown if row["action"]] == [
        ("concurrency", "alice"), ("concurrency", "alice"), ("stop", "alice"),
        ("task_update", "alice"), ("prune", "alice")]
    assert shown[-1]["context"]["statuses"] == ["H"]
    table = await anyio.to_thread.run_sync(_as, token, "workflow", "history", "-w", w)
    assert f"workflow {w} history" in table and "prune" in table


@pytest.mark.anyio
async def test_the_reaper_is_recorded_with_its_reason(pool: asyncpg.Pool) -> None:
    clock = ManualClock(START)
    metrics = Metrics()
    reaper = Reaper(pool, clock, settings_module.get(), metrics)
    _, run_id, task_ids, instance_ids = await workflow_with_instances(pool, clock, 2)
    clock.advance(31)  # the instances' and the run's deadlines passed
    result = await reaper.reap_once()
    assert (result.instances, result.runs) == (2, 1)
    async with pool.acquire() as connection:
        instance_rows = await connection.fetch(
            "SELECT status, source, username, context FROM task_instance_status "
            "WHERE task_instance_id = ANY($1) AND source = 'reaper'", instance_ids)
        task_rows = await connection.fetch(
            "SELECT status, source, task_instance_id FROM task_status "
            "WHERE task_id = ANY($1) AND source = 'reaper'", task_ids)
        run_row = await connection.fetchrow(
            "SELECT source, context FROM workflow_run_status "
            "WHERE workflow_run_id = $1 AND status = 'E'", run_id)
    # claimed and never launched: the distributor is gone (W); the tasks fail with them
    assert sorted(row["status"] for row in instance_rows) == ["W", "W"]
    assert all(row["username"] is None for row in instance_rows)
    assert "no heartbeat" in instance_rows[0]["context"]["reason"]
    assert sorted((row["status"], row["task_instance_id"]) for row in task_rows) == sorted(
        ("E", instance) for instance in instance_ids)
    assert run_row["source"] == "reaper" and "stopped heartbeating" in run_row["context"][
        "reason"]
    # and it counts what it reaped
    sample = metrics.registry.get_sample_value
    assert sample("jobmon_reaped_total", {"object": "task_instance", "status": "W"}) == 2
    assert sample("jobmon_reaped_total", {"object": "workflow_run", "status": "E"}) == 1
    assert sample("jobmon_transitions_total", {"object": "task", "status": "E"}) == 2
    assert sample("jobmon_reaper_passes_total") == 1


@pytest.mark.anyio
async def test_a_worker_is_recorded_with_its_host_and_process(
    server: ServerThread, pool: asyncpg.Pool
) -> None:
    workflow_id, _, (task_id,), (instance,) = await workflow_with_instances(
        pool, SystemClock(), 1, ["echo hi"])
    completed = await anyio.to_thread.run_sync(lambda: subprocess.run(
        [sys.executable, "-m", "jobmon", "worker", "--task-instance-id", str(instance)],
        capture_output=True, text=True, timeout=60, env=dict(os.environ), check=False))
    assert completed.returncode == 0, completed.stderr

    entries = await anyio.to_thread.run_sync(
        lambda: WorkflowStatus(workflow_id).history(task_id, everything=True))
    by_worker = [(e.kind, e.from_status, e.status) for e in entries if e.source == "worker"]
    assert by_worker == [("instance", "I", "R"), ("task", "I", "R"), ("instance", "R", "D"),
                         ("task", "R", "D")]
    done = next(e for e in entries if e.kind == "instance" and e.status == "D")
    ran = (await pool.fetch("SELECT nodename, process_id FROM task_instance WHERE id = $1",
                            instance))[0]
    assert (done.context["host"], done.context["pid"]) == (ran["nodename"], ran["process_id"])
    assert ran["process_id"] > 0
    assert done.user == getpass.getuser()
    assert _chained(entries)
