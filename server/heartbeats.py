"""Heartbeats from many workers, written together: one statement per few milliseconds.

Thousands of workers heartbeat at once on a large cluster. Each request waits for the
next flush (at most ``window`` seconds, or until ``max_batch`` ids are pending), and one
transaction moves every pending deadline; each waiter then gets its own statuses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field

import asyncpg

from jobmon.clock import Clock
from jobmon.server.store import instances

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    deadlines: dict[int, dt.datetime] = field(default_factory=dict)
    waiters: list[asyncio.Future[dict[int, str]]] = field(default_factory=list)


class HeartbeatBatcher:
    """Collects heartbeats and writes them in one transaction per batch, one batch at a time.

    One writer at a time: concurrent batches would lock overlapping rows in different
    orders (deadlocks), and a single writer is never the bottleneck, since the batch grows
    while the previous one is written.
    """

    def __init__(self, pool: asyncpg.Pool, clock: Clock, window: float = 0.003,
                 max_batch: int = 5000) -> None:
        self._pool = pool
        self._clock = clock
        self._window = window
        self._max_batch = max_batch
        self._pending = _Pending()
        self._timer: asyncio.TimerHandle | None = None
        self._writing = False
        self.batches = 0

    async def beat(self, ids: list[int], seconds: float) -> dict[int, str]:
        """Statuses of ``ids`` after pushing their deadlines ``seconds`` from now."""
        loop = asyncio.get_running_loop()
        report_by = self._clock.now() + dt.timedelta(seconds=seconds)
        pending = self._pending
        for instance_id in ids:
            known = pending.deadlines.get(instance_id)
            if known is None or known < report_by:
                pending.deadlines[instance_id] = report_by
        waiter: asyncio.Future[dict[int, str]] = loop.create_future()
        pending.waiters.append(waiter)
        if len(pending.deadlines) >= self._max_batch:
            self._flush()
        elif self._timer is None and not self._writing:
            self._timer = loop.call_later(self._window, self._flush)
        return await waiter

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writing or not self._pending.waiters:
            return  # the write under way flushes the rest when it ends
        batch, self._pending = self._pending, _Pending()
        self._writing = True
        asyncio.get_running_loop().create_task(self._write(batch))

    async def _write(self, batch: _Pending) -> None:
        try:
            async with self._pool.acquire() as connection:
                statuses = await instances.heartbeat(connection, dict(sorted(
                    batch.deadlines.items())), self._clock.now())
        except Exception as error:  # every waiter answers with the error
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        finally:
            self._writing = False
            if self._pending.waiters:
                self._flush()
        self.batches += 1
        for waiter in batch.waiters:
            if not waiter.done():
                waiter.set_result(statuses)
