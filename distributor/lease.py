"""The lease that makes a daemon the one distributor of its cluster, kept by heartbeats."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid

import anyio
from anyio.abc import TaskStatus

from jobmon import endpoints, wire
from jobmon.clock import Clock, SystemClock
from jobmon.errors import ServerError, ServerUnavailable
from jobmon.processes import process_exists
from jobmon.requester import Requester
from jobmon.settings import Settings

log = logging.getLogger(__name__)

RELEASE_TIMEOUT = 5.0


class DaemonLease:
    """Held while this process serves ``cluster_name``; renewed every heartbeat interval."""

    def __init__(self, requester: Requester, cluster_name: str, settings: Settings,
                 clock: Clock | None = None) -> None:
        heartbeat = settings.heartbeat
        self._requester = requester
        self._interval = heartbeat.task_instance_interval
        self._seconds = heartbeat.instance_deadline
        self._clock = clock or SystemClock()
        self.cluster_name = cluster_name
        self.token = uuid.uuid4().hex
        self.hostname = socket.gethostname()
        self.lost: str | None = None  # why the lease was lost while serving

    def _request(self, takeover: int | None = None) -> wire.LeaseRequest:
        return wire.LeaseRequest(token=self.token, hostname=self.hostname,
                                 process_id=os.getpid(), lease_seconds=self._seconds,
                                 takeover_process_id=takeover)

    async def _take(self, takeover: int | None = None) -> wire.DistributorStatus:
        return await self._requester.call(endpoints.LEASE, self._request(takeover),
                                          cluster_name=self.cluster_name)

    async def acquire(self) -> None:
        """Take the lease, or raise the server's 409 once the holder has shown it is alive.

        A holder on this host whose process is gone is replaced at once (a restart after
        a crash). Any other holder is given until its lease expires: if it renews the lease
        meanwhile, it is alive and this daemon must not start.
        """
        first_seen: str | None = None
        deadline: float | None = None
        while True:
            try:
                await self._take()
                log.info("this process is now the distributor daemon of cluster %r",
                         self.cluster_name)
                return
            except ServerError as error:
                if error.status != 409:
                    raise
                refusal = error
            holder = await self._requester.call(endpoints.DISTRIBUTOR,
                                                cluster_name=self.cluster_name)
            if (holder.live and holder.hostname == self.hostname
                    and not process_exists(holder.process_id)):
                log.warning("the daemon holding the lease (pid %d) is gone: taking over",
                            holder.process_id)
                with contextlib.suppress(ServerError):
                    await self._take(takeover=holder.process_id)
                    return
                continue
            now = self._clock.monotonic()
            if first_seen is None:
                first_seen = holder.heartbeat_date
                deadline = now + holder.seconds_left + self._interval
            elif holder.live and holder.heartbeat_date != first_seen:
                raise refusal  # it renewed its lease: it is alive
            assert deadline is not None
            if now > deadline:
                raise refusal
            await self._clock.sleep(min(self._interval, 1.0))

    async def keep(self, stop: anyio.Event, *,
                   task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Renew every interval; if another daemon took the lease, record why and stop."""
        task_status.started()
        while True:
            await self._clock.sleep(self._interval)
            try:
                await self._take()
            except ServerError as error:
                if error.status != 409:
                    log.warning("lease renewal failed: %s", error)
                    continue
                self.lost = f"lost the lease of cluster {self.cluster_name!r}: {error}"
                log.error("%s", self.lost)
                stop.set()
                return
            except ServerUnavailable as error:
                log.warning("lease renewal failed: %s", error)

    async def release(self) -> None:
        """Give the lease back so that a new daemon can start at once."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(RELEASE_TIMEOUT):
            try:
                await self._requester.call(endpoints.RELEASE,
                                           wire.LeaseRelease(token=self.token),
                                           cluster_name=self.cluster_name)
            except (ServerError, ServerUnavailable) as error:
                log.warning("could not release the lease: %s", error)
