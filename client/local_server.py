"""With no server configured, start a local one on the embedded PostgreSQL, or reuse it.

The server runs detached (it outlives this process, so the next run reuses it) and
exits by itself after ``server.idle_shutdown`` seconds without requests. If it dies while
a client uses it, the client starts it again, on the same port when it can, so that the
distributors and other clients of the old URL find it there.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from jobmon import endpoints
from jobmon.errors import ServerUnavailable
from jobmon.processes import process_exists
from jobmon.settings import Settings, default_data_home

log = logging.getLogger(__name__)

START_TIMEOUT = 120.0


def state_dir() -> Path:
    return default_data_home()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + endpoints.HEALTH.path, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _pid_alive(pid: int) -> bool:
    """Whether the process runs (a zombie does not: it is reaped if it is our child)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our child (we started it), and it just ended
    if not process_exists(pid):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True  # no procfs: a PID that exists is all we can tell
    return state not in ("Z", "X")


def _read_state(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[Path]:
    """The state file, under a lock that makes concurrent clients start one server."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield directory / "server.json"


def ensure_local_server(settings: Settings) -> str:
    """The URL of a running local server, starting one if needed (blocking; run in a thread)."""
    directory = state_dir()
    with _locked(directory) as state_file:
        state = _read_state(state_file)
        if state is not None:
            url, pid = str(state.get("url", "")), state.get("pid")
            if isinstance(pid, int) and _pid_alive(pid) and _healthy(url):
                return url
        with contextlib.suppress(FileNotFoundError):
            state_file.unlink()
        return _start(settings, directory, state_file)


def restart_local_server(settings: Settings, refused_url: str) -> str:
    """The URL to use after ``refused_url`` refused a connection (blocking; run in a thread).

    If the server recorded there is gone, start it again on its port (or, if that port is
    taken now, on another); if it still runs (starting, or busy), or another client
    already started a new one, keep to what the state file says.
    """
    directory = state_dir()
    with _locked(directory) as state_file:
        state = _read_state(state_file)
        if state is not None:
            url, pid = str(state.get("url", "")), state.get("pid")
            if isinstance(pid, int) and _pid_alive(pid):
                return url
        with contextlib.suppress(FileNotFoundError):
            state_file.unlink()
        port = urllib.parse.urlsplit(refused_url).port or 0
        log.warning("the local Jobmon server at %s is gone: starting it again", refused_url)
        try:
            return _start(settings, directory, state_file, port)
        except ServerUnavailable:
            if port == 0:
                raise
            log.warning("port %d is taken now: starting the server on another port", port)
            return _start(settings, directory, state_file)


def _start(settings: Settings, directory: Path, state_file: Path, port: int = 0) -> str:
    log_path = directory / "server.log"
    command = [
        sys.executable, "-m", "jobmon", "server",
        "--host", "127.0.0.1", "--port", str(port),
        "--ready-file", str(state_file),
        "--idle-shutdown", str(settings.server.idle_shutdown),
    ]
    environment = dict(os.environ)
    environment.pop("JOBMON__HTTP__SERVICE_URL", None)
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            start_new_session=True, env=environment, close_fds=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        state = _read_state(state_file)
        if state is not None and _healthy(str(state.get("url", ""))):
            return str(state["url"])
        if process.poll() is not None:
            raise ServerUnavailable(
                f"the local Jobmon server exited with code {process.returncode} while "
                f"starting; see {log_path}:\n{_tail(log_path)}"
            )
        time.sleep(0.02)
    process.terminate()
    raise ServerUnavailable(
        f"the local Jobmon server did not start within {START_TIMEOUT:.0f} s; see {log_path}"
    )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
