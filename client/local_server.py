"""With no server configured, start a local one on the embedded PostgreSQL, or reuse it.

The server runs detached (it outlives this process, so the next run reuses it) and
exits by itself after ``server.idle_shutdown`` seconds without requests.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from jobmon.errors import ServerUnavailable
from jobmon.settings import Settings, default_data_home

START_TIMEOUT = 120.0


def state_dir() -> Path:
    return default_data_home()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_state(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def ensure_local_server(settings: Settings) -> str:
    """The URL of a running local server, starting one if needed (blocking; run in a thread)."""
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    state_file = directory / "server.json"
    with open(directory / "server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = _read_state(state_file)
        if state is not None:
            url, pid = str(state.get("url", "")), state.get("pid")
            if isinstance(pid, int) and _pid_alive(pid) and _healthy(url):
                return url
        with contextlib.suppress(FileNotFoundError):
            state_file.unlink()
        return _start(settings, directory, state_file)


def _start(settings: Settings, directory: Path, state_file: Path) -> str:
    log_path = directory / "server.log"
    command = [
        sys.executable, "-m", "jobmon", "server",
        "--host", "127.0.0.1", "--port", "0",
        "--ready-file", str(state_file),
        "--idle-shutdown", str(settings.server.idle_shutdown),
    ]
    environment = dict(os.environ)
    environment.pop("JOBMON__HTTP__SERVICE_URL", None)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
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
