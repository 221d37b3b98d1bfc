"""Helpers for integration tests: SQL on the test database, samplers, a swarm subprocess."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from jobmon import settings as settings_module
from jobmon import wire
from jobmon.clock import Clock
from jobmon.server.db import connect
from jobmon.server.store import bind, instances, runs, tokens

ROOT = Path(__file__).resolve().parents[2]
SWARM_SCRIPT = Path(__file__).resolve().parent / "scripts" / "swarm.py"


def fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await connect(dsn)  # with the server's JSON codecs
        try:
            return await connection.fetch(query, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


def value(dsn: str, query: str, *args: object) -> Any:
    rows = fetch(dsn, query, *args)
    return rows[0][0] if rows else None


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               every: float = 0.05) -> None:
    """Poll ``condition`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class Sampler:
    """Samples a number from the database in a thread; keeps the maximum seen."""

    def __init__(self, dsn: str, query: str, *args: object, every: float = 0.02) -> None:
        self.dsn, self.query, self.args, self.every = dsn, query, args, every
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def loop() -> None:
            connection = await asyncpg.connect(self.dsn)
            try:
                while not self._stop.is_set():
                    self.samples.append(int(await connection.fetchval(self.query, *self.args)))
                    await asyncio.sleep(self.every)
            finally:
                await connection.close()

        asyncio.run(loop())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    @property
    def maximum(self) -> int:
        return max(self.samples, default=0)


@contextmanager
def swarm_process(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """Run tests/integration/scripts/swarm.py in its own process; killed by PID at the end."""
    process = subprocess.Popen(
        [sys.executable, str(SWARM_SCRIPT), *args],
        cwd=ROOT, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


def count_lines(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    if path.exists():
        for line in path.read_text().split():
            counts[line] = counts.get(line, 0) + 1
    return counts


async def workflow_with_instances(
    pool: asyncpg.Pool, clock: Clock, count: int, commands: list[str] | None = None,
) -> tuple[int, int, list[int], list[int]]:
    """A bound workflow of ``count`` tasks, a run, and one claimed instance (I) per task."""
    commands = commands or [f"true {i}" for i in range(count)]
    async with pool.acquire() as connection:
        tool = await bind.upsert_tool(connection, "reaper")
        templates = await bind.upsert_templates(connection, wire.TemplatesRequest(
            tool_version_id=tool.tool_version_id,
            templates=[wire.TemplateSpec(name="t", command_template="true {i}", node_args=["i"])],
        ))
        workflow = await bind.create_workflow(connection, wire.WorkflowRequest(
            tool_version_id=tool.tool_version_id, name="reaped", workflow_args="r",
            workflow_args_hash="r", task_hash="h", user="me", num_tasks=count,
        ), clock.now())
        arrays = await bind.upsert_arrays(connection, workflow.workflow_id, wire.ArraysRequest(
            arrays=[wire.ArraySpec(task_template_version_id=templates.task_template_version_ids[0],
                                   name="t")]))
        tasks = await bind.insert_tasks(connection, workflow.workflow_id, wire.TasksChunk(
            configs=[wire.TaskConfig(cluster_name="local")],
            array_id=arrays.array_ids * count,
            node_args_hash=list(range(count)), task_args_hash=[0] * count,
            name=[f"t{i}" for i in range(count)], command=commands,
            config_index=[0] * count, args=[{}] * count,
        ), clock.now())
        await bind.finish_bind(connection, workflow.workflow_id,
                               wire.BoundRequest(num_tasks=count, num_edges=0), clock.now())
        run = await runs.create_run(connection, workflow.workflow_id,
                                    wire.RunRequest(user="me"), None, clock.now(),
                                    clock.now() + dt.timedelta(seconds=30))
        for status in ("I", "O", "R"):
            await runs.set_run_status(connection, run.workflow_run_id,
                                      wire.RunStatusRequest(status=status), clock.now())
        await runs.schedule(connection, run.workflow_run_id, wire.ScheduleRequest(
            queue=[wire.QueueGroup(task_ids=tasks.task_ids)]), clock.now())
        claimed = await instances.claim(
            connection, wire.ClaimRequest(cluster_name="local", next_report_seconds=10),
            run.workflow_run_id, clock.now())
    return (workflow.workflow_id, run.workflow_run_id, tasks.task_ids,
            [i.task_instance_id for i in claimed])


def make_token(dsn: str, user: str, admin: bool = False) -> str:
    """A new API token of ``user``, made in the database as `jobmon token create` does."""

    async def make() -> str:
        connection = await connect(dsn)
        try:
            return (await tokens.create_token(connection, user, admin, "test"))[1]
        finally:
            await connection.close()

    return asyncio.run(make())


def act_as(monkeypatch: pytest.MonkeyPatch, dsn: str, user: str,
           log_dir: Path | None = None) -> None:
    """This test's client from now on: ``user`` with a new token of theirs (and, if given,
    its tasks' logs under ``log_dir``)."""
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", make_token(dsn, user))
    if log_dir is not None:
        monkeypatch.setenv("JOBMON__LOCAL__LOG_DIR", str(log_dir))
    settings_module.reset_cache()


def healthy(url: str) -> bool:
    """Whether the server at ``url`` answers /health with 200 within 2 s."""
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
