"""Fixtures: one PostgreSQL per session (embedded unless JOBMON_TEST_DATABASE_URL is set),
a migrated template database, a fresh clone per test, and a server on it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobmon import settings as settings_module
from tests.support import (
    ServerThread,
    cloned_database,
    create_template,
    drop_database,
    serving,
)

FAST_HEARTBEATS = {
    "JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL": "1.0",
    "JOBMON__HEARTBEAT__WORKFLOW_RUN_INTERVAL": "1.0",
    "JOBMON__HTTP__RETRY_SECONDS": "30",
    "JOBMON__SWARM__POLL_WAIT": "2.0",
    "JOBMON__DISTRIBUTOR__POLL_WAIT": "2.0",
}


@pytest.fixture(scope="session")
def pg_server_dsn() -> Iterator[str]:
    url = os.environ.get("JOBMON_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from jobmon.server.embedded import EmbeddedPostgres

    base = Path(tempfile.mkdtemp(prefix="jm-pg-"))
    base.chmod(0o755)  # the unprivileged postgres user must reach the data dir when root
    embedded = EmbeddedPostgres(base / "pgdata", port=5439)
    try:
        yield embedded.start()
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
def template_db(pg_server_dsn: str) -> Iterator[str]:
    name = create_template(pg_server_dsn)
    yield name
    drop_database(pg_server_dsn, name)


@pytest.fixture
def db_dsn(pg_server_dsn: str, template_db: str) -> Iterator[str]:
    with cloned_database(pg_server_dsn, template_db) as dsn:
        yield dsn


@pytest.fixture
def jobmon_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Isolated state and config directories and fast heartbeats; children inherit them."""
    for name in list(os.environ):
        if name.startswith("JOBMON__"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name, value in FAST_HEARTBEATS.items():
        monkeypatch.setenv(name, value)
    settings_module.reset_cache()
    yield tmp_path
    settings_module.reset_cache()


@pytest.fixture
def server(
    db_dsn: str, jobmon_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerThread]:
    """A server on a fresh database; the client finds it through JOBMON__HTTP__SERVICE_URL."""
    with serving(db_dsn, monkeypatch) as running:
        yield running
