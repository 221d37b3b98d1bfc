"""Fixtures: one PostgreSQL per session (embedded unless JOBMON_TEST_DATABASE_URL is set),
a migrated template database, a fresh clone per test, and a server on it."""

from __future__ import annotations

import os
import shutil
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
    shared_temp_dir,
)

# the session's temporary directory, removed at the end unless a test failed
_BASETEMP = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """One temporary directory per session instead of pytest's kept /tmp/pytest-of-*."""
    if config.option.basetemp is None:
        base = Path(tempfile.mkdtemp(prefix="jobmon-tests-"))
        config.option.basetemp = str(base)
        config.stash[_BASETEMP] = base


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    base = session.config.stash.get(_BASETEMP, None)
    if base is None:
        return
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) \
            or not any(base.iterdir()):  # (a usage error, say: nothing to look at)
        shutil.rmtree(base, ignore_errors=True)
    else:  # kept for a look at what failed
        print(f"\ntemporary files of this session are kept in {base}")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (--dist loadgroup) the Slurm tests all run on one worker, one
    after another: the dev cluster's few CPUs are theirs, as in a serial run."""
    for item in items:
        if item.get_closest_marker("slurm") is not None:
            item.add_marker(pytest.mark.xdist_group("slurm"))


def _embedded_port() -> int:
    """5439 in a serial run; 5450 + N on xdist worker gwN, so workers never race for one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return 5450 + int(worker[2:]) if worker.startswith("gw") else 5439


FAST_HEARTBEATS = {
    "JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL": "1.0",
    # a run is overdue after 6.2 s: a swarm starved of CPU for a few seconds, as on a
    # 2-core machine running four test workers, is not marked lost
    "JOBMON__HEARTBEAT__WORKFLOW_RUN_INTERVAL": "2.0",
    "JOBMON__HTTP__RETRY_SECONDS": "30",
    "JOBMON__HTTP__RETRY_MAX_WAIT": "2",
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

    with shared_temp_dir("jm-pg-") as base:
        embedded = EmbeddedPostgres(base / "pgdata", port=_embedded_port())
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


@pytest.fixture
def fast_local(jobmon_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight local commands at once and deadlines of about 6 s, for the fault tests."""
    monkeypatch.setenv("JOBMON__LOCAL__MAX_PARALLEL", "8")
    # deadlines of 6 s: a replaced distributor adopts its orphans well before the reaper
    # gives them up, even on a busy 2-core machine
    monkeypatch.setenv("JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL", "2.0")
    settings_module.reset_cache()


@pytest.fixture
def token_server(db_dsn: str, jobmon_env: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerThread]:
    """A server that wants an API token from every caller, as a shared one does."""
    monkeypatch.setenv("JOBMON__SERVER__AUTH", "token")
    settings_module.reset_cache()
    with serving(db_dsn, monkeypatch) as running:
        yield running
