"""The distributor service: claim queued instances, hand them to a plugin, heartbeat, kill."""

from __future__ import annotations

import logging

import anyio
from anyio.abc import TaskStatus

from jobmon import wire
from jobmon.clock import Clock, SystemClock
from jobmon.distributor.plugins.base import ClusterPlugin
from jobmon.distributor.reporter import Reporter
from jobmon.requester import Requester
from jobmon.settings import Settings

log = logging.getLogger(__name__)

FULL_RECHECK = 1.0  # seconds between kill-order checks while every slot is busy
FLUSH_TIMEOUT = 30.0


class DistributorService:
    """Serves one cluster, for one workflow run or (without a run id) for all of them."""

    def __init__(
        self,
        requester: Requester,
        settings: Settings,
        plugin: ClusterPlugin,
        workflow_run_id: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._requester = requester
        self._settings = settings
        self._plugin = plugin
        self._run_id = workflow_run_id
        self._clock = clock or SystemClock()
        self.reporter = Reporter(requester)
        self.claimed = 0

    @property
    def _report_seconds(self) -> float:
        heartbeat = self._settings.heartbeat
        return heartbeat.task_instance_interval * heartbeat.report_by_buffer

    async def run(
        self, stop: anyio.Event, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until ``stop`` is set; then stop taking work, stop the plugin, flush reports."""
        async with anyio.create_task_group() as group:
            await group.start(self.reporter.run)
            await self._plugin.start(group, self.reporter)
            group.start_soon(self._heartbeat_loop)
            task_status.started()
            async with anyio.create_task_group() as intake:
                intake.start_soon(self._claim_loop)
                await stop.wait()
                intake.cancel_scope.cancel()
            log.info("stopping: no new work taken")
            with anyio.CancelScope(shield=True):
                await self._plugin.stop()
                with anyio.move_on_after(FLUSH_TIMEOUT):
                    await self.reporter.flush()
            group.cancel_scope.cancel()

    async def _claim_loop(self) -> None:
        poll_wait = self._settings.distributor.poll_wait
        batch_size = self._settings.distributor.batch_size
        while True:
            capacity = self._plugin.capacity()
            if capacity == 0:
                with anyio.move_on_after(FULL_RECHECK):
                    await self._plugin.wait_for_capacity()
                capacity = self._plugin.capacity()
            limit = min(capacity, batch_size)
            answer = await self._requester.post(
                "/api/v1/distributor/claim",
                wire.ClaimRequest(
                    cluster_name=self._plugin.name,
                    workflow_run_id=self._run_id,
                    limit=limit,
                    wait=poll_wait if limit > 0 else 0.0,
                    next_report_seconds=self._report_seconds,
                ),
                wire.ClaimResponse,
                extra_timeout=poll_wait,
            )
            if answer.kill:
                await self._plugin.kill(answer.kill)
            if answer.instances:
                self.claimed += len(answer.instances)
                await self._plugin.launch(answer.instances)

    async def _heartbeat_loop(self) -> None:
        interval = self._settings.heartbeat.task_instance_interval
        while True:
            await self._clock.sleep(interval)
            ids = self._plugin.live_instance_ids()
            if not ids:
                continue
            answer = await self._requester.post(
                "/api/v1/task_instances/heartbeat",
                wire.InstanceHeartbeatRequest(task_instance_ids=ids,
                                              next_report_seconds=self._report_seconds),
                wire.InstanceHeartbeatResponse,
            )
            if answer.kill:
                log.warning("the server no longer expects instances %s: killing them",
                            answer.kill)
                await self._plugin.kill([
                    wire.KillOrder(task_instance_id=i, distributor_id=None, status="")
                    for i in answer.kill
                ])
