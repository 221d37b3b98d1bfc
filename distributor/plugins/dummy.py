"""Cluster "dummy": every instance runs and succeeds at once, without a process (benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
from anyio.abc import TaskGroup

from jobmon import wire
from jobmon.distributor.execution import NODENAME
from jobmon.distributor.reporter import Reporter
from jobmon.status import TaskInstanceStatus

TIS = TaskInstanceStatus


class DummyPlugin:
    """Reports RUNNING then DONE for each instance it is given."""

    name = "dummy"

    def __init__(self) -> None:
        self._reporter: Reporter | None = None

    async def start(self, group: TaskGroup, reporter: Reporter) -> None:
        self._reporter = reporter

    def capacity(self) -> int:
        return 100_000

    async def wait_for_capacity(self) -> None:
        await anyio.lowlevel.checkpoint()

    def live_instance_ids(self) -> list[int]:
        return []

    async def launch(self, instances: Sequence[wire.ClaimedInstance]) -> None:
        assert self._reporter is not None
        for instance in instances:
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance.task_instance_id, status=str(TIS.RUNNING),
                nodename=NODENAME, distributor_id=f"dummy-{instance.task_instance_id}"))
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance.task_instance_id, status=str(TIS.DONE), exit_code=0,
                wallclock=0.0, maxrss=0))

    async def kill(self, orders: Sequence[wire.KillOrder]) -> None:
        assert self._reporter is not None
        for order in orders:
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=order.task_instance_id, status=str(TIS.ERROR_FATAL),
                error_message="killed on request"))

    async def stop(self, drain: bool = False) -> None:
        return None  # everything it was given has already ended
