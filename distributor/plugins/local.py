"""Clusters "local" and "sequential": commands as child processes of the distributor."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

import anyio
from anyio.abc import TaskGroup

from jobmon import wire
from jobmon.distributor import execution
from jobmon.distributor.execution import InstancePaths, Running
from jobmon.distributor.reporter import Reporter
from jobmon.status import TaskInstanceStatus

log = logging.getLogger(__name__)
TI = TaskInstanceStatus

TERM_GRACE = 2.0


class LocalPlugin:
    """Runs up to ``max_parallel`` commands at once, each in its own session."""

    def __init__(self, name: str, max_parallel: int, log_dir: Path) -> None:
        self.name = name
        self.max_parallel = max_parallel or (os.cpu_count() or 1)
        self.log_dir = log_dir
        self._running: dict[int, Running] = {}
        self._group: TaskGroup | None = None
        self._reporter: Reporter | None = None
        self._freed = anyio.Event()

    async def start(self, group: TaskGroup, reporter: Reporter) -> None:
        self._group = group
        self._reporter = reporter
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def capacity(self) -> int:
        return max(0, self.max_parallel - len(self._running))

    async def wait_for_capacity(self) -> None:
        if self.capacity() > 0:
            return
        await self._freed.wait()

    def live_instance_ids(self) -> list[int]:
        return list(self._running)

    async def launch(self, instances: Sequence[wire.ClaimedInstance]) -> None:
        assert self._group is not None and self._reporter is not None
        for instance in instances:
            paths = InstancePaths.under(self.log_dir, instance.workflow_id,
                                        instance.task_instance_id)
            try:
                running = execution.start(instance, paths)
            except OSError as error:
                self._reporter.report(wire.InstanceUpdate(
                    task_instance_id=instance.task_instance_id,
                    status=str(TI.NO_DISTRIBUTOR_ID),
                    error_message=f"could not start the command: {error}",
                ))
                continue
            self._running[instance.task_instance_id] = running
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance.task_instance_id,
                status=str(TI.RUNNING),
                distributor_id=str(running.pid),
                nodename=execution.NODENAME,
                process_id=running.pid,
                stdout_path=str(paths.stdout),
                stderr_path=str(paths.stderr),
            ))
            self._group.start_soon(self._await_exit, running)

    async def _await_exit(self, running: Running) -> None:
        assert self._reporter is not None
        finished = await running.finished
        self._running.pop(running.instance.task_instance_id, None)
        if running.kill_status == TI.KILL_SELF:  # stopped with the distributor: K, then F
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=running.instance.task_instance_id, status=str(TI.KILL_SELF)))
            running.kill_status = str(TI.ERROR_FATAL)
        self._reporter.report(execution.outcome_update(running, finished))
        self._freed.set()
        self._freed = anyio.Event()

    async def kill(self, orders: Sequence[wire.KillOrder]) -> None:
        assert self._reporter is not None
        for order in orders:
            running = self._running.get(order.task_instance_id)
            if running is None:
                # never started here (or already gone): nothing left to kill
                self._reporter.report(wire.InstanceUpdate(
                    task_instance_id=order.task_instance_id, status=str(TI.ERROR_FATAL),
                    error_message="killed before it ran on this distributor",
                ))
                continue
            if running.kill_status is None:
                running.kill_status = str(TI.ERROR_FATAL)
                running.kill_reason = "killed on request"
                self._terminate(running)

    def _terminate(self, running: Running) -> None:
        execution.kill_group(running.pid, signal.SIGTERM)
        assert self._group is not None
        self._group.start_soon(self._kill_later, running)

    async def _kill_later(self, running: Running) -> None:
        with anyio.move_on_after(TERM_GRACE):
            await running.finished
            return
        execution.kill_group(running.pid, signal.SIGKILL)

    async def stop(self) -> None:
        """Kill every command still running and wait for their reports."""
        for running in list(self._running.values()):
            if running.kill_status is None:
                running.kill_status = str(TI.KILL_SELF)
                running.kill_reason = "the distributor shut down"
            self._terminate(running)
        with anyio.move_on_after(TERM_GRACE + 5):
            while self._running:
                await self._freed.wait()
