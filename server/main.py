"""`jobmon server`: the database (embedded unless a URL is given), the app, the background loops."""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import asyncpg
from aiohttp import web

import jobmon
from jobmon import errors
from jobmon.clock import Clock, SystemClock
from jobmon.server import migrate
from jobmon.server.app import create_app
from jobmon.server.auth import Authenticator, auth_mode, server_key
from jobmon.server.db import Notifier, connect, create_pool
from jobmon.server.embedded import DatabaseKeeper, EmbeddedPostgres
from jobmon.server.guard import BrowserGuard
from jobmon.server.heartbeats import HeartbeatBatcher
from jobmon.server.listener import RESERVED_FILES, ListenerSite, raise_open_file_limit
from jobmon.server.reaper import Reaper
from jobmon.server.state import ServerState
from jobmon.server.supervisor import supervise
from jobmon.settings import Settings, embedded_data_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    database_url: str
    ready_file: Path | None = None
    idle_shutdown: float = 0.0
    upgrade: bool = True
    # server processes on this port (SO_REUSEPORT), supervised by this one; 1: serve here
    processes: int = 1
    # bind the port with SO_REUSEPORT (set for each of the supervisor's processes)
    reuse_port: bool = False
    # called with the URL once listening (tests use it instead of a ready file)
    on_ready: Callable[[str], None] | None = None


def open_database(settings: Settings, database_url: str) -> tuple[str, EmbeddedPostgres | None]:
    """The DSN to use, starting the embedded PostgreSQL when no URL is configured.

    Call from the main thread: the embedded server dies with the thread that started it.
    """
    if database_url:
        return database_url, None
    embedded = EmbeddedPostgres(embedded_data_dir(settings), settings.embedded.port)
    return embedded.start(), embedded


def describe(dsn: str) -> str:
    """A DSN without its password, for logs and /health."""
    if "@" in dsn and "://" in dsn:
        scheme, rest = dsn.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
    return dsn


async def open_connection(dsn: str) -> asyncpg.Connection:
    """A first connection at start: if it fails, the error says which database and why."""
    try:
        return await connect(dsn)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise errors.DatabaseUnavailable(
            f"cannot connect to the database at {describe(dsn)}: {error}"
        ) from error


async def upgrade_database(dsn: str) -> list[int]:
    connection = await open_connection(dsn)
    try:
        return await migrate.upgrade(connection)
    finally:
        await connection.close()


async def serve(
    settings: Settings, dsn: str, options: ServeOptions, clock: Clock | None = None,
    stop: anyio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set (or, with idle_shutdown, until idle that long)."""
    clock = clock or SystemClock()
    stop = stop or anyio.Event()
    connection = await open_connection(dsn)
    try:
        if options.upgrade:
            applied = await migrate.upgrade(connection)
            if applied:
                log.info("applied migrations %s", applied)
        version = await migrate.check(connection, require_latest=not options.upgrade)
        key = await server_key(connection)
    finally:
        await connection.close()
    pool = await create_pool(
        dsn,
        min_size=settings.db.pool_min_size,
        max_size=settings.db.pool_max_size,
        statement_timeout=settings.db.statement_timeout,
    )
    notifier = Notifier(dsn)
    mode = auth_mode(settings.server.auth, options.host)
    guard = (BrowserGuard(options.host, settings.server.allowed_hosts.split(","))
             if mode == "local" else None)
    state = ServerState(pool=pool, notifier=notifier, clock=clock, settings=settings,
                        schema_version=version, database=describe(dsn),
                        heartbeats=HeartbeatBatcher(pool, clock),
                        auth=Authenticator(pool, mode, guard, key),
                        last_request=clock.monotonic())
    runner = web.AppRunner(create_app(state), access_log=None, handle_signals=False)
    open_files = raise_open_file_limit(settings.server.open_files)
    try:
        async with anyio.create_task_group() as group:
            await group.start(notifier.run)
            await group.start(Reaper(pool, clock, settings, state.metrics).run, dsn)
            await runner.setup()
            site = ListenerSite(runner, options.host, options.port, backlog=1024,
                                max_connections=max(1, open_files - RESERVED_FILES),
                                send_timeout=settings.server.transfer_timeout,
                                reuse_port=options.reuse_port)
            await site.start()
            url = _site_url(runner, options.host)
            # what exists now (modules, routes, the pool) lives as long as the server: keep
            # it out of the collector's full passes, which otherwise stall every request
            gc.freeze()
            log.info("jobmon %s serving %s on %s", jobmon.__version__, describe(dsn), url)
            if options.ready_file is not None:
                _write_ready_file(options.ready_file, url)
            if options.on_ready is not None:
                options.on_ready(url)
            if options.idle_shutdown > 0:
                group.start_soon(_stop_when_idle, state, options.idle_shutdown, stop)
            await stop.wait()
            log.info("shutting down")
            group.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(10):
            await runner.cleanup()
            await pool.close()


def _site_url(runner: web.AppRunner, host: str) -> str:
    server = runner.addresses[0]
    port = server[1]
    shown = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://{shown}:{port}"


def _write_ready_file(path: Path, url: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    temporary.replace(path)


async def _stop_when_idle(state: ServerState, idle: float, stop: anyio.Event) -> None:
    while True:
        await anyio.sleep(min(idle, 30.0))
        if state.clock.monotonic() - state.last_request > idle:
            log.info("idle for %.0f s: stopping", idle)
            stop.set()
            return


def run_server(settings: Settings, options: ServeOptions) -> None:
    """Blocking entry point for the CLI: SIGTERM and SIGINT stop the server cleanly."""
    dsn, embedded = open_database(settings, options.database_url)
    # the embedded database outlives any one server that uses it: if the server that
    # started it stops (or it dies), this one starts it again
    keeper = DatabaseKeeper(embedded) if embedded is not None else None
    try:
        if keeper is not None:
            keeper.start()
        anyio.run(_serve_with_signals, settings, dsn, options)
    finally:
        if keeper is not None:
            keeper.stop()
        if embedded is not None:
            embedded.stop()


async def _serve_with_signals(settings: Settings, dsn: str, options: ServeOptions) -> None:
    stop = anyio.Event()
    async with anyio.create_task_group() as group:

        async def watch_signals() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for _ in signals:
                    stop.set()
                    return

        group.start_soon(watch_signals)
        if options.processes > 1:
            await _supervise(dsn, options, stop)
        else:
            await serve(settings, dsn, options, stop=stop)
        group.cancel_scope.cancel()


async def _supervise(dsn: str, options: ServeOptions, stop: anyio.Event) -> None:
    """Migrate once, then run ``options.processes`` server processes on one port."""
    if options.upgrade:
        applied = await upgrade_database(dsn)
        if applied:
            log.info("applied migrations %s", applied)

    def ready(port: int) -> None:
        shown = options.host if options.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        url = f"http://{shown}:{port}"
        log.info("jobmon %s serving %s on %s with %d processes", jobmon.__version__,
                 describe(dsn), url, options.processes)
        if options.ready_file is not None:
            _write_ready_file(options.ready_file, url)
        if options.on_ready is not None:
            options.on_ready(url)

    await supervise(dsn, options.host, options.port, options.processes, stop, ready)
