"""The peer: IHME Jobmon from PyPI, run on the same workloads as ours, alternating.

Two virtual environments (the PyPI server pins an older core than the client needs) in a
cache folder, ``$XDG_CACHE_HOME/jobmon-bench/peer`` (``~/.cache`` by default, or
``JOBMON_BENCH_PEER_DIR``), made once and reused. The three workarounds the PyPI packages need
here (a MySQLdb shim, the SQLite schema's length checks, the worker's PATH) are applied in
``install`` and ``peer_server``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.harness import Result, one_json_line

HERE = Path(__file__).resolve().parent

SERVER_PACKAGES = ("jobmon-core==3.2.2", "jobmon-server==3.2.2", "pymysql")
# the client breaks with core 3.2.2 (ImportError CyclicGraphError); its CLI needs pandas < 3
CLIENT_PACKAGES = ("jobmon-core==3.4.8", "jobmon-client==3.3.0", "pandas<3")
VERSIONS = "client 3.3.0 (core 3.4.8), server 3.2.2 on SQLite"

# The peer's defaults (30 s run heartbeat, 10 s distributor poll) dominate small workflows
# (10 sequential tasks: 61 s); cut to 1 s each, the lowest they take (whole seconds).
PEER_INTERVALS = {
    "JOBMON__HEARTBEAT__WORKFLOW_RUN_INTERVAL": "1",
    "JOBMON__DISTRIBUTOR__POLL_INTERVAL": "1",
}
FAIRNESS = ("peer: IHME Jobmon " + VERSIONS + ", cluster `sequential`, run heartbeat and "
            "distributor poll cut from 30 s and 10 s to 1 s")

_MYSQLDB_SHIM = '''"""Shim for the peer's server, which imports MySQLdb without declaring it."""
import pymysql
pymysql.install_as_MySQLdb()
from pymysql import *  # noqa: F401,F403
'''

_LENGTH_CHECK = re.compile(r"CHECK\s*\(\s*length\(\s*[\w\"]+\s*\)\s*<=\s*50\s*\)", re.IGNORECASE)


def cache_dir() -> Path:
    explicit = os.environ.get("JOBMON_BENCH_PEER_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "jobmon-bench" / "peer"


def relax_length_checks(schema: str) -> tuple[str, int]:
    """The dump with each ``CHECK (length(col) <= 50)`` made ``CHECK (1)``, and how many:
    the peer's client sends hashes longer than its server's SQLite schema allows."""
    return _LENGTH_CHECK.subn("CHECK (1)", schema)


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def _make_venv(venv: Path, packages: tuple[str, ...]) -> None:
    marker = venv / "bench-installed.txt"
    wanted = "\n".join(packages)
    if marker.exists() and marker.read_text() == wanted:
        return
    shutil.rmtree(venv, ignore_errors=True)
    print(f"installing {', '.join(packages)} into {venv} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *packages],
                   check=True)
    marker.write_text(wanted)


def install(root: Path) -> dict[str, Path]:
    """The two venvs and a template database with the length checks relaxed; made once."""
    root.mkdir(parents=True, exist_ok=True)
    server, client = root / "server-venv", root / "client-venv"
    _make_venv(server, SERVER_PACKAGES)
    _make_venv(client, CLIENT_PACKAGES)
    # workaround 1: the server imports MySQLdb; mysqlclient does not build here
    shim = _site_packages(server) / "MySQLdb.py"
    if not shim.exists():
        shim.write_text(_MYSQLDB_SHIM)
    # workaround 2: init_db, then reload the schema without its length checks
    template = root / "template.db"
    if not template.exists():
        raw = root / "raw.db"
        raw.unlink(missing_ok=True)
        env = _server_env(raw)
        subprocess.run([str(server / "bin" / "jobmon_server"), "init_db"], env=env,
                       check=True, capture_output=True)
        source = sqlite3.connect(raw)
        dump = "\n".join(source.iterdump())
        source.close()
        relaxed, count = relax_length_checks(dump)
        if count == 0:
            raise RuntimeError("the peer's schema had no length checks to relax; recipe stale?")
        partial = root / "template.db.part"
        partial.unlink(missing_ok=True)
        target = sqlite3.connect(partial)
        target.executescript(relaxed)
        target.close()
        partial.rename(template)
        raw.unlink()
    return {"server": server, "client": client, "template": template}


def _server_env(database: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBMON")}
    env["JOBMON__DB__SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def peer_server(paths: dict[str, Path], run_dir: Path) -> Iterator[dict[str, str]]:
    """The peer's flask server on a copy of the template database; yields the client's
    environment. The server is stopped (by its PID) whatever happens inside."""
    run_dir.mkdir(parents=True, exist_ok=True)
    database = run_dir / "jobmon.db"
    shutil.copyfile(paths["template"], database)
    port = _free_port()
    log = open(run_dir / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(paths["server"] / "bin" / "flask"), "--app", "jobmon.server.web.wsgi:app", "run",
         "--host", "127.0.0.1", "--port", str(port)],
        # not from our checkout: flask puts the working directory first on sys.path, where
        # our `jobmon` package would hide the peer's
        env=_server_env(database), stdout=log, stderr=log, start_new_session=True,
        cwd=run_dir,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the peer's server failed; see {run_dir / 'server.log'}")
            try:
                urllib.request.urlopen(url + "/health", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                time.sleep(0.1)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("JOBMON")}
        env.update(PEER_INTERVALS)
        env["JOBMON__HTTP__SERVICE_URL"] = url
        # workaround 3: the sequential cluster runs `worker_node_entry_point` from PATH
        env["PATH"] = f"{paths['client'] / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["HOME"] = str(run_dir)  # the client writes its config and logs under it
        yield env
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (its own session), SIGKILL after 30 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# name in the table, our workloads.py arguments, the peer's peer_workload.py arguments
WORKLOADS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "chain": ("chain of 10 `true`", ("chain", "10"), ("chain", "10")),
    "flat": ("200 independent `true`", ("levels", "1", "200"), ("levels", "1", "200")),
    "levels": ("5 levels x 20 `true`, each on all of the previous level",
               ("levels", "5", "20"), ("levels", "5", "20")),
}


def ratio(peer_seconds: float, our_seconds: float) -> float:
    """How many times longer the peer took (> 1: ours is faster)."""
    return peer_seconds / our_seconds


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def workload_results(label: str, ours: list[float], theirs: list[float]) -> list[Result]:
    """The table's rows for one workload: each side's median, and the ratio of medians."""
    our, peer = median(ours), median(theirs)
    spread = (f"median of {len(ours)}, alternating; ours {min(ours):.3f}-{max(ours):.3f} s, "
              f"peer {min(theirs):.3f}-{max(theirs):.3f} s")
    name = f"peer: {label}, run() to D"
    return [
        Result(name, "ours (local)", our, "s", "-", None, spread),
        Result(name, "IHME Jobmon (sequential)", peer, "s", "-", None, FAIRNESS),
        Result(name, "peer / ours", ratio(peer, our), "x", "-", None),
    ]


def run_peer(our_env: dict[str, str], quick: bool, repeats: int = 3) -> list[Result]:
    """Each workload on ours (``our_env``: a private server's) and on the peer, alternating."""
    root = cache_dir()
    paths = install(root)
    run_dir = root / f"run-{os.getpid()}-{time.time_ns()}"
    results: list[Result] = []
    try:
        with peer_server(paths, run_dir) as peer_env:
            for key, (label, our_args, peer_args) in WORKLOADS.items():
                ours: list[float] = []
                theirs: list[float] = []
                for index in range(1 if quick else repeats):
                    tag = f"{key}-{index}-{time.time_ns()}"
                    ours.append(one_json_line(
                        [sys.executable, str(HERE / "workloads.py"), *our_args, tag],
                        our_env, f"our {key}", 600)["seconds"])
                    theirs.append(one_json_line(
                        [str(paths["client"] / "bin" / "python"),
                         str(HERE / "peer_workload.py"), *peer_args, tag],
                        peer_env, f"the peer's {key}", 900, cwd=run_dir)["seconds"])
                results.extend(workload_results(label, ours, theirs))
    finally:
        if os.environ.get("JOBMON_BENCH_KEEP") != "1":
            shutil.rmtree(run_dir, ignore_errors=True)
    return results
