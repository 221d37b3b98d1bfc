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
def private_server(extra_env: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """A `jobmon server` on its own embedded PostgreSQL; yields the environment for clients."""
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
        # a million-task run leaves gigabytes of database behind
        if os.environ.get("JOBMON_BENCH_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)


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


def write_json(results: list[Result], path: Path, quick: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "quick": quick,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "results": [asdict(result) for result in results],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
