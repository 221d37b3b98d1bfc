"""Numbered plain-SQL migrations, applied in one transaction under an advisory lock."""

from __future__ import annotations

import logging

import asyncpg

from jobmon.errors import JobmonError
from jobmon.server.sql import migrations

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key for migrations ("jobmon" in ASCII, fits in a bigint)
MIGRATION_LOCK = 0x6A6F626D6F6E


class SchemaTooNew(JobmonError, RuntimeError):
    """The database was migrated by a newer Jobmon than this one."""


class SchemaTooOld(JobmonError, RuntimeError):
    """The database lacks migrations this Jobmon needs, and may not apply them itself."""


def latest_version() -> int:
    return len(migrations())


async def current_version(connection: asyncpg.Connection) -> int:
    exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await connection.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))


async def upgrade(connection: asyncpg.Connection) -> list[int]:
    """Apply every migration the database lacks; returns the versions applied."""
    applied: list[int] = []
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await connection.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version     integer PRIMARY KEY,
                   name        text NOT NULL,
                   applied_at  timestamptz NOT NULL DEFAULT now())"""
        )
        have = await current_version(connection)
        known = migrations()
        if have > len(known):
            raise SchemaTooNew(
                f"the database schema is at version {have}, but this Jobmon knows only "
                f"{len(known)}: upgrade Jobmon"
            )
        for version, name, sql in known[have:]:
            log.info("applying migration %s", name)
            await connection.execute(sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
            )
            applied.append(version)
    return applied


async def check(connection: asyncpg.Connection, require_latest: bool = False) -> int:
    """Refuse a schema newer than this code (and, with ``require_latest``, an older one);
    returns the current version."""
    have = await current_version(connection)
    if require_latest and have < latest_version():
        raise SchemaTooOld(
            f"the database schema is at version {have}, but this Jobmon needs "
            f"{latest_version()}: run `jobmon db upgrade` (this server was started with "
            "--no-upgrade)"
        )
    if have > latest_version():
        raise SchemaTooNew(
            f"the database schema is at version {have}, but this Jobmon knows only "
            f"{latest_version()}: upgrade Jobmon"
        )
    return have
