"""Clusters "local" and "sequential": commands as child processes of the distributor.

As many run at once as the machine's cores allow (each task uses its ``cores``), or
``local.max_parallel`` when set. A watcher enforces ``memory`` (RSS of the whole process
tree) and ``runtime``: a command over either is killed and reported RESOURCE_ERROR, so
the swarm retries it with scaled resources.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup

from jobmon import wire
from jobmon.distributor import execution, process_tree
from jobmon.distributor.execution import InstancePaths, Running
from jobmon.distributor.reporter import Reporter
from jobmon.resources import format_memory
from jobmon.status import TaskInstanceStatus

log = logging.getLogger(__name__)
TIS = TaskInstanceStatus

TERM_GRACE = 2.0
PREFETCH = 16  # instances claimed per slot
WATCH_INTERVAL = 0.25


class LocalPlugin:
    """Runs commands on this machine within its cores, enforcing memory and runtime."""

    def __init__(self, name: str, max_parallel: int, log_dir: Path,
                 cores: int | None = None) -> None:
        self.name = name
        self.cores = cores or os.cpu_count() or 1
        self.max_parallel = max_parallel  # 0: limited by cores only
        self.log_dir = log_dir
        self._running: dict[int, Running] = {}
        self._waiting: deque[wire.ClaimedInstance] = deque()
        self._cores_used = 0
        self._group: TaskGroup | None = None
        self._reporter: Reporter | None = None
        self._freed = anyio.Event()
        self._baseline_rss = 0
        # whether what a command leaves behind comes to this process when its parent exits
        # (`jobmon distributor` makes itself a subreaper), so that it ends with the command
        self._subreaper = False
        self._orphans_found: dict[int, execution.FoundWrapper] = {}  # from orphans()
        # upstream outputs of claimed instances, until they start (take_inputs)
        self._inputs: dict[int, dict[str, Any]] = {}
        # JOBMON_RUNS of workflows, until an instance of theirs starts and writes it
        self._runs: dict[int, dict[str, Any]] = {}

    async def start(self, group: TaskGroup, reporter: Reporter) -> None:
        self._group = group
        self._reporter = reporter
        self._subreaper = process_tree.is_subreaper()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        group.start_soon(self._watch)

    def become_subreaper(self) -> None:
        process_tree.become_subreaper()

    # ------------------------------------------------------------------ capacity

    def _cores_of(self, instance: wire.ClaimedInstance) -> int:
        wanted = instance.compute_resources.get("cores", 1)
        return min(max(int(wanted), 1), self.cores)  # a big request runs alone

    def _fits(self, instance: wire.ClaimedInstance) -> bool:
        if self.max_parallel and len(self._running) >= self.max_parallel:
            return False
        if self.max_parallel:
            return True
        return not self._running or self._cores_used + self._cores_of(instance) <= self.cores

    def capacity(self) -> int:
        # claim ahead: a short queue here keeps every slot busy without a round trip
        # to the server each time a command ends
        slots = self.max_parallel or self.cores
        if len(self._waiting) >= 4 * slots:
            return 0  # enough queued here for another round; claim when it runs low
        return max(0, PREFETCH * slots - len(self._running) - len(self._waiting))

    async def wait_for_capacity(self) -> None:
        if self.capacity() > 0:
            return
        await self._freed.wait()

    async def queues(self) -> list[wire.QueueInfo]:
        """One queue: this machine, limited by its cores and memory."""
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        return [wire.QueueInfo(name=self.name, max_cores=self.cores, max_memory_mib=memory,
                               is_default=True)]

    def live_instance_ids(self) -> list[int]:
        return [*self._running, *(i.task_instance_id for i in self._waiting)]

    # ------------------------------------------------------------------ running

    def take_inputs(self, inputs: dict[int, dict[str, Any]]) -> None:
        self._inputs.update(inputs)

    def take_runs(self, runs: dict[int, dict[str, Any]]) -> None:
        self._runs.update(runs)

    async def launch(self, instances: Sequence[wire.ClaimedInstance]) -> None:
        self._baseline_rss = process_tree.own_rss()
        self._waiting.extend(instances)
        self._start_waiting()

    def _start_waiting(self) -> None:
        while self._waiting and self._fits(self._waiting[0]):
            self._start(self._waiting.popleft())

    def _start(self, instance: wire.ClaimedInstance) -> None:
        assert self._group is not None and self._reporter is not None
        paths = execution.with_logs(
            InstancePaths.under(self.log_dir, instance.workflow_id, instance.task_instance_id),
            instance, str(instance.task_instance_id), self.log_dir)
        inputs = self._inputs.pop(instance.task_instance_id, None)
        runs = self._runs.pop(instance.workflow_id, None) if instance.has_runs else None
        try:
            running = execution.start(instance, paths, inputs, runs)
        except OSError as error:
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance.task_instance_id,
                status=str(TIS.NO_DISTRIBUTOR_ID),
                error_message=f"could not start the command: {error}",
            ))
            return
        running.cores = self._cores_of(instance)
        self._cores_used += running.cores
        self._running[instance.task_instance_id] = running
        self._reporter.report(wire.InstanceUpdate(
            task_instance_id=instance.task_instance_id,
            status=str(TIS.RUNNING),
            distributor_id=execution.local_distributor_id(running.pid),
            nodename=execution.NODENAME,
            process_id=running.pid,
            stdout_path=str(paths.stdout),
            stderr_path=str(paths.stderr),
        ))
        self._group.start_soon(self._await_exit, running)

    async def _await_exit(self, running: Running) -> None:
        assert self._reporter is not None
        finished = await running.finished
        self._end_left_behind(running)
        self._running.pop(running.instance.task_instance_id, None)
        self._cores_used -= running.cores
        # ru_maxrss of a direct child includes the memory of the process that spawned it
        # (the kernel counts the pre-exec address space); trust it only above that.
        if finished.maxrss_bytes is not None and \
                finished.maxrss_bytes <= self._baseline_rss * 1.05:
            finished.maxrss_bytes = running.peak_rss or None  # None: never sampled
        if running.adopted and finished.exit_code is None \
                and running.kill_status is None:
            running.kill_status = str(TIS.UNKNOWN_ERROR)
            running.kill_reason = ("it ended while no distributor watched it, without "
                                   "recording its exit status")
        if running.kill_status == TIS.KILL_SELF:  # stopped with the distributor: K, then F
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=running.instance.task_instance_id, status=str(TIS.KILL_SELF)))
            running.kill_status = str(TIS.ERROR_FATAL)
        self._reporter.report(execution.outcome_update(running, finished))
        self._start_waiting()
        self._freed.set()
        self._freed = anyio.Event()

    # ------------------------------------------------------------------ what commands leave

    def _orphans(self) -> list[int]:
        """Our children that are no command's wrapper: what commands left behind."""
        wrappers = {running.pid for running in self._running.values()}
        return [pid for pid in process_tree.children(os.getpid()) if pid not in wrappers]

    def _end_left_behind(self, running: Running) -> None:
        """End what an ended command left running in a session of its own (its process
        group ended with it); they came to us when their parent exited."""
        if not self._subreaper:
            return
        instance_id = running.instance.task_instance_id
        for pid in self._orphans():
            if process_tree.session(pid) == running.pid or \
                    process_tree.task_instance_of(pid) == instance_id:
                log.info("instance %d left pid %d running: killing it", instance_id, pid)
                process_tree.kill_tree(pid)

    def _reap_orphans(self) -> None:
        """Collect what commands left behind once it ended (no zombies pile up)."""
        if self._subreaper:
            process_tree.reap([pid for pid in self._orphans() if process_tree.is_zombie(pid)])

    async def _watch(self) -> None:
        """Enforce memory (tree RSS) and runtime; remember each command's peak RSS."""
        while True:
            await anyio.sleep(WATCH_INTERVAL)
            self._reap_orphans()
            now = time.monotonic()
            for running in list(self._running.values()):
                if running.kill_status is not None:
                    continue
                resources = running.instance.compute_resources
                rss = process_tree.tree_rss(running.pid)
                running.peak_rss = max(running.peak_rss, rss)
                memory = resources.get("memory")
                runtime = resources.get("runtime")
                if memory and rss > int(memory) * 1024 * 1024:
                    self._resource_kill(running, f"used {format_memory(rss // 2**20)} of memory, "
                                                 f"over its limit of {format_memory(int(memory))}")
                elif runtime and now - running.started > float(runtime):
                    self._resource_kill(running, f"ran longer than its runtime of {runtime} s")

    def _resource_kill(self, running: Running, reason: str) -> None:
        log.info("instance %d %s: killing it", running.instance.task_instance_id, reason)
        running.kill_status = str(TIS.RESOURCE_ERROR)
        running.kill_reason = reason
        self._terminate(running)

    async def adopt(self, live: wire.LiveInstances) -> int:
        """Watch the commands a distributor that died left on this host; close the rest.

        An instance it claimed but never started is given up (NO_DISTRIBUTOR_ID) so that
        it is retried at once (if it is of this distributor's run: another run's may wait in
        its live distributor's queue); one it started, even if it never said so, is watched.
        What a distributor still alive runs is its own (after a hot resume, the old run's
        distributor may be finishing its commands), except what is marked for killing;
        what a dead one ran is adopted, whichever run it belongs to.
        """
        adopted = 0
        tokens = live.launch_token or [""] * len(live.task_instance_id)
        for instance_id, workflow_id, run_id, distributor_id, status, token in zip(
            live.task_instance_id, live.workflow_id, live.workflow_run_id, live.distributor_id,
            live.status, tokens, strict=True,
        ):
            if instance_id in self._running:
                continue
            paths = InstancePaths.under(self.log_dir, workflow_id, instance_id)
            record = execution.read_wrapper(paths, token)
            found = self._find_process(distributor_id, status, record)
            if found is None:
                continue
            if found == 0 and live.for_run is not None and run_id != live.for_run:
                continue  # claimed for another run, and not started: perhaps by a live one
            if status != TIS.KILL_SELF and _owned_elsewhere(found, record):
                continue
            paths = _adopted_logs(paths, found, instance_id)
            if self._adopt_one(instance_id, workflow_id, status, paths, found, token):
                adopted += 1
        return adopted

    def _find_process(self, distributor_id: str, status: str,
                      record: execution.WrapperRecord | None) -> int | None:
        """The PID of the instance's wrapper on this host (0: never started), or None."""
        if status != TIS.INSTANTIATED:
            found = execution.parse_local_distributor_id(distributor_id)
            if found is None or found[0] != execution.NODENAME:
                return None  # launched elsewhere
            return found[1]
        return record.pid if record else 0

    def _adopt_one(self, instance_id: int, workflow_id: int, status: str,
                   paths: InstancePaths, pid: int, token: str) -> bool:
        assert self._group is not None and self._reporter is not None
        if status == TIS.INSTANTIATED and pid == 0:
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance_id, status=str(TIS.NO_DISTRIBUTOR_ID),
                error_message="its distributor stopped before starting it"))
            return False
        instance = wire.ClaimedInstance(
            task_instance_id=instance_id, task_id=0, workflow_id=workflow_id, workflow_run_id=0,
            array_id=0, name="", command="", compute_resources={}, attempt=0,
            launch_token=token,
        )
        running = execution.adopt(instance, pid, paths)
        alive = not running.finished.done()  # adopt() found its wrapper still running
        running.adopted = True
        if status in (TIS.INSTANTIATED, TIS.TRIAGING):
            # it started (or the reaper wondered): say so before saying how it ended
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance_id, status=str(TIS.RUNNING),
                distributor_id=execution.local_distributor_id(pid) if alive else None,
                nodename=execution.NODENAME, process_id=pid,
                stdout_path=str(paths.stdout), stderr_path=str(paths.stderr)))
        if status == TIS.KILL_SELF:
            running.kill_status = str(TIS.ERROR_FATAL)
            running.kill_reason = "killed on request"
            if not running.finished.done():
                self._terminate(running)
        self._cores_used += 1
        self._running[instance_id] = running
        self._group.start_soon(self._await_exit, running)
        return True

    def orphans(self) -> list[tuple[int, str]]:
        """Commands of this log folder that no live distributor watches and nobody adopted."""
        self._orphans_found = {}
        for wrapper in execution.wrappers_under(self.log_dir):
            record = wrapper.record
            if wrapper.task_instance_id in self._running or record is None \
                    or record.pid != wrapper.pid or _owned_elsewhere(wrapper.pid, record):
                continue  # ours, another launch's, a subshell of a wrapper, or watched
            self._orphans_found[wrapper.task_instance_id] = wrapper
        return [(found.task_instance_id, found.launch_token)
                for found in self._orphans_found.values()]

    def end_orphan(self, task_instance_id: int) -> None:
        found = self._orphans_found.pop(task_instance_id, None)
        if found is not None:
            process_tree.kill_session(found.pid, task_instance_id)

    # ------------------------------------------------------------------ killing

    async def kill(self, orders: Sequence[wire.KillOrder]) -> None:
        assert self._reporter is not None
        for order in orders:
            running = self._running.get(order.task_instance_id)
            waiting = next((i for i in self._waiting
                            if i.task_instance_id == order.task_instance_id), None)
            if waiting is not None:
                self._waiting.remove(waiting)
                self._inputs.pop(waiting.task_instance_id, None)
            if running is None:
                if waiting is not None or order.distributor_id is None:
                    # it never started: nothing to kill
                    self._reporter.report(wire.InstanceUpdate(
                        task_instance_id=order.task_instance_id, status=str(TIS.ERROR_FATAL),
                        error_message="killed before it started",
                    ))
                # else it runs under another distributor, which will kill it (or the
                # reaper closes it when nobody confirms the kill in time)
                continue
            if running.kill_status is None:
                running.kill_status = str(TIS.ERROR_FATAL)
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

    async def stop(self, drain: bool = False) -> None:
        """Kill every command still running (or, draining, wait for them) and report."""
        assert self._reporter is not None
        if drain:
            log.info("draining: waiting for %d running commands", len(self._running))
            while self._running or self._waiting:
                await self._freed.wait()
        for instance in self._waiting:
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance.task_instance_id, status=str(TIS.NO_DISTRIBUTOR_ID),
                error_message="the distributor shut down before starting it",
            ))
        self._waiting.clear()
        self._inputs.clear()
        self._runs.clear()
        for running in list(self._running.values()):
            if running.kill_status is None:
                running.kill_status = str(TIS.KILL_SELF)
                running.kill_reason = "the distributor shut down"
            self._terminate(running)
        with anyio.move_on_after(TERM_GRACE + 5):
            while self._running:
                await self._freed.wait()
        if self._subreaper:  # left behind by commands, and not known as theirs
            for pid in self._orphans():
                process_tree.kill_tree(pid)
            for _ in range(50):  # SIGKILL takes effect within moments: collect them
                if all(process_tree.is_zombie(pid) for pid in self._orphans()):
                    break
                await anyio.sleep(0.02)
            self._reap_orphans()


