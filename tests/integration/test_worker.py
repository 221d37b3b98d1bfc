"""`jobmon worker`, the process a cluster job runs, against a real server and database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import asyncpg
import pytest
from anyio.abc import Process

from jobmon.clock import SystemClock
from tests.integration.helpers import value, wait_until, workflow_with_instances
from tests.support import ServerThread

pytestmark = pytest.mark.anyio


# what the Slurm job script runs (slurm_submit.job_script), and the `jobmon worker` command
LEAN = [sys.executable, "-m", "jobmon.distributor.worker"]
CLI = [sys.executable, "-m", "jobmon", "worker"]


def _worker_command(instance_id: int, entry_point: list[str] = LEAN) -> list[str]:
    return [*entry_point, "--task-instance-id", str(instance_id)]


def _worker(instance_id: int, entry_point: list[str] = LEAN,
            **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_worker_command(instance_id, entry_point), capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


async def _mark_killed(pool: asyncpg.Pool, instance_id: int) -> None:
    """What a cold resume does to an instance of the old run."""
    async with pool.acquire() as connection:
        await connection.execute("UPDATE task_instance SET status = 'K' WHERE id = $1",
                                 instance_id)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


async def _instance(pool: asyncpg.Pool, instance_id: int) -> asyncpg.Record:
    async with pool.acquire() as connection:
        row = await connection.fetchrow(
            "SELECT status, exit_code, error_message, stderr_tail, stdout_path, maxrss, "
            "process_id, (SELECT array_agg(status ORDER BY id) FROM task_instance_status "
            "WHERE task_instance_id = $1) AS history FROM task_instance WHERE id = $1",
            instance_id)
    assert row is not None
    return row


async def test_the_worker_runs_a_command_and_reports_each_end(
    server: ServerThread, pool: asyncpg.Pool
) -> None:
    _, _, _, (ok, failing) = await workflow_with_instances(
        pool, SystemClock(), 2,
        ["echo hello from $JOBMON_TASK_INSTANCE_ID", "echo broken >&2; exit 3"])

    done = await anyio.to_thread.run_sync(_worker, ok)
    failed = await anyio.to_thread.run_sync(_worker, failing)

    assert done.returncode == 0, done.stderr
    row = await _instance(pool, ok)
    assert row["status"] == "D" and row["exit_code"] == 0
    assert list(row["history"]) == ["Q", "I", "R", "D"]
    assert await anyio.Path(row["stdout_path"]).read_text() == f"hello from {ok}\n"
    assert row["maxrss"] > 0
    # the worker exits as its command did, so that the cluster's record agrees
    assert failed.returncode == 3
    row = await _instance(pool, failing)
    assert row["status"] == "E" and row["exit_code"] == 3
    assert row["stderr_tail"] == "broken\n"



# Modules the job script's worker must not load on a run that meets no error: each costs
# every Slurm job milliseconds of CPU (the figure is `python -m bench --only worker`).
HEAVY_MODULES = ("msgspec", "http.client", "email", "ssl", "logging", "threading", "asyncio",
                 "pathlib", "dataclasses", "typing", "tomllib", "uuid", "jobmon.wire",
                 "jobmon.settings", "jobmon.endpoints", "jobmon.status", "tenacity")


async def test_the_job_scripts_worker_runs_on_the_lighter_standard_library(
    server: ServerThread, pool: asyncpg.Pool
) -> None:
    """Run as the Slurm job script runs it (its settings on the command line), a command
    that reads its inputs and leaves an output."""
    from jobmon import settings as settings_module
    from jobmon.distributor.worker import WorkerSettings

    _, _, _, (instance,) = await workflow_with_instances(
        pool, SystemClock(), 1, ['echo "{\\"n\\": 1}" > "$JOBMON_OUTPUT"; cat "$JOBMON_INPUTS"'])
    arguments = WorkerSettings.from_settings(settings_module.get()).arguments()
    result = await anyio.to_thread.run_sync(lambda: subprocess.run(
        [sys.executable, "-X", "importtime", *LEAN[1:], "--task-instance-id", str(instance),
         *arguments], capture_output=True, text=True, timeout=60))

    assert result.returncode == 0, result.stderr[-2000:]
    row = await _instance(pool, instance)
    assert row["status"] == "D" and list(row["history"]) == ["Q", "I", "R", "D"]
    async with pool.acquire() as connection:
        output = await connection.fetchval(
            "SELECT output FROM task WHERE id = "
            "(SELECT task_id FROM task_instance WHERE id = $1)", instance)
    assert output == {"n": 1}
    listed = [line.split("|")[-1].strip() for line in result.stderr.splitlines()
              if line.startswith("import time:")]
    # after the interpreter's site (an editable install's import hook loads pathlib there;
    # an installed jobmon has no such hook)
    imported = set(listed[listed.index("site") + 1:])
    assert "jobmon.distributor.execution" in imported  # the listing is the whole run's
    loaded = sorted(module for module in imported
                    if module.split(".")[0] in HEAVY_MODULES or module in HEAVY_MODULES)
    assert loaded == []


async def test_a_worker_without_every_setting_says_which_is_missing() -> None:
    result = await anyio.to_thread.run_sync(lambda: subprocess.run(
        [*LEAN, "--task-instance-id", "1", "--service-url", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: missing --request-timeout"), result.stderr


@contextlib.asynccontextmanager
async def _worker_running_a_stubborn_command(
    server: ServerThread, pool: asyncpg.Pool, tmp_path: Path
) -> AsyncIterator[tuple[Process, int]]:
    """A worker whose command ignores SIGTERM, once the command started and is RUNNING."""
    started = tmp_path / "started"
    _, _, _, (instance,) = await workflow_with_instances(
        pool, SystemClock(), 1, [f"trap '' TERM; touch {started}; sleep 60"])
    async with await anyio.open_process(_worker_command(instance)) as worker:
        status = "SELECT status FROM task_instance WHERE id = $1"
        await anyio.to_thread.run_sync(
            wait_until, lambda: started.exists() and value(server.dsn, status, instance) == "R",
            30, "the command started and reported RUNNING")
        yield worker, instance


async def _wait_until_group_gone(group: int) -> None:
    """The command's whole group is gone (once init has reaped what was killed)."""
    await anyio.to_thread.run_sync(
        wait_until, lambda: not _group_alive(group), 10, "the group to be gone")


