"""`jobmon distributor`: serve one cluster until SIGTERM (or until the parent swarm exits)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import anyio

from jobmon.distributor import plugins
from jobmon.distributor.service import DistributorService
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
            await service.run(stop)
            group.cancel_scope.cancel()
    log.info("distributor for %s stopped after %d instances", cluster_name, service.claimed)


def run_distributor(settings: Settings, cluster_name: str, workflow_run_id: int | None,
                    exit_on_stdin_close: bool = False) -> None:
    anyio.run(serve, settings, cluster_name, workflow_run_id, exit_on_stdin_close)
