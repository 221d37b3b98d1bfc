"""Real data for tests that call every route: a finished workflow and a live one.

The finished workflow ran to DONE through the client, so it has a run, tasks, edges and
instances with their histories. The live one was driven through the HTTP API by hand:
its run is RUNNING, its independent tasks are queued, and of their instances one waits in
QUEUED, one was claimed (INSTANTIATED), one LAUNCHED and one RUNNING. Nothing executes it,
so it stays that way until a test changes it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import asyncpg
import pytest

from jobmon import settings as settings_module
from jobmon import wire
from jobmon.client.connection import open_requester
from jobmon.client.swarm.runner import create_run
from jobmon.server.db import connect
from tests.integration.helpers import fetch
from tests.integration.workflows import sleepers
from tests.support import ServerThread, cloned_database


@dataclass(frozen=True)
class Seeded:
    done_workflow_id: int
    done_run_id: int
    live_workflow_id: int
    live_run_id: int
    # each live instance by status
    live_instances: dict[str, int]
    # the ids of every row of these tables, by the name of a field that holds one
    known: dict[str, list[int]]

    def ids(self, name: str) -> list[int]:
        """Existing ids for a field or path parameter such as ``workflow_id``."""
        return self.known[name]


_KNOWN = {
    "workflow_id": "workflow",
    "workflow_run_id": "workflow_run",
    "task_id": "task",
    "task_instance_id": "task_instance",
    "array_id": "task_array",
    "tool_version_id": "tool_version",
    "task_template_version_id": "task_template_version",
}


async def _fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await connect(dsn)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


@dataclass(frozen=True)
class LiveWorkflow:
    workflow_id: int
    workflow_run_id: int
    # the 4 independent tasks (all queued) and the final task downstream of them
    root_task_ids: list[int]
    final_task_id: int
    # instance ids by status: the queued ones, then one each of I, O and R when claimed
    instances: dict[str, list[int]]


def live_workflow(dsn: str, out: Path, workflow_args: str, claim: bool = True) -> LiveWorkflow:
    """A workflow driven through the HTTP API by hand to a RUNNING run with queued tasks.

    With ``claim``, three of its four instances are claimed and moved on to INSTANTIATED,
    LAUNCHED and RUNNING. Deadlines are far ahead, so the reaper leaves it alone.
    """
    settings_module.reset_cache()
    live = sleepers(workflow_args, out, count=4, seconds=0)

    async def drive() -> LiveWorkflow:
        async with open_requester() as requester:
            workflow_id = await live.bind_async()
            run = await create_run(requester, workflow_id, resume=False, cold_resume=True)
            run_path = f"/api/v1/workflow_runs/{run.workflow_run_id}"
            for status in "IOR":
                await requester.post(f"{run_path}/status", wire.RunStatusRequest(status=status),
                                     wire.RunStatusResponse)
            await requester.post(f"{run_path}/heartbeat",
                                 wire.RunHeartbeatRequest(next_report_seconds=86400),
                                 wire.RunHeartbeatResponse)
            # the final task is the one with upstream tasks
            tasks = await _fetch(dsn, "SELECT id, EXISTS (SELECT 1 FROM edge "
                                      "WHERE downstream_task_id = task.id) FROM task "
                                      "WHERE workflow_id = $1 ORDER BY id", workflow_id)
            roots = [row[0] for row in tasks if not row[1]]
            assert len(roots) == 4, tasks
            await requester.post(f"{run_path}/schedule",
                                 wire.ScheduleRequest(queue=[wire.QueueGroup(task_ids=roots)]),
                                 wire.ScheduleResponse)
            queued = [row[0] for row in await _fetch(
                dsn, "SELECT id FROM task_instance WHERE workflow_id = $1 ORDER BY id",
                workflow_id)]
            instances = {"Q": queued}
            if claim:
                claimed = await requester.post(
                    "/api/v1/distributor/claim",
                    wire.ClaimRequest(cluster_name="local", workflow_run_id=run.workflow_run_id,
                                      limit=3, next_report_seconds=3600),
                    wire.ClaimResponse)
                instantiated, launched, running = (i.task_instance_id for i in claimed.instances)
                await requester.post("/api/v1/task_instances/transitions",
                                     wire.TransitionsRequest(source="distributor", updates=[
                    wire.InstanceUpdate(task_instance_id=launched, status="O",
                                        distributor_id="seed-1"),
                    wire.InstanceUpdate(task_instance_id=running, status="O",
                                        distributor_id="seed-2"),
                    wire.InstanceUpdate(task_instance_id=running, status="R",
                                        next_report_seconds=3600),
                ]), wire.TransitionsResponse)
                instances = {"Q": [i for i in queued if i not in (instantiated, launched, running)],
                             "I": [instantiated], "O": [launched], "R": [running]}
            return LiveWorkflow(workflow_id, run.workflow_run_id, roots,
                                next(row[0] for row in tasks if row[1]), instances)

    return anyio.run(drive)


def seed(dsn: str, out: Path) -> Seeded:
    """Make both workflows on the server that JOBMON__HTTP__SERVICE_URL names."""
    settings_module.reset_cache()
    done = sleepers("seed-done", out, count=3, seconds=0)
    assert done.run(show_progress=False) == "D"
    assert done.workflow_id is not None
    live = live_workflow(dsn, out, "seed-live")
    done_run_id = fetch(dsn, "SELECT max(id) FROM workflow_run WHERE workflow_id = $1",
                        done.workflow_id)[0][0]
    return Seeded(
        done_workflow_id=done.workflow_id,
        done_run_id=done_run_id,
        live_workflow_id=live.workflow_id,
        live_run_id=live.workflow_run_id,
        live_instances={status: ids[0] for status, ids in live.instances.items()},
        known={name: [row[0] for row in fetch(dsn, f"SELECT id FROM {table} ORDER BY id")]
               for name, table in _KNOWN.items()},
    )


@contextlib.contextmanager
def seeded_server(pg_server_dsn: str, template_db: str, base: Path,
                  **env: str) -> Iterator[tuple[ServerThread, Seeded]]:
    """A server on a fresh database with ``seed`` applied, for a whole test module.

    The environment is cleaned and set like the function-scoped ``server`` fixture's,
    plus ``env`` (``JOBMON__SECTION__KEY`` settings for the server and the client).
    """
    with pytest.MonkeyPatch.context() as patch, cloned_database(pg_server_dsn,
                                                                 template_db) as dsn:
        for name in list(os.environ):
            if name.startswith("JOBMON__"):
                patch.delenv(name)
        patch.setenv("XDG_DATA_HOME", str(base / "data"))
        patch.setenv("XDG_CONFIG_HOME", str(base / "config"))
        patch.setenv("JOBMON__HTTP__RETRY_SECONDS", "30")
        for name, text in env.items():
            patch.setenv(name, text)
        settings_module.reset_cache()
        server = ServerThread(dsn).start()
        try:
            patch.setenv("JOBMON__HTTP__SERVICE_URL", server.url)
            yield server, seed(dsn, base)
        finally:
            server.stop()
            settings_module.reset_cache()
