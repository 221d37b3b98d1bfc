"""Measure what one task costs the server tier: requests, rows written, database bytes.

    python -m bench.sizing --database-url postgresql://postgres@127.0.0.1:5432/postgres \\
        [--tasks 100000] [--slurm-tasks 300]

For each workload it makes a fresh database on that PostgreSQL server, starts one
`jobmon server` on it behind nginx (deploy/production/nginx/jobmon-proxy.conf), runs a
workflow of `true` tasks whose clients all talk to nginx, stops the server (so that its
backends flush their statistics), and reads:
- requests, from nginx's access log, by route (ids replaced by N);
- rows inserted, updated and deleted, from pg_stat_user_tables;
- bytes, from pg_total_relation_size of every table and pg_database_size;
- the most connections the server held, sampled from pg_stat_activity during the run.
The workloads: ``--tasks`` on the no-op cluster "dummy" (10 templates, each task after one of
the template before), and ``--slurm-tasks`` on the dev Slurm cluster, where each task is a
job whose `jobmon worker` reports to the server (skipped if Slurm does not answer).
Prints the figures as JSON; deploy/production/README.md shows how they become a sizing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
PROXY = ROOT / "deploy" / "production" / "nginx" / "jobmon-proxy.conf"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _nginx_conf(base: Path, port: int, server_port: int) -> str:
    temp = "\n".join(f"{kind}_temp_path {base}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log;
events {{ worker_connections 4096; }}
http {{
    log_format plain '$request_method $uri $status';
    access_log {base}/access.log plain;
    {temp}
    upstream jobmon_servers {{ server 127.0.0.1:{server_port}; keepalive 64; }}
    server {{ listen 127.0.0.1:{port}; location / {{ include {PROXY}; }} }}
}}
"""


def _route(path: str) -> str:
    return re.sub(r"/\d+", "/N", path)


class ConnectionSampler:
    """The most connections to ``database`` seen (less the sampler's own)."""

    def __init__(self, admin_dsn: str, database: str) -> None:
        self.admin_dsn, self.database, self.most = admin_dsn, database, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        connection = await asyncpg.connect(self.admin_dsn)
        try:
            while not self.stop.is_set():
                count = await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", self.database)
                self.most = max(self.most, int(count))
                await asyncio.sleep(0.05)
        finally:
            await connection.close()


async def _database_figures(dsn: str) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd, "
            "pg_total_relation_size(relid) AS bytes FROM pg_stat_user_tables "
            "ORDER BY relname")
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()
    return {"database_bytes": int(size),
            "tables": {row["relname"]: {key: int(row[key]) for key in
                                        ("n_tup_ins", "n_tup_upd", "n_tup_del",
                                         "n_tup_hot_upd", "bytes")} for row in rows}}


async def _admin(admin_dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _with_database(admin_dsn: str, name: str) -> str:
    head, _, _ = admin_dsn.rpartition("/")
    return f"{head}/{name}"


def measure(admin_dsn: str, cluster: str, tasks: int, nginx: str) -> dict[str, Any]:
    """One workload on a fresh database behind nginx; its figures."""
    database = f"jm_sizing_{cluster}_{time.time_ns()}"
    asyncio.run(_admin(admin_dsn, f'CREATE DATABASE "{database}"'))
    dsn = _with_database(admin_dsn, database)
    base = Path(tempfile.mkdtemp(prefix="jm-sizing-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        server_port, port = _free_port(), _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBMON__")}
        env.update(XDG_DATA_HOME=str(base / "data"), XDG_CONFIG_HOME=str(base / "config"))
        server_log = open(base / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-m", "jobmon", "server", "--database-url", dsn, "--port",
             str(server_port)], env=env, stdout=server_log, stderr=server_log,
            start_new_session=True)
        processes.append(server)
        (base / "nginx.conf").write_text(_nginx_conf(base, port, server_port))
        processes.append(subprocess.Popen(
            [nginx, "-p", str(base), "-e", str(base / "error.log"), "-c",
             str(base / "nginx.conf"), "-g", "daemon off;"], start_new_session=True))
        _wait(lambda: _listening(server_port) and _listening(port), 60, "server and nginx")
        sampler = ConnectionSampler(admin_dsn, database)
        sampler.thread.start()
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "bench.sizing", "--workload", cluster, str(tasks)],
            cwd=ROOT, env={**env, "JOBMON__HTTP__SERVICE_URL": f"http://127.0.0.1:{port}"},
            capture_output=True, text=True, timeout=3600, check=False)
        seconds = time.perf_counter() - started
        sampler.stop.set()
        sampler.thread.join(10)
        if completed.returncode != 0:
            raise RuntimeError(f"{cluster} workload failed:\n{completed.stderr[-3000:]}")
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        server_log.close()
        time.sleep(1.0)  # the server's backends report their statistics as they exit
        routes: collections.Counter[str] = collections.Counter()
        for line in (base / "access.log").read_text().splitlines():
            method, path, _status = line.split()
            routes[f"{method} {_route(path)}"] += 1
        figures = asyncio.run(_database_figures(dsn))
        return {"cluster": cluster, "tasks": tasks, "seconds": seconds,
                "most_server_connections": sampler.most - 1,  # less the sampler's own
                "requests": sum(routes.values()), "routes": dict(routes.most_common()),
                **figures}
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(base, ignore_errors=True)
        asyncio.run(_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def workload(cluster: str, tasks: int) -> None:
    """The workflow (run in a child process, a client of nginx)."""
    sys.path.insert(0, str(ROOT))
    from bench.scale_workload import TEMPLATES, wide_workflow

    workflow = wide_workflow(tasks, (TEMPLATES - 1) * (tasks // TEMPLATES),
                             f"sizing-{time.time_ns()}", cluster,
                             {"cores": 1, "runtime": "10m"} if cluster == "slurm" else None)
    status = workflow.run(show_progress=False, seconds_until_timeout=3000)
    if status != "D":
        raise SystemExit(f"workflow ended {status}: {workflow.last_run_message}")


def _slurm_answers() -> bool:
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True,
                              timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return ping.returncode == 0 and "UP" in ping.stdout


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sizing")
    parser.add_argument("--database-url", help="a PostgreSQL server URL (any database)")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--slurm-tasks", type=int, default=300)
    parser.add_argument("--workload", nargs=2, metavar=("CLUSTER", "TASKS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workload:
        workload(args.workload[0], int(args.workload[1]))
        return 0
    nginx = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin")
    if nginx is None or not args.database_url:
        parser.error("needs nginx (apt-get install nginx) and --database-url")
    results = [measure(args.database_url, "dummy", args.tasks, nginx)]
    if args.slurm_tasks and _slurm_answers():
        results.append(measure(args.database_url, "slurm", args.slurm_tasks, nginx))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
