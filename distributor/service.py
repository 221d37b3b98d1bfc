"""The distributor service: claim queued instances, hand them to a plugin, heartbeat, kill."""

from __future__ import annotations

import logging

import anyio
from anyio.abc import TaskStatus

from jobmon import endpoints, wire
from jobmon import wire_results as wr
from jobmon.clock import Clock, SystemClock
from jobmon.distributor.plugins.base import (
    AdoptingPlugin,
    ClusterPlugin,
    EndsOrphans,
    ReportsQueues,
    TakesInputs,
)
from jobmon.distributor.reporter import Reporter
from jobmon.errors import ServerError, ServerUnavailable
from jobmon.requester import Requester
from jobmon.settings import Settings

log = logging.getLogger(__name__)

FULL_RECHECK = 1.0  # seconds between kill-order checks while every slot is busy
FLUSH_TIMEOUT = 30.0
KILL_ORDERS_TIMEOUT = 5.0
# instances whose upstream outputs one request fetches (the answer holds them all)
INPUTS_BATCH = 1000
# Instances whose distributor (or its successor) still runs them, or will.
_LIVE = frozenset({"I", "O", "R", "T"})


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
        self.adopted = 0
        # set before ``stop`` when a hot resume took over: let what runs finish
        self.drain = False

    @property
    def _report_seconds(self) -> float:
        return self._settings.heartbeat.instance_deadline

    async def run(
        self, stop: anyio.Event, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until ``stop`` is set; then stop taking work, stop the plugin, flush reports."""
        async with anyio.create_task_group() as group:
            await group.start(self.reporter.run)
            await self._plugin.start(group, self.reporter)
            if isinstance(self._plugin, ReportsQueues):
                await self._report_queues(self._plugin)
            if isinstance(self._plugin, AdoptingPlugin):
                await self._adopt(self._plugin)
            if isinstance(self._plugin, EndsOrphans):
                await self._end_orphans(self._plugin)
            group.start_soon(self._heartbeat_loop)
            task_status.started()
            async with anyio.create_task_group() as intake:
                intake.start_soon(self._claim_loop)
                await stop.wait()
                intake.cancel_scope.cancel()
            log.info("stopping: no new work taken")
            with anyio.CancelScope(shield=True):
                await self._last_kill_orders()
                await self._plugin.stop(drain=self.drain)
                with anyio.move_on_after(FLUSH_TIMEOUT):
                    await self.reporter.flush()
            group.cancel_scope.cancel()

    async def _report_queues(self, plugin: ReportsQueues) -> None:
        """Tell the server the cluster's queue limits, for swarms that scale resources."""
        try:
            queues = await plugin.queues()
        except (OSError, RuntimeError) as error:
            log.warning("could not read the cluster's queues: %s", error)
            return
        await self._requester.call(
            endpoints.SET_QUEUES,
            wire.ClusterQueues(queues=queues),
            cluster_name=self._plugin.name,
        )

    async def _adopt(self, plugin: AdoptingPlugin) -> None:
        """Take over what earlier distributors launched (a restart must not launch it again)."""
        async for page in self._requester.pages(endpoints.LIVE_INSTANCES,
                                                {"workflow_run_id": self._run_id},
                                                cluster_name=self._plugin.name):
            self.adopted += await plugin.adopt(page)
        if self.adopted:
            log.info("adopted %d live instances launched earlier", self.adopted)

    async def _last_kill_orders(self) -> None:
        """Carry out the kill orders given since the last claim before stopping.

        A stopped workflow stops its swarm, which stops this distributor at once: the
        instances it holds, and those never claimed, must end now (killed, ERROR_FATAL)
        rather than wait in KILL_SELF for the reaper.
        """
        with anyio.move_on_after(KILL_ORDERS_TIMEOUT):
            try:
                answer = await self._requester.call(
                    endpoints.CLAIM,
                    wire.ClaimRequest(cluster_name=self._plugin.name, workflow_run_id=self._run_id,
                                      limit=0, wait=0.0,
                                      next_report_seconds=self._report_seconds),
                )
            except (ServerError, ServerUnavailable) as error:
                log.warning("could not read the last kill orders: %s", error)
                return
            if answer.kill:
                await self._plugin.kill(answer.kill)

    async def _end_orphans(self, plugin: EndsOrphans) -> None:
        """Kill what dead distributors left running and the server gave up on.

        Its task may run again now (a resume): the old command must not run beside it.
        """
        for instance_id, launch_token in plugin.orphans():
            try:
                info = await self._requester.call(endpoints.INSTANCE,
                                                  task_instance_id=instance_id)
            except ServerError:  # unknown here: of another database
                continue
            if info.launch_token != launch_token or info.status in _LIVE:
                continue  # another database's, or its own distributor's successor adopts it
            log.warning("instance %d is %s, but its command still ran with no distributor "
                        "watching it: killing it", instance_id, info.status)
            plugin.end_orphan(instance_id)

    async def _claim_loop(self) -> None:
        poll_wait = self._settings.distributor.poll_wait
        batch_size = self._settings.distributor.batch_size
        while True:
            capacity = self._plugin.capacity()
            if capacity == 0:
                # a freed slot may leave the plugin's own queue long enough: keep waiting
                # (a claim then would fetch nothing), but ask for kill orders now and then
                with anyio.move_on_after(FULL_RECHECK):
                    while capacity == 0:
                        await self._plugin.wait_for_capacity()
                        capacity = self._plugin.capacity()
            limit = min(capacity, batch_size)
            answer = await self._requester.call(
                endpoints.CLAIM,
                wire.ClaimRequest(
                    cluster_name=self._plugin.name,
                    workflow_run_id=self._run_id,
                    limit=limit,
                    wait=poll_wait if limit > 0 else 0.0,
                    next_report_seconds=self._report_seconds,
                    with_inputs=isinstance(self._plugin, TakesInputs),
                ),
                extra_timeout=poll_wait,
            )
            if answer.kill:
                await self._plugin.kill(answer.kill)
            if answer.instances:
                self.claimed += len(answer.instances)
                if isinstance(self._plugin, TakesInputs):
                    self._plugin.take_runs(answer.runs)
                    await self._hand_inputs(self._plugin, answer.instances)
                await self._plugin.launch(answer.instances)

    async def _hand_inputs(self, plugin: TakesInputs,
                           instances: list[wire.ClaimedInstance]) -> None:
        """The upstream outputs of the claimed instances that have upstream tasks: those the
        claim answered, and the others (none from this server) in one request per
        INPUTS_BATCH of them."""
        plugin.take_inputs({i.task_instance_id: i.inputs for i in instances
                            if i.inputs is not None})
        wanted = [i.task_instance_id for i in instances if i.has_upstream and i.inputs is None]
        for start in range(0, len(wanted), INPUTS_BATCH):
            answer = await self._requester.call(
                endpoints.INPUTS,
                wr.InputsRequest(task_instance_ids=wanted[start:start + INPUTS_BATCH]))
            plugin.take_inputs({entry.task_instance_id: entry.inputs
                                for entry in answer.instances})

    async def _heartbeat_loop(self) -> None:
        interval = self._settings.heartbeat.task_instance_interval
        while True:
            await self._clock.sleep(interval)
            ids = self._plugin.live_instance_ids()
            if not ids:
                continue
            answer = await self._requester.call(
                endpoints.INSTANCE_HEARTBEAT,
                wire.InstanceHeartbeatRequest(task_instance_ids=ids,
                                              next_report_seconds=self._report_seconds),
            )
            if answer.kill:
                # usual for cluster jobs that finish after their worker reported
                log.info("the server no longer expects %d instances (%s): killing what is left",
                         len(answer.kill), answer.kill[:10])
                await self._plugin.kill([
                    wire.KillOrder(task_instance_id=i, distributor_id=None, status="")
                    for i in answer.kill
                ])
