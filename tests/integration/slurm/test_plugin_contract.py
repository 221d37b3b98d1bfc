"""The plugin contract (tests/integration/test_plugin_contract.py) on the Slurm plugin.

Slurm's jobs outlive the distributor and their workers report RUNNING and the end to the
server themselves, so the plugin's own part of the contract is: launch reports LAUNCHED
with the job id, kill cancels the job and reports ERROR_FATAL, stop (draining or not)
leaves jobs running and reports nothing for them, and adopt watches jobs by their ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from jobmon import wire
from jobmon.distributor.plugins.base import AdoptingPlugin
from jobmon.distributor.plugins.slurm import SlurmPlugin
from jobmon.distributor.plugins.slurm_state import format_job, parse_distributor_id
from jobmon.settings import load
from jobmon.status import TaskInstanceStatus
from tests.integration.slurm.conftest import SlurmCluster
from tests.integration.slurm.support import job_states
from tests.integration.test_plugin_contract import (
    RecordingReporter,
    assert_accepted_path,
    instance,
)

pytestmark = [pytest.mark.slurm, pytest.mark.anyio, pytest.mark.timeout(60)]
TIS = TaskInstanceStatus
GONE = {"CANCELLED", "COMPLETED", "FAILED", ""}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _plugin(tmp_path: Path) -> SlurmPlugin:
    # no server: the jobs' workers cannot report, which is not the plugin's part
    environ = {"JOBMON__HTTP__SERVICE_URL": "http://127.0.0.1:9", "HOME": str(tmp_path)}
    settings = load(environ).settings
    return SlurmPlugin(settings, tmp_path / "logs")


@asynccontextmanager
async def started(tmp_path: Path) -> AsyncIterator[tuple[SlurmPlugin, RecordingReporter]]:
    plugin = _plugin(tmp_path)
    reporter = RecordingReporter()
    async with anyio.create_task_group() as group:
        await plugin.start(group, reporter)
        try:
            yield plugin, reporter
        finally:
            group.cancel_scope.cancel()


async def _states(job_ids: set[str]) -> dict[str, str]:
    return await anyio.to_thread.run_sync(job_states, job_ids)


async def _wait_gone(job_id: str) -> None:
    for _ in range(100):
        if (await _states({job_id})).get(job_id, "") in GONE:
            return
        await anyio.sleep(0.2)
    raise AssertionError(f"job {job_id} still runs: {await _states({job_id})}")


async def _cancel(job_ids: list[str]) -> None:
    await anyio.run_process(["scancel", *job_ids], check=False)


async def test_launch_reports_the_job_and_kill_cancels_it(
        slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    async with started(tmp_path) as (plugin, reporter):
        await plugin.launch([instance(1, "sleep 60")])
        launched = await reporter.wait_for(1, {str(TIS.LAUNCHED)})
        key = parse_distributor_id(launched.distributor_id or "")
        assert key is not None and plugin.live_instance_ids() == [1]
        job_id = format_job(key)
        try:
            await plugin.kill([wire.KillOrder(task_instance_id=1,
                                              distributor_id=launched.distributor_id,
                                              status=str(TIS.KILL_SELF))])
            assert (await reporter.wait_for(1, {str(TIS.ERROR_FATAL)})).error_message
            assert plugin.live_instance_ids() == []
            await _wait_gone(job_id)
            assert_accepted_path(reporter, 1)
        finally:
            await _cancel([job_id])


@pytest.mark.parametrize("drain", [False, True], ids=["stop", "drain"])
async def test_stop_leaves_jobs_running_and_a_new_plugin_adopts_them(
        slurm_cluster: SlurmCluster, tmp_path: Path, drain: bool) -> None:
    async with started(tmp_path) as (plugin, reporter):
        await plugin.launch([instance(1, "sleep 60")])
        launched = await reporter.wait_for(1, {str(TIS.LAUNCHED)})
        assert launched.distributor_id is not None
        key = parse_distributor_id(launched.distributor_id)
        assert key is not None
        job_id = format_job(key)
        with anyio.fail_after(10):
            await plugin.stop(drain=drain)
    try:
        assert reporter.statuses(1) == [TIS.LAUNCHED]  # nothing more: the job is not ended
        assert (await _states({job_id})).get(job_id, "") not in GONE
        async with started(tmp_path) as (successor, later):
            assert isinstance(successor, AdoptingPlugin)
            live = wire.LiveInstances(task_instance_id=[1], distributor_id=[
                launched.distributor_id], status=[str(TIS.LAUNCHED)], next_after_id=None)
            assert await successor.adopt(live) == 1
            assert await successor.adopt(live) == 0
            assert successor.live_instance_ids() == [1]
            await successor.kill([wire.KillOrder(task_instance_id=1,
                                                 distributor_id=launched.distributor_id,
                                                 status=str(TIS.KILL_SELF))])
            assert (await later.wait_for(1, {str(TIS.ERROR_FATAL)})).status == TIS.ERROR_FATAL
            await _wait_gone(job_id)
    finally:
        await _cancel([job_id])
