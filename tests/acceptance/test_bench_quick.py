"""`python -m bench --quick`: every scenario runs at a small size and reports a figure."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# it drives the dev Slurm too: with the Slurm tests (one pytest-xdist worker), not beside them
pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("slurm")]


def test_every_benchmark_scenario_runs_at_a_small_size(tmp_path: Path) -> None:
    output = tmp_path / "quick.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBMON__")}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(output)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=560, check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "scenario" in completed.stdout  # the table was printed
    payload = json.loads(output.read_text())
    assert payload["quick"] is True
    by_scenario: dict[str, list[dict[str, object]]] = {}
    for result in payload["results"]:
        by_scenario.setdefault(str(result["scenario"]), []).append(result)
    names = " ".join(by_scenario)
    for expected in ("chain", "levels", "bind", "build_from_workflow_id", "heartbeats",
                     "no-op plugin", "history", "Slurm"):
        assert expected in names, f"no {expected!r} scenario in {sorted(by_scenario)}"
    allowed_skips = set()
    if shutil.which("wrk") is None and os.geteuid() != 0:
        allowed_skips.add("heartbeats")  # as root, scripts/test.sh installs wrk
    if os.environ.get("JOBMON_REQUIRE_SLURM") != "1":
        allowed_skips.add("Slurm")
    for scenario, results in by_scenario.items():
        for result in results:
            if result["figure"] == "skipped":
                assert any(word in scenario for word in allowed_skips), (scenario, result)
                continue
            value = float(result["value"])  # type: ignore[arg-type]
            assert math.isfinite(value) and value > 0, (scenario, result)
