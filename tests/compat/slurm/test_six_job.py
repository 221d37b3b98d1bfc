"""Jobmon's deployment smoke test, dev/workflows/six_job_test.py, on the dev Slurm cluster."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.helpers import fetch
from tests.support import ServerThread

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.timeout(420)]

PROGRAMS = Path(__file__).resolve().parents[1] / "programs"


def test_six_job_smoke_test_on_slurm(server: ServerThread, tmp_path: Path) -> None:
    """Follows dev/workflows/six_job_test.py and six_job_test_resources.yaml on cluster
    "slurm": tool resources (memory as a bare number of GiB, runtime in seconds, a queue,
    log folders) and phase_1's own queue and runtime, read from the file."""
    for name in ("six_job_test.py", "six_job_test_resources.yaml"):
        shutil.copy(PROGRAMS / name, tmp_path / name)
    resources = tmp_path / "six_job_test_resources.yaml"
    resources.write_text(resources.read_text().replace("LOG_DIR", str(tmp_path / "logs")))
    done = subprocess.run([sys.executable, str(tmp_path / "six_job_test.py"), "slurm"],
                          capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr[-4000:]}"
    assert "All good, dancing pixies" in done.stdout
    rows = fetch(server.dsn, "SELECT t.name, ti.compute_resources FROM task t "
                             "JOIN task_instance ti ON ti.task_id = t.id ORDER BY t.name")
    by_name = {row["name"]: row["compute_resources"] for row in rows}
    assert sorted(by_name) == ["t1", "t2", "t3", "t4", "t5", "t6"]
    assert by_name["t1"]["queue"] == "batch" and by_name["t1"]["runtime"] == 90_000
    assert by_name["t2"]["queue"] == "debug" and by_name["t2"]["runtime"] == 60
    assert by_name["t2"]["memory"] == 1024
    # the tool's stdout and stderr folders hold the tasks' logs
    assert {path.name.split(".")[0] for path in (tmp_path / "logs").rglob("t*.*")} >= {
        "t1", "t6"}
