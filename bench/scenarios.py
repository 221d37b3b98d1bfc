"""The scenarios. Each runs its workflow in a child process against a private server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import Result

HERE = Path(__file__).resolve().parent


def _run_script(env: dict[str, str], *args: str, timeout: float = 900) -> dict[str, float]:
    """Run bench/workloads.py in a fresh interpreter; it prints one JSON line of figures."""
    completed = subprocess.run(
        [sys.executable, str(HERE / "workloads.py"), *args],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"workload {args} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def levels_of_arrays(env: dict[str, str], quick: bool) -> list[Result]:
    levels, width = (3, 20) if quick else (10, 100)
    figures = _run_script(env, "levels", str(levels), str(width), f"levels-{time.time_ns()}")
    total = levels * width
    rate = total / figures["seconds"]
    return [
        Result(f"{levels} levels x {width}-task arrays of `true`, local", "wall time",
               figures["seconds"], "s", "-", None, f"{total} tasks"),
        Result(f"{levels} levels x {width}-task arrays of `true`, local", "tasks per second",
               rate, "tasks/s", ">= 500", None if quick else rate >= 500),
    ]


def chain(env: dict[str, str], quick: bool) -> list[Result]:
    length = 10
    figures = _run_script(env, "chain", str(length), f"chain-{time.time_ns()}")
    seconds = figures["seconds"]
    return [Result(f"chain of {length} tasks of `true`, local", "run() to D", seconds, "s",
                   "<= 1 s", None if quick else seconds <= 1.0)]


SCENARIOS: dict[str, Callable[[dict[str, str], bool], list[Result]]] = {
    "chain": chain,
    "levels": levels_of_arrays,
}
