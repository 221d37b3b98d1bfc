"""Batches instance status reports: one request carries everything that happened meanwhile."""

from __future__ import annotations

import logging

import anyio
from anyio.abc import TaskStatus

from jobmon import endpoints, wire
from jobmon.errors import ServerError
from jobmon.requester import Requester
from jobmon.status import TASK_INSTANCE_FINAL

_FINAL = frozenset(str(status) for status in TASK_INSTANCE_FINAL)

log = logging.getLogger(__name__)

MAX_BATCH = 10_000  # one claim of the default batch size is reported in one request
BATCH_DELAY = 0.005


class Reporter:
    """Collects InstanceUpdates and sends them in order, in batches, as soon as it can."""

    def __init__(self, requester: Requester, source: str = "distributor") -> None:
        self._requester = requester
        self._source = source
        self._pending: list[wire.InstanceUpdate] = []
        # instances whose last pending report is not a final one: more may follow soon
        self._unended: set[int] = set()
        self._wake = anyio.Event()
        self._drained = anyio.Event()
        self._drained.set()
        self.sent = 0

    def report(self, update: wire.InstanceUpdate) -> None:
        self._pending.append(update)
        if update.status in _FINAL:
            self._unended.discard(update.task_instance_id)
        else:
            self._unended.add(update.task_instance_id)
        if self._drained.is_set():
            self._drained = anyio.Event()
        self._wake.set()

    async def flush(self) -> None:
        """Wait until everything reported so far has been sent (used at shutdown)."""
        await self._drained.wait()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await self._wake.wait()
            # reports come in bursts (a RUNNING is often followed by its DONE at once):
            # a short pause sends them in one request, and ends as soon as every instance
            # reported has ended (nothing more of theirs can come: a chain's next task waits)
            with anyio.move_on_after(BATCH_DELAY):
                while self._unended:
                    self._wake = anyio.Event()
                    await self._wake.wait()
            self._wake = anyio.Event()
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                await self._send(batch)
            self._unended.clear()
            self._drained.set()

    async def _send(self, batch: list[wire.InstanceUpdate]) -> None:
        try:
            answer = await self._requester.call(
                endpoints.TRANSITIONS,
                wire.TransitionsRequest(source=self._source, updates=batch),
            )
        except ServerError as error:
            if len(batch) == 1:
                log.error("instance %d: the server refused report %s: %s",
                          batch[0].task_instance_id, batch[0].status, error)
                return
            # find the one the server refuses; deliver the others
            for update in batch:
                await self._send([update])
            return
        self.sent += len(batch)
        for update, result, status in zip(batch, answer.results, answer.statuses, strict=True):
            if result == "rejected":
                log.warning("instance %d: status %s was rejected (it is %s)",
                            update.task_instance_id, update.status, status)
