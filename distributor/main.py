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
from jobmon.distributor.plugins.base import RunsChildren
from jobmon.distributor.service import DistributorService
from jobmon.errors import JobmonError
from jobmon.requester import Requester
from jobmon.settings import Settings

log = logging.getLogger(__name__)


class ParentPipe:
    """The parent's pipe on stdin: its first line may carry our run id; EOF means it is gone.

    A swarm starts its distributor before the run exists (while it binds), so that the
    interpreter's start-up is off the critical path, and sends the run id when it has one.
    """

    def __init__(self, stop: anyio.Event) -> None:
        self.run_id: int | None = None
        self.got_run_id = anyio.Event()
        self._stop = stop
        self._buffer = b""

    def watch(self) -> None:
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
                self._stop.set()
                self.got_run_id.set()
                return
            self._buffer += data
            if self.run_id is None and b"\n" in self._buffer:
                line = self._buffer.split(b"\n", 1)[0].strip()
                self.run_id = int(line) if line.isdigit() else None
                self.got_run_id.set()

        loop.add_reader(descriptor, readable)


async def serve(settings: Settings, cluster_name: str, workflow_run_id: int | None,
                exit_on_stdin_close: bool, run_id_from_stdin: bool = False) -> None:
    if not settings.http.service_url:
        raise SystemExit("the distributor needs a server: set JOBMON__HTTP__SERVICE_URL")
    plugin = plugins.load(cluster_name, settings)
    if isinstance(plugin, RunsChildren):
        # what a command leaves running when it exits comes to us, to end with it
        plugin.become_subreaper()
    stop = anyio.Event()
    pipe = ParentPipe(stop)
    if exit_on_stdin_close or run_id_from_stdin:
        pipe.watch()
    if run_id_from_stdin:
        await pipe.got_run_id.wait()
        if pipe.run_id is None:
            log.info("the parent sent no run id: nothing to serve")
            return
        workflow_run_id = pipe.run_id
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
                        draining = received == signal.SIGUSR1
                        service.drain = draining
                        log.info("received %s: %s", signal.Signals(received).name,
                                 "draining" if draining else "stopping")
                        stop.set()
                        return

            group.start_soon(watch_signals)
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
                    exit_on_stdin_close: bool = False, run_id_from_stdin: bool = False) -> None:
    try:
        anyio.run(serve, settings, cluster_name, workflow_run_id, exit_on_stdin_close,
                  run_id_from_stdin)
    except BaseExceptionGroup as group:
        error = _sole_error(group)
        if error is None:
            raise
        raise error from None
