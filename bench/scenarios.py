"""The scenarios. Each runs its workflow in a child process against a private server."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import slurm_floor
from bench.harness import Result, cpu_seconds, file_creation_us, one_json_line
from jobmon import endpoints

HERE = Path(__file__).resolve().parent


def _run_script(env: dict[str, str], *args: str, timeout: float = 900) -> dict[str, float]:
    """Run bench/workloads.py in a fresh interpreter; it prints one JSON line of figures."""
    return one_json_line([sys.executable, str(HERE / "workloads.py"), *args], env,
                         f"workload {args}", timeout)


# The short local scenarios take 1-3 s, and a few hundred milliseconds of them depend on
# how fast this machine's disk creates files at that moment (see README): each runs this
# many times, and the figure is the median.
REPEATS = 3


def _median_seconds(env: dict[str, str], quick: bool, *args: str) -> tuple[float, str]:
    """The median run of a workload (each with its own workflow_args), and the range.

    The detail also gives what creating a file cost where the tasks' logs go, just before:
    each task creates three (see ``harness.remove_leftovers`` for why it varies).
    """
    creating = file_creation_us(Path(env["XDG_DATA_HOME"]).parent)
    runs = sorted(
        _run_script(env, *args, f"{args[0]}-{time.time_ns()}")["seconds"]
        for _ in range(1 if quick else REPEATS)
    )
    spread = f"median of {len(runs)}: {runs[0]:.3f}-{runs[-1]:.3f} s; " if len(runs) > 1 else ""
    return runs[len(runs) // 2], f"{spread}file creation {creating:.0f} us"


def _floor(env: dict[str, str], quick: bool, name: str, count: int) -> dict[str, float]:
    """bench/floor_workload.py: the scenario's parts without Jobmon, on the same disk and
    database (the median of REPEATS runs, as the scenario's own figure; one with --quick)."""
    runs = []
    for _ in range(1 if quick else REPEATS):
        folder = tempfile.mkdtemp(prefix=f"floor-{name}-", dir=Path(env["XDG_DATA_HOME"]).parent)
        try:
            runs.append(one_json_line(
                [sys.executable, str(HERE / "floor_workload.py"), name, str(count), folder],
                env, f"floor {name}", timeout=300))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return sorted(runs, key=lambda figures: figures["seconds"])[len(runs) // 2]


def levels_of_arrays(env: dict[str, str], quick: bool) -> list[Result]:
    levels, width = (3, 20) if quick else (10, 100)
    seconds, spread = _median_seconds(env, quick, "levels", str(levels), str(width))
    total = levels * width
    rate = total / seconds
    floor = _floor(env, quick, "spawn", total)["per_second"]
    name = f"{levels} levels x {width}-task arrays of `true`, local"
    return [
        Result(name, "wall time", seconds, "s", "-", None, f"{total} tasks; {spread}"),
        # issue 15's target (the first benchmark issue's was 500)
        Result(name, "tasks per second", rate, "tasks/s", ">= 1,000",
               None if quick else rate >= 1000),
        Result(name, "floor: the spawns alone", floor, "tasks/s", "-", None,
               f"jobmon's spawn of {total} `true` (wrapper, three files), two at a time, no "
               f"server: the most these cores and this disk start; the scenario is "
               f"{rate / floor:.0%} of it"),
    ]


def chain(env: dict[str, str], quick: bool) -> list[Result]:
    """The latency of one hop: each task starts when its upstream ended (issue 15: 10 ms)."""
    length = 10 if quick else 100
    seconds, spread = _median_seconds(env, quick, "chain", str(length))
    floor = _floor(env, quick, "hop", length)["per_hop_ms"]
    name = f"chain of {length} tasks of `true`, local"
    return [
        Result(name, "run() to D", seconds, "s", "<= 1.2 s",
               None if quick else seconds <= 1.2, spread),
        Result(name, "per hop", seconds / length * 1000, "ms", "<= 10 ms",
               None if quick else seconds / length <= 0.010),
        Result(name, "floor: a hop's parts alone", floor, "ms", "-", None,
               "three commits, each woken by NOTIFY on another connection, and jobmon's "
               "spawn of `true` to its exit, on the same database and disk; no server"),
    ]


def _slurm_problem(env: dict[str, str]) -> str | None:
    """Why the dev Slurm cannot run the benchmark, or None (sets SLURM_CONF when found)."""
    if "SLURM_CONF" not in env:
        conf = Path(env.get("JOBMON_SLURM_DIR", "/tmp/jobmon-slurm")) / "slurm.conf"
        if conf.exists():
            env["SLURM_CONF"] = str(conf)
    try:
        ping = subprocess.run(["scontrol", "ping"], env=env, capture_output=True, text=True,
                              timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"no Slurm here ({error}); start deploy/slurm-dev/start.sh"
    if ping.returncode != 0 or "UP" not in ping.stdout:
        return "the Slurm controller does not answer; start deploy/slurm-dev/start.sh"
    return None


def slurm_arrays(env: dict[str, str], quick: bool) -> list[Result]:
    """Slurm: submit 10,000 tasks as arrays; measure until all are LAUNCHED, and the drain."""
    count = 500 if quick else 10_000
    name = f"Slurm: submit {count:,} tasks as arrays"
    env = dict(env)
    problem = _slurm_problem(env)
    if problem is not None:
        return [Result(name, "skipped", float("nan"), "", "-", None, problem)]
    cpus = subprocess.run(["sinfo", "-h", "-o", "%c"], env=env, capture_output=True, text=True,
                          timeout=20, check=False).stdout.split()
    # Queue and claim the array whole: one sbatch. On the one-node dev cluster the first
    # jobs start at once and starve the submit path of CPU; batches of 1000-2000 (the
    # defaults) then take ~26 s on 2 real cores instead of ~1.3 s.
    env.update(JOBMON__SWARM__QUEUE_BATCH_SIZE=str(count),
               JOBMON__DISTRIBUTOR__BATCH_SIZE=str(count))
    # By default the drain is watched for a while, not to the end: on the 2-core dev cluster
    # every job's `jobmon worker` competes for the same cores, and all of it takes ~40 min.
    # JOBMON_BENCH_SLURM_DRAIN=1 waits for the whole drain.
    drain_all = os.environ.get("JOBMON_BENCH_SLURM_DRAIN") == "1"
    # at least this long, and on until one task is DONE (slurm_workload.py)
    window = 10 if quick else 60
    figures = one_json_line(
        [sys.executable, str(HERE / "slurm_workload.py"), str(count),
         f"bench-slurm-{time.time_ns()}", "all" if drain_all else str(window)],
        env, "Slurm workload", timeout=4 * 3600 if drain_all else 1200)
    detail = (f"node CPUs {cpus[0] if cpus else '?'}; bind {figures['bind']:.1f} s; "
              f"queue and claim batches of {count}")
    drain = (count / figures["drained"] if drain_all
             else figures["done_in_window"] / figures["window"])
    return [
        Result(name, "run() to all LAUNCHED", figures["launched"], "s", "<= 5 s",
               None if quick else figures["launched"] <= 5.0, detail),
        Result(name, "run() to D (drained)", figures["drained"], "s", "-", None,
               f"{drain:.1f} tasks/s") if drain_all else
        # issue 15's target, at 64 virtual CPUs
        Result(name, "drain after launch", drain, "tasks/s", ">= 25",
               None if quick or cpus[:1] != ["64"] else drain >= 25,
               f"{int(figures['done_in_window'])} DONE in the "
               f"{figures['window']:.0f} s after the last launch"),
        # after the drain, never beside it: the ceiling that drain had on this cluster
        *slurm_floors(env, 200 if quick else 2_000, None if drain_all else window, drain),
    ]


def slurm_floors(env: dict[str, str], count: int, window: float | None,
                 drain: float) -> list[Result]:
    """What the same cluster drains with no Jobmon at all: bare arrays of ``count`` jobs
    of `true`, then of an empty interpreter (each alone on an empty cluster)."""
    python = shlex.quote(sys.executable)
    rows = []
    for what, body in (("`true`", "true"),
                       ("`python -I -c pass`", f"exec {python} -I -c pass")):
        name = f"Slurm floor: a bare array of {count:,} {what} jobs, no Jobmon"
        # the cancelled jobs of the drain (or of the floor before) take a while to go
        waited = slurm_floor.wait_until_empty(env)
        if waited is None:
            rows.append(Result(name, "skipped", float("nan"), "", "-", None,
                               "the cluster still had jobs 300 s after the last measurement"))
            continue
        floor = slurm_floor.bare_array(env, count, body, window)
        rate = floor.completed / floor.seconds
        ended = ("when the last ended" if floor.all_done
                 else "the window, the rest cancelled")
        ratio = f"the Jobmon drain is {drain / rate:.0%} of it; " if rate else ""
        rows.append(Result(
            name, "jobs completed per second", rate, "jobs/s", "-", None,
            f"{floor.completed} COMPLETED, {floor.failed} failed, in {floor.seconds:.1f} s "
            f"from the sbatch ({ended}); {ratio}waited {waited:.1f} s for an empty cluster first"))
    return rows


def worker_cpu(env: dict[str, str], quick: bool) -> list[Result]:
    """CPU per `jobmon worker` run (the Slurm drain's ceiling on a node), per entry point."""
    count = 9 if quick else 60
    figures = one_json_line(
        [sys.executable, str(HERE / "worker_workload.py"), str(count),
         f"bench-worker-{time.time_ns()}"], env, "worker workload", timeout=600)
    name = "jobmon worker CPU per job (instance of `true`)"
    installed = figures["installed"]
    runs = count // len(figures)
    return [
        Result(name, "job script, jobmon installed", installed * 1000, "ms", "<= 40 ms",
               None if quick else installed <= 0.040,
               f"the job script's command line, jobmon installed from a wheel; {runs} runs, "
               "user + system, the command's shell included"),
        Result(name, "job script, this tree's venv", figures["lean"] * 1000, "ms", "-", None,
               "the same with the editable install (its import hook: ~20 ms a start)"),
        Result(name, "`jobmon worker` (CLI)", figures["cli"] * 1000, "ms", "-", None,
               f"python -m jobmon worker; {runs} runs, alternating with the above"),
    ]


# the private server's environment for a scenario, where it differs from the default
SERVER_ENV: dict[str, dict[str, str]] = {"heartbeats-2p": {"JOBMON__SERVER__PROCESSES": "2"}}

SCENARIOS: dict[str, Callable[[dict[str, str], bool], list[Result]]] = {
    "chain": chain,
    "levels": levels_of_arrays,
}


def _scale_script(env: dict[str, str], *args: str, timeout: float = 1800) -> dict[str, float]:
    return one_json_line([sys.executable, str(HERE / "scale_workload.py"), *args], env,
                         f"workload {args}", timeout)


def bind_and_build(env: dict[str, str], quick: bool) -> list[Result]:
    """Bind 100,000 tasks (10 templates, 100,000 edges) over HTTP; rebuild the swarm from it."""
    tasks = 5_000 if quick else 100_000
    figures = _scale_script(env, "bind", str(tasks), str(tasks), f"bind-{time.time_ns()}")
    bind_seconds, build_seconds = figures["bind_seconds"], figures["build_seconds"]
    return [
        Result(f"bind {tasks:,} tasks, 10 templates, {tasks:,} edges (HTTP)", "wall time",
               bind_seconds, "s", "<= 3 s", None if quick else bind_seconds <= 3.0),
        Result(f"{tasks:,}-task workflow, build_from_workflow_id (resume)", "wall time",
               build_seconds, "s", "<= 2 s", None if quick else build_seconds <= 2.0,
               f"{int(figures['beats'])} run heartbeats while reading"),
    ]


_WRK_SCRIPT = """
local first, count, n = 0, 1, 0
function init(args) first = tonumber(args[1]); count = tonumber(args[2]) end
function request()
  n = n + 1
  local id = first + (n %% count)
  return wrk.format("{method}", "{path}",
    {["Content-Type"] = "application/json"},
    '{"task_instance_ids":[' .. id .. '],"next_report_seconds":90}')
end
"""


def _wrk_figures(output: str) -> tuple[float, float, int]:
    """Requests per second, p99 latency in ms, and non-2xx answers, from `wrk --latency`."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99_value, p99_unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", output).groups()  # type: ignore[union-attr]
    p99 = float(p99_value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_unit]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, p99, int(bad.group(1)) if bad else 0


def heartbeats(env: dict[str, str], quick: bool, processes: int = 1) -> list[Result]:
    """Worker heartbeats accepted by ``processes`` server processes on one port (the
    server's environment says how many: SERVER_ENV), from 200 concurrent senders."""
    senders, seconds = 200, (3 if quick else 15)
    name = (f"worker heartbeats, {senders} concurrent senders, "
            + ("one server process" if processes == 1 else f"{processes} server processes"))
    wrk = shutil.which("wrk")
    if wrk is None:
        return [Result(name, "skipped", float("nan"), "", "-", None,
                       "wrk is not installed (apt-get install wrk)")]
    setup = _scale_script(env, "heartbeat-setup", str(senders), f"hb-{time.time_ns()}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT.replace("%%", "%")
                     .replace("{method}", endpoints.INSTANCE_HEARTBEAT.method)
                     .replace("{path}", endpoints.INSTANCE_HEARTBEAT.path))
    server_pid = int(env["JOBMON_BENCH_SERVER_PID"])
    before = cpu_seconds(server_pid)
    completed = subprocess.run(
        [wrk, "-t2", f"-c{senders}", f"-d{seconds}s", "--latency", "-s", script.name,
         env["JOBMON__HTTP__SERVICE_URL"], "--", str(int(setup["first_id"])), str(senders)],
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )
    after = cpu_seconds(server_pid)
    Path(script.name).unlink()
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed: {completed.stderr}")
    rate, p99, bad = _wrk_figures(completed.stdout)
    # where the cores went: the server processes near one core each means the server
    # tier is the limit; less, with PostgreSQL and wrk taking the rest, means the host is
    used = {kind: (after[kind] - before[kind]) / seconds for kind in after}
    detail = (f"{bad} non-2xx answers" if bad else "every answer 200") + (
        f"; cores used: server processes {used['server']:.2f}, PostgreSQL "
        f"{used['postgres']:.2f} (wrk and the rest of the host not counted)")
    if processes > 1:  # the scaling figure: no target, compare with the one-process line
        return [Result(name, "heartbeats per second", rate, "/s", "-",
                       None if quick or bad == 0 else False, detail),
                Result(name, "p99 latency", p99, "ms", "-", None)]
    return [
        Result(name, "heartbeats per second", rate, "/s", ">= 5,000",
               None if quick else rate >= 5000 and bad == 0, detail),
        Result(name, "p99 latency", p99, "ms", "<= 50 ms", None if quick else p99 <= 50),
    ]


def million(env: dict[str, str], quick: bool) -> list[Result]:
    """1,000,000 tasks: bind, then run on the no-op "dummy" cluster; peak memory and time."""
    tasks = 20_000 if quick else 1_000_000
    # each scenario has a fresh server: its peak memory is this run's
    server_pid = int(env["JOBMON_BENCH_SERVER_PID"])
    before = cpu_seconds(server_pid)
    figures = _scale_script(env, "million", str(tasks), f"million-{time.time_ns()}",
                            timeout=3600)
    after = cpu_seconds(server_pid)
    server_peak = _peak_rss(server_pid)
    name = f"{tasks:,} tasks: bind, then run on a no-op plugin"
    gib = 1024**3
    # where the time goes: every process's CPU, against what the machine's cores give
    used = {"client": figures["client_cpu_seconds"],
            "distributor": figures["distributor_cpu_seconds"],
            "server": after["server"] - before["server"],
            "PostgreSQL": after["postgres"] - before["postgres"]}
    cores = os.cpu_count() or 1
    spent = ", ".join(f"{part} {seconds:.1f}" for part, seconds in used.items())
    return [
        # issue 15's target (the first benchmark issue's was 120 s)
        Result(name, "total time", figures["seconds"], "s", "<= 60 s",
               None if quick else figures["seconds"] <= 60,
               f"CPU-seconds: {spent}; {sum(used.values()):.1f} in all, "
               f"{sum(used.values()) / cores:.1f} s of all {cores} cores"),
        # issue 15's target for the client (it was 2 GiB until the client fitted in 1)
        Result(name, "client peak RSS", figures["client_peak_rss"] / gib, "GiB", "<= 1 GiB",
               None if quick else figures["client_peak_rss"] <= gib),
        Result(name, "server peak RSS", server_peak / gib, "GiB", "<= 2 GiB",
               None if quick else server_peak <= 2 * gib),
    ]


def _peak_rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) * 1024
    return float("nan")


def history(env: dict[str, str], quick: bool) -> list[Result]:
    """The cost of the history: a mid-size run on the no-op plugin, then its history's rows,
    bytes, and the time to write the task history again in one statement."""
    tasks = 5_000 if quick else 100_000
    figures = _scale_script(env, "million", str(tasks), f"history-{time.time_ns()}",
                            timeout=1800)
    cost = one_json_line(
        [sys.executable, str(HERE / "history_cost.py"), env["JOBMON__EMBEDDED__DATA_DIR"]],
        env, "history figures", timeout=600)
    name = f"history of {tasks:,} tasks run on a no-op plugin"
    rows = sum(value for key, value in cost.items() if key.endswith("_status_rows"))
    size = sum(value for key, value in cost.items() if key.endswith("_status_bytes"))
    by_table = ", ".join(
        f"{key.removesuffix('_rows')} {int(value):,}" for key, value in cost.items()
        if key.endswith("_status_rows"))
    mib = 1024**2
    return [
        Result(name, "run total (bind and run)", figures["seconds"], "s", "-", None),
        Result(name, "history rows per task", rows / cost["tasks"], "rows", "-", None,
               by_table),
        Result(name, "history on disk", size / mib, "MiB", "-", None,
               f"{size / cost['database_bytes']:.0%} of the database "
               f"({cost['database_bytes'] / mib:,.0f} MiB)"),
        Result(name, "task history written again in one INSERT",
               cost["task_status_rewrite_seconds"], "s", "-", None,
               f"{int(cost['task_status_rows']):,} rows with their index; the A/B figures "
               "in bench/README.md give the cost in run time"),
    ]


SCENARIOS.update({
    "history": history,
    "worker": worker_cpu,
    "bind": bind_and_build,
    "heartbeats": heartbeats,
    # the same against `jobmon server --processes 2` (SO_REUSEPORT): the scaling of the
    # server tier on this host
    "heartbeats-2p": lambda env, quick: heartbeats(env, quick, processes=2),
    "million": million,
    # last: its cancelled jobs take a while to go, and would share the cores with the next
    "slurm": slurm_arrays,
})
