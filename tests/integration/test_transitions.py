"""Status reports applied to a real database: a start and an end in one report."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from jobmon import wire
from jobmon.clock import ManualClock
from jobmon.server.store import instances, runs
from tests.integration.helpers import workflow_with_instances

pytestmark = pytest.mark.anyio

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _started(instance_id: int) -> wire.InstanceUpdate:
    return wire.InstanceUpdate(task_instance_id=instance_id, status="R", nodename="node7",
                               process_id=4242, stdout_path="/logs/out",
                               next_report_seconds=30)


def _done(instance_id: int) -> wire.InstanceUpdate:
    return wire.InstanceUpdate(task_instance_id=instance_id, status="D", exit_code=0,
                               maxrss=1024, wallclock=0.01, output={"rows": 3})


async def _history(connection: asyncpg.Connection, instance_id: int) -> list[str]:
    rows = await connection.fetch(
        "SELECT status FROM task_instance_status WHERE task_instance_id = $1 ORDER BY id",
        instance_id)
    return [row[0] for row in rows]


async def test_a_start_and_end_in_one_report_record_both(pool: asyncpg.Pool) -> None:
    clock = ManualClock(START)
    _, _, (task_id,), (instance_id,) = await workflow_with_instances(pool, clock, 1)
    async with pool.acquire() as connection:
        answer = await instances.apply_transitions(
            connection, [_started(instance_id), _done(instance_id)], "distributor", clock.now())
        assert answer.results == ["applied", "applied"]
        assert answer.statuses == ["D", "D"]
        row = await connection.fetchrow(
            "SELECT status, nodename, process_id, stdout_path, exit_code, maxrss, report_by "
            "FROM task_instance WHERE id = $1", instance_id)
        assert dict(row) == {"status": "D", "nodename": "node7", "process_id": 4242,
                             "stdout_path": "/logs/out", "exit_code": 0, "maxrss": 1024,
                             "report_by": None}
        assert await _history(connection, instance_id) == ["Q", "I", "R", "D"]
        task = await connection.fetchrow("SELECT status, output FROM task WHERE id = $1",
                                         task_id)
        assert (task["status"], task["output"]) == ("D", {"rows": 3})

        # the same report again (a retried request) changes nothing
        again = await instances.apply_transitions(
            connection, [_started(instance_id), _done(instance_id)], "distributor", clock.now())
        assert "applied" not in again.results
        assert await _history(connection, instance_id) == ["Q", "I", "R", "D"]


async def test_an_end_after_a_separate_start_applies_alone(pool: asyncpg.Pool) -> None:
    clock = ManualClock(START)
    _, _, (task_id,), (instance_id,) = await workflow_with_instances(pool, clock, 1)
    async with pool.acquire() as connection:
        await instances.apply_transitions(connection, [_started(instance_id)], "worker",
                                          clock.now())
        # the distributor's own copy of the start comes late, with the end
        answer = await instances.apply_transitions(
            connection, [_started(instance_id), _done(instance_id)], "distributor", clock.now())
        assert answer.results[0] != "applied" and answer.results[1] == "applied"
        assert await _history(connection, instance_id) == ["Q", "I", "R", "D"]
        assert await connection.fetchval("SELECT status FROM task WHERE id = $1", task_id) == "D"


async def test_a_start_and_failure_of_a_killed_instance_are_not_applied(
    pool: asyncpg.Pool,
) -> None:
    clock = ManualClock(START)
    _, _, (task_id,), (instance_id,) = await workflow_with_instances(pool, clock, 1)
    async with pool.acquire() as connection:
        await connection.execute("UPDATE task_instance SET status = 'K' WHERE id = $1",
                                 instance_id)
        failed = wire.InstanceUpdate(task_instance_id=instance_id, status="E", exit_code=3)
        answer = await instances.apply_transitions(
            connection, [_started(instance_id), failed], "distributor", clock.now())
        assert "applied" not in answer.results
        assert await connection.fetchval(
            "SELECT status FROM task_instance WHERE id = $1", instance_id) == "K"
        assert await _history(connection, instance_id) == ["Q", "I"]
        assert await connection.fetchval("SELECT status FROM task WHERE id = $1", task_id) == "I"


@pytest.mark.parametrize(("table", "column", "key"), [
    ("workflow", "status", "id"), ("workflow_run", "status", "id"),
    ("task", "status", "id"), ("task", "error_status", "id"),
    ("task_instance", "status", "id"),
    ("task_instance_status", "status", "task_instance_id"),
    ("workflow_run_status", "status", "workflow_run_id"),
])
async def test_a_letter_of_no_state_machine_is_refused_by_the_database(
        pool: asyncpg.Pool, table: str, column: str, key: str) -> None:
    """Migration 0012: a status column takes only its machine's letters."""
    clock = ManualClock(START)
    workflow_id, run_id, (task_id,), (instance_id,) = await workflow_with_instances(
        pool, clock, 1)
    row_id = {"workflow": workflow_id, "workflow_run": run_id, "task": task_id,
              "task_instance": instance_id, "task_instance_status": instance_id,
              "workflow_run_status": run_id}[table]
    async with pool.acquire() as connection:
        # Y: no machine's; then a letter of another machine (B: IHME's batch letter)
        other = "G" if column == "error_status" else \
            "B" if table.startswith("task_instance") else "K"
        for letter in ("Y", other):
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute(
                    f"UPDATE {table} SET {column} = $1 WHERE {key} = $2", letter, row_id)
        # a letter of its machine is taken (the constraint refuses only strangers)
        good = "E" if column == "error_status" or table.startswith("task_instance") else "R"
        assert await connection.execute(
            f"UPDATE {table} SET {column} = $1 WHERE {key} = $2", good, row_id) != "UPDATE 0"


async def test_a_run_has_live_instances_until_its_last_one_ended(pool: asyncpg.Pool) -> None:
    """The change long-poll gathers no more changes after the end of a run's last live
    instance (nothing else can come): the store tells when that is."""
    clock = ManualClock(START)
    _, run_id, _, (first, second) = await workflow_with_instances(pool, clock, 2)
    async with pool.acquire() as connection:
        assert await runs.has_live_instances(connection, run_id)
        await instances.apply_transitions(
            connection, [_started(first), _done(first)], "distributor", clock.now())
        assert await runs.has_live_instances(connection, run_id)  # the second still runs
        await instances.apply_transitions(
            connection, [_started(second), _done(second)], "distributor", clock.now())
        assert not await runs.has_live_instances(connection, run_id)
