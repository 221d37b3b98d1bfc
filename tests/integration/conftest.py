"""Fixtures shared by integration tests: a store pool."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from jobmon.server.db import create_pool


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
