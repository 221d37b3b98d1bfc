"""Benchmark plumbing: a private server on a fresh embedded PostgreSQL, results, the table."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Result:
    scenario: str
    figure: str
    value: float
    unit: str
    target: str
    passed: bool | None
    detail: str = ""


@contextlib.contextmanager
def private_server(extra_env: dict[str, str] | None = None,
                   leftovers: list[Path] | None = None) -> Iterator[dict[str, str]]:
    """A `jobmon server` on its own embedded PostgreSQL; yields the environment for clients.

    Its directory is removed afterwards, or added to ``leftovers`` for the caller to remove
    once every scenario has run (see ``remove_leftovers``).
    """
    base = Path(tempfile.mkdtemp(prefix="jm-bench-"))
    base.chmod(0o755)
    ready = base / "ready.json"
    env = dict(os.environ)
    env.update({
        "XDG_DATA_HOME": str(base / "data"),
        "XDG_CONFIG_HOME": str(base / "config"),
        "JOBMON__EMBEDDED__DATA_DIR": str(base / "pgdata"),
        "JOBMON__DB__POOL_MAX_SIZE": "20",
        **(extra_env or {}),
    })
    env.pop("JOBMON__HTTP__SERVICE_URL", None)
    env.pop("JOBMON__DB__URL", None)
    log = open(base / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "jobmon", "server", "--port", "0", "--ready-file", str(ready)],
        env=env, stdout=log, stderr=log, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"benchmark server failed; see {base / 'server.log'}")
            time.sleep(0.02)
        env["JOBMON__HTTP__SERVICE_URL"] = json.loads(ready.read_text())["url"]
        env["JOBMON_BENCH_SERVER_PID"] = str(process.pid)
        yield env
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if leftovers is not None:
            leftovers.append(base)
        elif os.environ.get("JOBMON_BENCH_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)


def embedded_dsn(data_dir: Path) -> str:
    """The DSN of the embedded PostgreSQL running on ``data_dir`` (its port from its
    postmaster.pid), for a workload that reads the private server's database directly."""
    from jobmon.server.embedded import EmbeddedPostgres

    port = int((data_dir / "postmaster.pid").read_text().splitlines()[3].strip())
    return EmbeddedPostgres(data_dir, port).dsn


def one_json_line(command: list[str], env: dict[str, str], what: str,
                  timeout: float, cwd: Path | None = None) -> dict[str, float]:
    """Run a workload in a fresh process; the figures of the JSON line it prints last."""
    completed = subprocess.run(command, env=env, capture_output=True, text=True,
                               timeout=timeout, check=False, cwd=cwd)
    if completed.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def remove_leftovers(leftovers: list[Path]) -> None:
    """Remove the scenarios' directories (a million-task run leaves gigabytes behind).

    Not between scenarios: on ext4 without a journal (this machine's disk), allocating an
    inode skips every inode of its group deleted in the last 60 s (360 s while the inode
    table block is dirty), so thousands of deletions make each file created in the next
    minutes cost 0.3-0.9 ms of kernel CPU instead of 10-40 us, and the local scenarios
    create three files per task.
    """
    if os.environ.get("JOBMON_BENCH_KEEP") == "1":
        return
    for base in leftovers:
        shutil.rmtree(base, ignore_errors=True)


def machine_speed(when: str) -> Result:
    """A fixed pure-Python loop, to compare runs made on machines (or hours) of other speeds.

    Every scenario here is CPU-bound on 2 cores; on a shared host the same machine has run
    this loop in 0.74 s and, an hour later, in 1.38 s.
    """
    started = time.perf_counter()
    total = 0
    for step in range(10_000_000):
        total += step
    return Result("machine speed: a 10M-step Python loop", when,
                  time.perf_counter() - started, "s", "-", None)


def file_creation_us(directory: Path, count: int = 200) -> float:
    """Microseconds to create an empty file in ``directory`` now (the files are kept)."""
    probe = Path(tempfile.mkdtemp(prefix="file-probe-", dir=directory))
    started = time.perf_counter()
    for index in range(count):
        os.close(os.open(probe / str(index), os.O_WRONLY | os.O_CREAT, 0o644))
    return (time.perf_counter() - started) / count * 1e6


def cpu_seconds(root_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the live processes under ``root_pid``
    (itself included), summed by kind: "postgres" for PostgreSQL, "server" for the rest."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    kinds: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        name_end = stat.rindex(")")
        fields = stat[name_end + 2:].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
        kinds[pid] = "postgres" if b"postgres" in command.split(b"\0")[0] else "server"
    totals = {"server": 0.0, "postgres": 0.0}
    for pid, seconds in used.items():
        ancestor = pid
        while ancestor not in (0, 1, root_pid) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root_pid:
            totals[kinds[pid]] += seconds
    return totals


def print_table(results: list[Result]) -> None:
    header = ("scenario", "figure", "value", "target", "pass")
    rows = [
        (r.scenario, r.figure, f"{r.value:,.3f} {r.unit}".strip(), r.target,
         "-" if r.passed is None else ("PASS" if r.passed else "FAIL"))
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    details = [r for r in results if r.detail]
    if details:
        print()
    for r in details:
        print(f"{r.scenario}, {r.figure}: {r.detail}")


def write_json(results: list[Result], path: Path, quick: bool,
               extra: dict[str, object] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "quick": quick,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "results": [asdict(result) for result in results],
        **(extra or {}),
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
