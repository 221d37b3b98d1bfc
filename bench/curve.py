"""A curve, not a point: bind and run at several sizes on the no-op plugin; seconds per task.

Each size runs against its own fresh private server (the caller's); the plot is a PNG of
seconds per task against size (log x), written beside the JSON when matplotlib is installed
(``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.harness import Result, one_json_line

HERE = Path(__file__).resolve().parent

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000, 10_000)
PHASES = ("build", "bind", "run")
# the target: cost per task flat within 1.5x from the smallest size to the largest
FLATNESS_TARGET = 1.5
TEMPLATES_MIN = 10  # the workload spreads its tasks over 10 templates


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"10k,100k,1M"`` -> (10000, 100000, 1000000); a clear error for anything else."""
    sizes = []
    for part in text.split(","):
        token = part.strip().lower().replace("_", "")
        factor = {"k": 1_000, "m": 1_000_000}.get(token[-1:], 1) if token else 1
        digits = token[:-1] if factor != 1 else token
        if not digits.isdigit() or int(digits) * factor < TEMPLATES_MIN:
            raise ValueError(f"bad curve size {part!r}: a whole number of tasks >= "
                             f"{TEMPLATES_MIN}, e.g. 10k, 100k or 1M")
        sizes.append(int(digits) * factor)
    return tuple(sorted(set(sizes)))


def measure(env: dict[str, str], tasks: int) -> dict[str, float]:
    return one_json_line(
        [sys.executable, str(HERE / "scale_workload.py"), "curve", str(tasks),
         f"curve-{tasks}-{time.time_ns()}"],
        env, f"curve at {tasks} tasks", timeout=3 * 3600)


def per_task(point: dict[str, float]) -> dict[str, float]:
    """Seconds per task of each phase and in all, from one size's figures."""
    tasks = point["tasks"]
    costs = {phase: point[f"{phase}_seconds"] / tasks for phase in PHASES}
    costs["total"] = point["seconds"] / tasks
    return costs


def flatness(points: list[dict[str, float]]) -> float:
    """The largest size's cost per task over the smallest's (1.0: perfectly flat)."""
    ordered = sorted(points, key=lambda point: point["tasks"])
    return per_task(ordered[-1])["total"] / per_task(ordered[0])["total"]


def curve_results(points: list[dict[str, float]], quick: bool) -> list[Result]:
    results = []
    gib = 1024**3
    for point in sorted(points, key=lambda p: p["tasks"]):
        costs = per_task(point)
        results.append(Result(
            f"curve: {int(point['tasks']):,} tasks, bind then run on a no-op plugin",
            "seconds per task", costs["total"] * 1e6, "us", "-", None,
            f"total {point['seconds']:.2f} s: build {point['build_seconds']:.2f} s "
            f"({costs['build'] * 1e6:.0f} us/task), bind {point['bind_seconds']:.2f} s "
            f"({costs['bind'] * 1e6:.0f} us/task), run {point['run_seconds']:.2f} s "
            f"({costs['run'] * 1e6:.0f} us/task); client peak RSS "
            f"{point['client_peak_rss'] / gib:.2f} GiB"
            + (f", client CPU {point['client_cpu_seconds']:.1f} s"
               if "client_cpu_seconds" in point else "")))
    if len(points) > 1:
        ratio = flatness(points)
        sizes = sorted(int(p["tasks"]) for p in points)
        results.append(Result(
            f"curve: cost per task, {sizes[-1]:,} over {sizes[0]:,} tasks", "ratio",
            ratio, "x", f"<= {FLATNESS_TARGET}",
            None if quick or sizes[-1] < 1_000_000 else ratio <= FLATNESS_TARGET))
    return results


def plot(points: list[dict[str, float]], path: Path) -> str:
    """Write the PNG; returns a line saying where, or how to get matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return ("no plot: matplotlib is not installed (pip install -e '.[bench]'); "
                "the figures are in the table and the JSON")
    matplotlib.use("Agg")
    from matplotlib import pyplot

    ordered = sorted(points, key=lambda point: point["tasks"])
    sizes = [point["tasks"] for point in ordered]
    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    for phase in (*PHASES, "total"):
        axes.plot(sizes, [per_task(point)[phase] * 1e6 for point in ordered], marker="o",
                  label=phase, linewidth=2.5 if phase == "total" else 1.2)
    axes.set_xscale("log")
    axes.set_xlabel("tasks in the workflow")
    axes.set_ylabel("microseconds per task")
    axes.set_ylim(bottom=0)
    axes.set_title("Bind and run on the no-op plugin: cost per task against size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return f"plot written to {path}"
