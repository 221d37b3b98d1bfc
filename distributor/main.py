"""`jobmon distributor`: serve one cluster until SIGTERM (or until the parent swarm exits)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import anyio

from jobmon.distributor import plugins
from jobmon.distributor.lease import DaemonLease
from jobmon.distributor.service import DistributorService
from jobmon.errors import JobmonError
from jobmon.requester import Requester
from jobmon.settings import Settings

log = logging.getLogger(__name__)


def _watch_stdin(stop: anyio.Event) -> None:
    """Set ``stop`` when stdin reaches end of file: the parent that holds the pipe is gone."""
    loop = asyncio.get_running_loop()
    descriptor = sys.stdin.fileno()

    def readable() -> None:
        try:
            data = os.read(descriptor, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(descriptor)
            log.info("the parent process is gone: stopping")
            stop.set()

    loop.add_reader(descriptor, readable)


async def serve(settings: Settings, cluster_name: str, workflow_run_id: int | None,
                exit_on_stdin_close: bool) -> None:
    if not settings.http.service_url:
        raise SystemExit("the distributor needs a server: set JOBMON__HTTP__SERVICE_URL")
    plugin = plugins.load(cluster_name, settings)
    stop = anyio.Event()
    async with Requester.from_settings(settings) as requester:
        lease: DaemonLease | None = None
        if workflow_run_id is None:  # a daemon: the only one of its cluster
            lease = DaemonLease(requester, cluster_name, settings)
            await lease.acquire()
        service = DistributorService(requester, settings, plugin, workflow_run_id)
        async with anyio.create_task_group() as group:

            async def watch_signals() -> None:
                stopping = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)
                with anyio.open_signal_receiver(*stopping) as signals:
                    async for received in signals:
                        # SIGUSR1: a hot resume took over; finish what runs, start nothing
                        draining = received == signal.SIGUSR1 and hasattr(plugin, "drain")
                        if draining:
                            plugin.drain = True
                        log.info("received %s: %s", signal.Signals(received).name,
                                 "draining" if draining else "stopping")
                        stop.set()
                        return

            group.start_soon(watch_signals)
            if exit_on_stdin_close:
                _watch_stdin(stop)
            if lease is not None:
                await group.start(lease.keep, stop)
            try:
                await service.run(stop)
            finally:
                if lease is not None:
                    await lease.release()
            group.cancel_scope.cancel()
    log.info("distributor for %s stopped after %d instances", cluster_name, service.claimed)
    if lease is not None and lease.lost:
        raise SystemExit(lease.lost)


def _sole_error(error: BaseException) -> BaseException | None:
    """The one expected error inside nested exception groups, so the CLI prints one line."""
    if isinstance(error, BaseExceptionGroup):
        inner = [_sole_error(item) for item in error.exceptions]
        return inner[0] if len(inner) == 1 else None
    return error if isinstance(error, JobmonError | OSError | ValueError) else None


def run_distributor(settings: Settings, cluster_name: str, workflow_run_id: int | None,
                    exit_on_stdin_close: bool = False) -> None:
    try:
        anyio.run(serve, settings, cluster_name, workflow_run_id, exit_on_stdin_close)
    except BaseExceptionGroup as group:
        error = _sole_error(group)
        if error is None:
            raise
        raise error from None
