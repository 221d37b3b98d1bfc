"""The reaper, driven by a hand-moved clock on a real database; and its election."""

from __future__ import annotations

import datetime as dt

import anyio
import asyncpg
import pytest

from jobmon import settings as settings_module
from jobmon import wire
from jobmon.clock import ManualClock
from jobmon.server.reaper import Reaper
from jobmon.server.sql import QUERIES
from jobmon.server.store import instances
from tests.integration.helpers import workflow_with_instances

pytestmark = pytest.mark.anyio

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


async def _statuses(pool: asyncpg.Pool, query: str, ids: list[int]) -> list[str]:
    async with pool.acquire() as connection:
        rows = await connection.fetch(query, ids)
    return [row[0] for row in sorted(rows, key=lambda row: row[1])]


async def test_overdue_instances_move_through_triage(pool: asyncpg.Pool) -> None:
    clock = ManualClock(START)
    settings = settings_module.get()
    reaper = Reaper(pool, clock, settings)
    _, _, task_ids, instance_ids = await workflow_with_instances(pool, clock, 3)
    running, launched, claimed = instance_ids
    async with pool.acquire() as connection:
        await instances.apply_transitions(connection, [
            wire.InstanceUpdate(task_instance_id=running, status="R", next_report_seconds=10),
            wire.InstanceUpdate(task_instance_id=launched, status="O", distributor_id="9",
                                next_report_seconds=10),
        ], "distributor", clock.now())
    ti_query = "SELECT status, id FROM task_instance WHERE id = ANY($1)"
    task_query = "SELECT status, id FROM task WHERE id = ANY($1)"

    assert (await reaper.reap_once()).instances == 0  # nothing is overdue yet
    clock.advance(11)
    await reaper.reap_once()
    assert await _statuses(pool, ti_query, instance_ids) == ["T", "E", "W"]
    assert await _statuses(pool, task_query, task_ids) == ["R", "E", "E"]

    clock.advance(reaper.grace_seconds + 1)
    await reaper.reap_once()
    assert await _statuses(pool, ti_query, instance_ids) == ["U", "E", "W"]
    assert await _statuses(pool, task_query, task_ids) == ["E", "E", "E"]
    async with pool.acquire() as connection:
        history = await connection.fetch(
            "SELECT task_instance_id, status, source FROM task_instance_status "
            "WHERE task_instance_id = ANY($1) AND source = 'reaper' ORDER BY id", instance_ids)
    assert sorted((r[0], r[1]) for r in history) == sorted([
        (running, "T"), (launched, "X"), (launched, "E"), (claimed, "W"), (running, "U")])


async def test_a_late_heartbeat_rescues_a_triaged_instance(pool: asyncpg.Pool) -> None:
    clock = ManualClock(START)
    reaper = Reaper(pool, clock, settings_module.get())
    _, _, _, (instance,) = await workflow_with_instances(pool, clock, 1)
    async with pool.acquire() as connection:
        await instances.apply_transitions(connection, [wire.InstanceUpdate(
            task_instance_id=instance, status="R", next_report_seconds=5)], "worker", clock.now())
    clock.advance(6)
    await reaper.reap_once()
    async with pool.acquire() as connection:
        assert await connection.fetchval(
            "SELECT status FROM task_instance WHERE id = $1", instance) == "T"
        statuses = await instances.heartbeat(
            connection, {instance: clock.now() + dt.timedelta(seconds=5)}, clock.now())
        assert statuses == {instance: "R"}
        assert await connection.fetchval(
            "SELECT status FROM task_instance WHERE id = $1", instance) == "R"


async def test_lost_runs_and_unconfirmed_kills(pool: asyncpg.Pool) -> None:
    clock = ManualClock(START)
    reaper = Reaper(pool, clock, settings_module.get())
    workflow_id, run_id, _, (instance,) = await workflow_with_instances(pool, clock, 1)
    async with pool.acquire() as connection:
        await connection.execute(QUERIES["kill_workflow_instances"], workflow_id, clock.now(),
                                 "operator", clock.now() + dt.timedelta(seconds=60), "alice",
                                 None)
    clock.advance(31)
    result = await reaper.reap_once()
    assert result.runs == 1
    async with pool.acquire() as connection:
        assert await connection.fetchval(
            "SELECT status FROM workflow_run WHERE id = $1", run_id) == "E"
        assert await connection.fetchval(
            "SELECT status FROM workflow WHERE id = $1", workflow_id) == "F"
        message = await connection.fetchval(
            "SELECT message FROM workflow_run WHERE id = $1", run_id)
        assert "stopped heartbeating" in message
        assert await connection.fetchval(
            "SELECT status FROM task_instance WHERE id = $1", instance) == "K"
    clock.advance(60)
    await reaper.reap_once()
    async with pool.acquire() as connection:
        assert await connection.fetchval(
            "SELECT status FROM task_instance WHERE id = $1", instance) == "F"


async def test_only_one_replica_runs_the_reaper(db_dsn: str) -> None:
    first = await asyncpg.connect(db_dsn)
    second = await asyncpg.connect(db_dsn)
    try:
        assert await first.fetchval(QUERIES["try_reaper_lock"]) is True
        assert await second.fetchval(QUERIES["try_reaper_lock"]) is False
        await first.close()  # the elected replica dies: its lock goes with its session
        with anyio.fail_after(5):
            while not await second.fetchval(QUERIES["try_reaper_lock"]):  # noqa: ASYNC110
                await anyio.sleep(0.05)
    finally:
        for connection in (first, second):
            if not connection.is_closed():
                await connection.close()
