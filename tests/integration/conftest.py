"""Fixtures shared by integration tests: a store pool, a server that wants tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from jobmon import settings as settings_module
from jobmon.server.db import create_pool
from tests.support import ServerThread, serving


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def pool(db_dsn: str, jobmon_env: object) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test database, as the server makes it."""
    created = await create_pool(db_dsn, min_size=1, max_size=4, statement_timeout=30)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
def token_server(db_dsn: str, jobmon_env: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerThread]:
    """A server that wants an API token from every caller, as a shared one does."""
    monkeypatch.setenv("JOBMON__SERVER__AUTH", "token")
    settings_module.reset_cache()
    with serving(db_dsn, monkeypatch) as running:
        yield running