def _owned_elsewhere(pid: int, record: execution.WrapperRecord | None) -> bool:
    """Whether another live distributor on this host runs this command, or just ran it and
    will report how it ended (its wrapper names the distributor that started it)."""
    if record is None or record.parent in (0, os.getpid()) or pid == 0:
        return False
    parent = process_tree.parent(pid)
    if parent is not None:
        return parent == record.parent  # re-parented away when its distributor died
    arguments = process_tree.command_line(record.parent)
    return b"jobmon" in arguments and b"distributor" in arguments


def _adopted_logs(paths: InstancePaths, pid: int, instance_id: int) -> InstancePaths:
    """The log files of a command another distributor started (by jobmon.logs' rule).

    Its name and resources are not at hand here: a live command's open stdout and stderr
    say where they are; for one that ended, its files in the default folder (when the
    task named no folder of its own) are found by their job id, the instance id.
    """
    found: dict[str, str] = {}
    for stream, descriptor, letter in (("stdout", 1, "o"), ("stderr", 2, "e")):
        with contextlib.suppress(OSError):
            if pid:
                target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
                if target.endswith(f".{letter}{instance_id}") and os.path.isabs(target):
                    found[stream] = target
                    continue
        matches = sorted(Path(paths.stdout).parent.glob(f"*.{letter}{instance_id}"))
        if matches:
            found[stream] = str(matches[0])
    return paths.with_streams(found.get("stdout", paths.stdout),
                              found.get("stderr", paths.stderr))
