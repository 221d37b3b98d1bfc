"""The README's first command, minus the install: the quickstart on nothing configured."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import shared_temp_dir

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(300)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBMON__")}
    env["XDG_DATA_HOME"] = str(home / "data")
    env["XDG_CONFIG_HOME"] = str(home / "config")
    return env


def test_quickstart_runs_on_the_embedded_defaults_and_refuses_a_rerun() -> None:
    # the database lives in XDG_DATA_HOME, as root too, where the embedded PostgreSQL runs
    # as an unprivileged user: a directory it may enter (pytest's tmp_path is not one)
    with shared_temp_dir("jm-quickstart-") as base:
        home = base / "home with space"
        home.mkdir(mode=0o755)
        _quickstart(home)


def _quickstart(home: Path) -> None:
    env = _clean_env(home)
    env["TMPDIR"] = str(home)  # the example writes its report under the temp dir (a space)
    args = f"qs-{time.time_ns()}"
    try:
        first = subprocess.run([sys.executable, "examples/quickstart.py", args], cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=240, check=False)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "final status: D" in first.stdout
        assert "2020:" in first.stdout and "2021:" in first.stdout  # the report it wrote
        assert "done" in first.stderr  # progress lines while it ran
        state = json.loads((home / "data" / "jobmon" / "server.json").read_text())

        second = subprocess.run([sys.executable, "examples/quickstart.py", args], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=120,
                                check=False)
        assert second.returncode == 0, second.stderr[-3000:]
        assert "already exists" in second.stdout
        assert "new workflow" in second.stdout and "quickstart-v2" in second.stdout
        # the same local server answered both runs
        assert json.loads((home / "data" / "jobmon" / "server.json").read_text()) == state
    finally:
        server = home / "data" / "jobmon" / "server.json"
        if server.exists():
            pid = json.loads(server.read_text())["pid"]
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            else:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        os.kill(pid, 0)
                    except ProcessLookupError:
                        break
                    time.sleep(0.05)
