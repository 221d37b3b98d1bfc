"""The reaper: marks instances and runs whose heartbeat deadline passed. One replica runs it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import anyio
import asyncpg
from anyio.abc import TaskStatus

from jobmon import wire
from jobmon.clock import Clock
from jobmon.server.counting import counting
from jobmon.server.metrics import Metrics
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store import instances, runs
from jobmon.settings import Settings
from jobmon.status import TaskInstanceStatus, WorkflowRunStatus

log = logging.getLogger(__name__)

TIS = TaskInstanceStatus
WRS = WorkflowRunStatus

# What an overdue instance becomes.
OVERDUE_INSTANCE: Mapping[str, TaskInstanceStatus] = {
    TIS.INSTANTIATED: TIS.NO_DISTRIBUTOR_ID,  # claimed, never submitted: the distributor died
    TIS.LAUNCHED: TIS.NO_HEARTBEAT,  # submitted, never started
    TIS.RUNNING: TIS.TRIAGING,  # stopped heartbeating: ask around before giving up
    TIS.TRIAGING: TIS.UNKNOWN_ERROR,  # nobody vouched for it in the grace period
    TIS.KILL_SELF: TIS.ERROR_FATAL,  # no distributor confirmed the kill: its owner is gone
}

# What an overdue run becomes.
OVERDUE_RUN: Mapping[str, WorkflowRunStatus] = {
    **{status: WRS.ERROR for status in ("B", "I", "O", "R")},
    WRS.COLD_RESUME: WRS.TERMINATED,
    WRS.HOT_RESUME: WRS.TERMINATED,
}
_LOST_MESSAGE = "the swarm stopped heartbeating; the run was marked lost by the reaper"
BATCH = 10_000


def holdoff_seconds(settings: Settings) -> float:
    """How long a newly elected reaper waits before it judges any deadline (pure)."""
    heartbeat = settings.heartbeat
    longest = max(heartbeat.task_instance_interval, heartbeat.workflow_run_interval)
    backoff = longest + 2 * settings.http.retry_max_wait
    return max(heartbeat.instance_deadline, heartbeat.run_deadline, backoff)


@dataclass
class ReapResult:
    instances: int = 0
    runs: int = 0


class Reaper:
    """Moves overdue instances (R to T to U, O to X, I to W) and lost runs (to E or T)."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, settings: Settings,
                 metrics: Metrics | None = None) -> None:
        self._pool = pool
        self._metrics = metrics or Metrics()
        self._clock = clock
        self._settings = settings

    @property
    def grace_seconds(self) -> float:
        heartbeat = self._settings.heartbeat
        return heartbeat.instance_deadline

    @property
    def holdoff(self) -> float:
        """How long to wait before judging deadlines after this reaper was away.

        While the reaper, its server or the database was down, nobody could heartbeat, and
        each client's retries spread out to ``http.retry_max_wait`` apart: give every client
        one full deadline, and at least one interval plus two of those waits (a client's
        next attempt may fall that late after the server is back), before any deadline
        counts. With short intervals the backoff is the longer of the two.
        """
        return holdoff_seconds(self._settings)

    async def reap_once(self) -> ReapResult:
        with counting(self._metrics):
            result = await self._reap_once()
        self._metrics.reaper_passes.inc()
        return result

    async def _reap_once(self) -> ReapResult:
        now = self._clock.now()
        result = ReapResult()
        async with self._pool.acquire() as connection:
            rows = await connection.fetch(Q["overdue_instances"], now, BATCH)
            updates = [
                wire.InstanceUpdate(
                    task_instance_id=row["id"],
                    status=str(OVERDUE_INSTANCE[row["status"]]),
                    error_message=f"no heartbeat from the instance before its deadline "
                                  f"(was {row['status']})",
                    next_report_seconds=(
                        self.grace_seconds if row["status"] == TIS.RUNNING else None
                    ),
                )
                for row in rows
            ]
            if updates:
                answer = await instances.apply_transitions(connection, updates, "reaper", now)
                result.instances = answer.results.count("applied")
                for update, outcome in zip(updates, answer.results, strict=True):
                    if outcome == "applied":
                        self._metrics.reaped.labels("task_instance", update.status).inc()
            for row in await connection.fetch(Q["overdue_runs"], now, BATCH,
                                                list(OVERDUE_RUN)):
                target = OVERDUE_RUN[row["status"]]
                message = _LOST_MESSAGE if target is WRS.ERROR else ""
                answer_run = await runs.set_run_status(
                    connection, row["id"],
                    wire.RunStatusRequest(status=str(target), message=message), now, "reaper",
                )
                result.runs += answer_run.applied
                if answer_run.applied:
                    self._metrics.reaped.labels("workflow_run", str(target)).inc()
        if result.instances or result.runs:
            log.info("reaper: %d instances and %d runs were overdue", result.instances,
                     result.runs)
        return result

    async def run(
        self, dsn: str, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Wait to be elected through a session advisory lock, then reap every interval."""
        interval = self._settings.server.reaper_interval
        task_status.started()
        while True:
            try:
                connection = await asyncpg.connect(dsn)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("reaper cannot connect: %s", error)
                await self._clock.sleep(interval)
                continue
            try:
                while not await connection.fetchval(Q["try_reaper_lock"]):
                    await self._clock.sleep(interval)
                log.info("this server runs the reaper (first pass in %.0f s)", self.holdoff)
                await self._clock.sleep(self.holdoff)
                while not connection.is_closed():
                    try:
                        await self.reap_once()
                    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                        log.warning("reaper pass failed: %s", error)
                        await self._clock.sleep(self.holdoff)
                    await self._clock.sleep(interval)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("reaper lost its lock connection: %s", error)
            finally:
                with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                    await connection.close(timeout=2)
