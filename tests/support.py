"""Test helpers: a PostgreSQL for the session, cloned databases, and a server in a thread."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import anyio.from_thread
import asyncpg
import pytest

from jobmon import settings as settings_module
from jobmon.clock import Clock
from jobmon.server import migrate
from jobmon.server.db import connect
from jobmon.server.main import ServeOptions, serve

TEMPLATE_PREFIX = "jobmon_test_template_"


def database_name(dsn: str) -> str:
    """The database a DSN names, whether its host is in the authority or in the query."""
    return urlsplit(dsn).path.lstrip("/")


def admin_dsn(dsn: str, database: str) -> str:
    """The same server, another database."""
    if "?" in dsn:
        base, query = dsn.split("?", 1)
        return base.rsplit("/", 1)[0] + f"/{database}?{query}"
    return dsn.rsplit("/", 1)[0] + f"/{database}"


async def _execute(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def create_template(server_dsn: str) -> str:
    """A migrated template database, made once per session."""
    name = f"{TEMPLATE_PREFIX}{os.getpid()}"
    maintenance = admin_dsn(server_dsn, "postgres")
    anyio.run(_execute, maintenance, f'DROP DATABASE IF EXISTS "{name}"',
              f'CREATE DATABASE "{name}"')

    async def upgrade() -> None:
        connection = await connect(admin_dsn(server_dsn, name))
        try:
            await migrate.upgrade(connection)
        finally:
            await connection.close()

    anyio.run(upgrade)
    return name


def drop_database(server_dsn: str, name: str) -> None:
    anyio.run(_execute, admin_dsn(server_dsn, "postgres"),
              f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def cloned_database(server_dsn: str, template: str) -> Iterator[str]:
    """A fresh database cloned from the migrated template; dropped afterwards."""
    name = f"jobmon_test_{uuid.uuid4().hex[:12]}"
    anyio.run(_execute, admin_dsn(server_dsn, "postgres"),
              f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield admin_dsn(server_dsn, name)
    finally:
        drop_database(server_dsn, name)


@dataclass
class ServerThread:
    """`serve()` in a thread with its own event loop, on a free loopback port."""

    dsn: str
    clock: Clock | None = None
    url: str = ""
    _thread: threading.Thread | None = None
    _portal: anyio.from_thread.BlockingPortal | None = None
    _stop: anyio.Event | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None

    def start(self) -> ServerThread:
        def ready(url: str) -> None:
            self.url = url
            self._ready.set()

        async def main() -> None:
            self._stop = anyio.Event()
            settings = settings_module.load().settings
            options = ServeOptions(host="127.0.0.1", port=0, database_url=self.dsn,
                                   upgrade=False, on_ready=ready)
            async with anyio.from_thread.BlockingPortal() as portal:
                self._portal = portal
                await serve(settings, self.dsn, options, self.clock, self._stop)

        def target() -> None:
            try:
                anyio.run(main)
            except BaseException as error:  # reported by start()
                self._error = error
                self._ready.set()

        self._thread = threading.Thread(target=target, name="jobmon-test-server", daemon=True)
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise RuntimeError("the test server failed to start") from self._error
        if not self.url:
            raise RuntimeError("the test server did not start within 60 s")
        return self

    def stop(self) -> None:
        if self._portal is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._portal.call(self._stop.set)
        if self._thread is not None:
            self._thread.join(30)


@contextlib.contextmanager
def serving(dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerThread]:
    """A server on ``dsn``; the client finds it through JOBMON__HTTP__SERVICE_URL."""
    running = ServerThread(dsn).start()
    monkeypatch.setenv("JOBMON__HTTP__SERVICE_URL", running.url)
    settings_module.reset_cache()
    try:
        yield running
    finally:
        running.stop()


@contextlib.contextmanager
def shared_temp_dir(prefix: str) -> Iterator[Path]:
    """A short directory under the system temp dir that others may enter; removed afterwards.

    For PostgreSQL data directories: as root the server runs as another user, who cannot
    enter pytest's tmp_path (0700), and a socket path must fit in 107 bytes.
    """
    base = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        base.chmod(0o755)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)
