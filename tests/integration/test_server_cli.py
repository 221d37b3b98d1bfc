"""`jobmon server` and `jobmon db upgrade`: by URL, embedded, as root and as a normal user."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.helpers import ROOT, value, wait_until
from tests.support import admin_dsn, shared_temp_dir

pytestmark = pytest.mark.timeout(180)


def _jobmon(*args: str, env: dict[str, str] | None = None, user: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "jobmon", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}",
                   "--clear-groups", *command]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBMON__")}
    env.update(extra)
    return env


def test_db_upgrade_by_url_is_idempotent(pg_server_dsn: str) -> None:
    import anyio
    import asyncpg

    name = f"jobmon_upgrade_{os.getpid()}"

    async def create(sql: str) -> None:
        connection = await asyncpg.connect(admin_dsn(pg_server_dsn, "postgres"))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    anyio.run(create, f'CREATE DATABASE "{name}"')
    try:
        dsn = admin_dsn(pg_server_dsn, name)
        first = _jobmon("db", "upgrade", "--database-url", dsn, env=_clean_env())
        assert first.returncode == 0, first.stderr
        assert "applied migrations 1" in first.stdout
        again = _jobmon("db", "upgrade", env=_clean_env(JOBMON__DB__URL=dsn))
        assert again.returncode == 0 and "already up to date" in again.stdout
        assert value(dsn, "SELECT count(*) FROM schema_migrations") >= 1
    finally:
        anyio.run(create, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_db_upgrade_reports_an_unreachable_database_in_one_line() -> None:
    result = _jobmon("db", "upgrade", "--database-url",
                     "postgresql://nobody@127.0.0.1:9/none", env=_clean_env())
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to a normal user needs root")
def test_embedded_db_upgrade_as_a_normal_user() -> None:
    with shared_temp_dir("jm-user-") as home:
        _upgrade_as_nobody(home)


def _upgrade_as_nobody(home: Path) -> None:
    home.chmod(0o777)
    env = _clean_env(HOME=str(home), XDG_DATA_HOME=str(home / "data"),
                     XDG_CONFIG_HOME=str(home / "config"))
    result = _jobmon("db", "upgrade", env=env, user="nobody")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "applied migrations" in result.stdout
    data = home / "data" / "jobmon" / "pgdata"
    assert data.is_dir() and data.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    # the owner stopped it: nothing is left running on that data directory
    assert not (data / "postmaster.pid").exists()


def test_embedded_server_killed_leaves_no_postgres_behind() -> None:
    with shared_temp_dir("jm-kill-") as base:
        _kill_embedded_server(base)


def _kill_embedded_server(base: Path) -> None:
    ready = base / "ready.json"
    env = _clean_env(XDG_DATA_HOME=str(base / "data"), XDG_CONFIG_HOME=str(base / "config"),
                     JOBMON__EMBEDDED__DATA_DIR=str(base / "pgdata"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jobmon", "server", "--port", "0", "--ready-file", str(ready)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(ready.exists, 120, "the server to be ready")
        assert json.loads(ready.read_text())["pid"] == server.pid
        postgres = int((base / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(postgres, 0)
        server.send_signal(signal.SIGKILL)
        server.wait(10)

        def gone() -> bool:
            try:
                os.kill(postgres, 0)
            except ProcessLookupError:
                return True
            return False

        wait_until(gone, 10, "postgres to stop with its owner")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # and the next start needs no recovery: a new server comes up on the same data
    ready.unlink()
    again = subprocess.Popen(
        [sys.executable, "-m", "jobmon", "server", "--port", "0", "--ready-file", str(ready)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(ready.exists, 60, "the restarted server to be ready")
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(30)
    time.sleep(0)