async def test_an_instance_killed_on_the_server_stops_its_command(
    server: ServerThread, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    # the command ignores SIGTERM: the worker must follow up with SIGKILL
    async with _worker_running_a_stubborn_command(server, pool, tmp_path) as (worker, instance):
        await _mark_killed(pool, instance)
        with anyio.fail_after(30):
            code = await worker.wait()
    assert code == 128 + signal.SIGTERM  # the wrapper's end; what ignored it was killed
    row = await _instance(pool, instance)
    assert row["status"] == "F" and "killed on request" in row["error_message"]
    await _wait_until_group_gone(row["process_id"])


@pytest.mark.parametrize("received", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_to_the_worker_reaches_the_commands_own_session(
    server: ServerThread, pool: asyncpg.Pool, tmp_path: Path, received: signal.Signals
) -> None:
    """A cluster that signals only the job's process group, or a Ctrl-C, stops the command."""
    # the command runs in a session of its own, and ignores SIGTERM
    async with _worker_running_a_stubborn_command(server, pool, tmp_path) as (worker, instance):
        worker.send_signal(received)
        with anyio.fail_after(30):
            code = await worker.wait()
    assert code == 128 + received
    row = await _instance(pool, instance)
    await _wait_until_group_gone(row["process_id"])
    # the cluster (a time limit, a cancel) or the reaper says how it ended, not the worker
    assert row["status"] == "R" and list(row["history"]) == ["Q", "I", "R"]


async def test_an_instance_that_may_not_start_is_left_alone(
    server: ServerThread, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    _, _, _, (instance,) = await workflow_with_instances(
        pool, SystemClock(), 1, [f"touch {marker}"])
    await _mark_killed(pool, instance)

    result = await anyio.to_thread.run_sync(_worker, instance)

    assert result.returncode == 0
    assert not marker.exists()
    assert "not starting it" in result.stderr


@pytest.mark.parametrize("entry_point", [LEAN, CLI], ids=["lean", "cli"])
def test_an_unreachable_server_is_one_line_and_a_failure(jobmon_env: Path,
                                                         entry_point: list[str]) -> None:
    result = _worker(1, entry_point, JOBMON__HTTP__SERVICE_URL="http://127.0.0.1:9",
                     JOBMON__HTTP__RETRY_SECONDS="1")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "did not answer GET /api/v1/task_instances/1" in result.stderr


@pytest.mark.parametrize("entry_point", [LEAN, CLI], ids=["lean", "cli"])
def test_an_unknown_instance_is_one_line_and_a_failure(server: ServerThread,
                                                       entry_point: list[str]) -> None:
    result = _worker(987654, entry_point)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr == "Error: task instance 987654 does not exist\n"


@pytest.mark.parametrize("arguments", [[], ["--task-instance-id", "x"], ["--task-instance-id"]])
def test_the_job_scripts_entry_point_refuses_a_bad_command_line(arguments: list[str]) -> None:
    result = subprocess.run([*LEAN, *arguments], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ") and "--task-instance-id" in result.stderr
