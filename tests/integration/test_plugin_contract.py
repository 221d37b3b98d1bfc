"""One contract, every cluster plugin: launch, report, kill, stop with and without drain, adopt.

Each plugin is driven through the ``ClusterPlugin`` protocol only, as the distributor service
drives it, with a reporter that keeps what the plugin reports instead of sending it. Every
instance's reports must be a path the server accepts (jobmon.status.TASK_INSTANCE, from
INSTANTIATED, which the claim set) and must end as the plugin promises. Commands are real
processes; the Slurm plugin's own parametrisation is in tests/integration/slurm.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from jobmon import wire
from jobmon.distributor import execution
from jobmon.distributor.execution import InstancePaths
from jobmon.distributor.plugins.base import AdoptingPlugin, ClusterPlugin
from jobmon.distributor.plugins.dummy import DummyPlugin
from jobmon.distributor.plugins.local import LocalPlugin
from jobmon.distributor.reporter import Reporter
from jobmon.status import TASK_INSTANCE, TASK_INSTANCE_FINAL, TaskInstanceStatus, Verdict

pytestmark = pytest.mark.anyio
TIS = TaskInstanceStatus
FINAL = {str(status) for status in TASK_INSTANCE_FINAL}
WAIT = 10.0  # seconds: how long any one report may take


class RecordingReporter(Reporter):
    """Keeps each report, by instance, in the order the plugin made them."""

    def __init__(self) -> None:
        super().__init__(requester=None)  # type: ignore[arg-type]  # never sends
        self.by_instance: dict[int, list[wire.InstanceUpdate]] = {}
        self._changed = anyio.Event()

    def report(self, update: wire.InstanceUpdate) -> None:
        self.by_instance.setdefault(update.task_instance_id, []).append(update)
        self._changed.set()
        self._changed = anyio.Event()

    def statuses(self, instance_id: int) -> list[str]:
        return [update.status for update in self.by_instance.get(instance_id, [])]

    def last(self, instance_id: int) -> wire.InstanceUpdate:
        return self.by_instance[instance_id][-1]

    async def wait_for(self, instance_id: int, statuses: set[str]) -> wire.InstanceUpdate:
        """The first report of one of ``statuses`` for the instance, waiting for it."""
        with anyio.fail_after(WAIT):
            while True:
                for update in self.by_instance.get(instance_id, []):
                    if update.status in statuses:
                        return update
                await self._changed.wait()


@dataclass(frozen=True)
class Flavour:
    """A plugin, and which parts of the contract it takes on."""

    name: str
    make: Callable[[Path], ClusterPlugin]
    runs_commands: bool  # False: the dummy, which reports success without running anything
    parallel: bool  # whether two commands run at once


FLAVOURS = [
    Flavour("local", lambda logs: LocalPlugin("local", 2, logs), True, True),
    Flavour("sequential", lambda logs: LocalPlugin("sequential", 1, logs), True, False),
    Flavour("dummy", lambda logs: DummyPlugin(), False, True),
]
COMMANDING = [flavour for flavour in FLAVOURS if flavour.runs_commands]
ADOPTING = [flavour for flavour in FLAVOURS
            if isinstance(flavour.make(Path("/nonexistent")), AdoptingPlugin)]


def instance(instance_id: int, command: str, token: str = "") -> wire.ClaimedInstance:
    return wire.ClaimedInstance(
        task_instance_id=instance_id, task_id=instance_id, workflow_id=1, workflow_run_id=1,
        array_id=1, name=f"contract_{instance_id}", command=command,
        compute_resources={"cores": 1}, attempt=1, launch_token=token or f"token-{instance_id}",
    )


def assert_accepted_path(reporter: RecordingReporter, instance_id: int,
                         start: TaskInstanceStatus = TIS.INSTANTIATED) -> None:
    """Each report moves the instance by a transition the server applies (or ignores as
    late), from ``start`` (INSTANTIATED: as claimed); a REJECTed one is a plugin's bug."""
    current = start
    for status in reporter.statuses(instance_id):
        requested = TIS(status)
        verdict = TASK_INSTANCE.verdict(current, requested)
        assert verdict is not Verdict.REJECT, (
            f"instance {instance_id}: {current.name} -> {requested.name} in "
            f"{reporter.statuses(instance_id)}")
        if verdict is Verdict.APPLY:
            current = requested


@dataclass
class Driven:
    plugin: ClusterPlugin
    reporter: RecordingReporter
    logs: Path


@asynccontextmanager
async def driven_plugin(flavour: Flavour, tmp_path: Path) -> AsyncIterator[Driven]:
    logs = tmp_path / "logs"
    plugin = flavour.make(logs)
    reporter = RecordingReporter()
    async with anyio.create_task_group() as group:
        await plugin.start(group, reporter)
        driven = Driven(plugin, reporter, logs)
        try:
            yield driven
        finally:
            with anyio.CancelScope(shield=True), anyio.fail_after(WAIT + 5):
                await plugin.stop()
            group.cancel_scope.cancel()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda flavour: flavour.name)
async def test_a_launched_instance_is_reported_running_then_done(
        flavour: Flavour, tmp_path: Path) -> None:
    async with driven_plugin(flavour, tmp_path) as driven:
        assert driven.plugin.capacity() > 0
        await driven.plugin.launch([instance(1, "echo hello"), instance(2, "true")])
        for instance_id in (1, 2):
            done = await driven.reporter.wait_for(instance_id, FINAL)
            assert done.status == TIS.DONE, driven.reporter.statuses(instance_id)
            assert done.exit_code == 0
            assert_accepted_path(driven.reporter, instance_id)
            running = driven.reporter.by_instance[instance_id][0]
            assert running.status == TIS.RUNNING and running.distributor_id
        assert driven.plugin.live_instance_ids() == []  # it forgets what it reported ended


@pytest.mark.parametrize("flavour", COMMANDING, ids=lambda flavour: flavour.name)
async def test_a_failing_command_is_reported_with_its_exit_code(
        flavour: Flavour, tmp_path: Path) -> None:
    async with driven_plugin(flavour, tmp_path) as driven:
        await driven.plugin.launch([instance(1, "echo oops >&2; exit 3")])
        ended = await driven.reporter.wait_for(1, FINAL)
        assert ended.status == TIS.ERROR and ended.exit_code == 3
        assert ended.stderr_tail is not None and "oops" in ended.stderr_tail
        assert_accepted_path(driven.reporter, 1)


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda flavour: flavour.name)
async def test_killing_an_instance_never_started_reports_it_fatal(
        flavour: Flavour, tmp_path: Path) -> None:
    async with driven_plugin(flavour, tmp_path) as driven:
        await driven.plugin.kill([wire.KillOrder(task_instance_id=7, distributor_id=None,
                                                 status=str(TIS.KILL_SELF))])
        assert (await driven.reporter.wait_for(7, FINAL)).status == TIS.ERROR_FATAL


@pytest.mark.parametrize("flavour", COMMANDING, ids=lambda flavour: flavour.name)
async def test_killing_a_running_instance_ends_its_command(
        flavour: Flavour, tmp_path: Path) -> None:
    async with driven_plugin(flavour, tmp_path) as driven:
        await driven.plugin.launch([instance(1, "sleep 60")])
        running = await driven.reporter.wait_for(1, {str(TIS.RUNNING)})
        assert running.process_id is not None and 1 in driven.plugin.live_instance_ids()
        await driven.plugin.kill([wire.KillOrder(
            task_instance_id=1, distributor_id=running.distributor_id,
            status=str(TIS.KILL_SELF))])
        assert (await driven.reporter.wait_for(1, FINAL)).status == TIS.ERROR_FATAL
        assert not _alive(running.process_id)
        assert 1 not in driven.plugin.live_instance_ids()


async def _stopped(flavour: Flavour, tmp_path: Path, commands: Sequence[str],
                   drain: bool) -> tuple[RecordingReporter, list[int | None], float]:
    """Launch the commands, wait for the first to run, stop: (reports, pids, seconds)."""
    plugin = flavour.make(tmp_path / "logs")
    reporter = RecordingReporter()
    async with anyio.create_task_group() as group:
        await plugin.start(group, reporter)
        await plugin.launch([instance(n, command) for n, command in enumerate(commands, 1)])
        await reporter.wait_for(1, {str(TIS.RUNNING)})
        started = anyio.current_time()
        with anyio.fail_after(WAIT + 5):
            await plugin.stop(drain=drain)
        took = anyio.current_time() - started
        group.cancel_scope.cancel()
    pids = [reporter.by_instance[n][0].process_id if n in reporter.by_instance else None
            for n in range(1, len(commands) + 1)]
    return reporter, pids, took


@pytest.mark.parametrize("flavour", COMMANDING, ids=lambda flavour: flavour.name)
async def test_stop_without_drain_kills_what_runs_and_gives_up_what_waits(
        flavour: Flavour, tmp_path: Path) -> None:
    commands = ["sleep 60"] * (3 if flavour.parallel else 2)  # one more than run at once
    reporter, pids, took = await _stopped(flavour, tmp_path, commands, drain=False)
    assert took < 10
    for n, pid in enumerate(pids, 1):
        final = reporter.last(n)
        if pid is None:  # never started: handed back for another distributor
            assert final.status == TIS.NO_DISTRIBUTOR_ID
        else:  # K, then F: the server counts it as killed, not as a failed attempt
            assert reporter.statuses(n)[-2:] == [TIS.KILL_SELF, TIS.ERROR_FATAL]
            assert not _alive(pid)
        assert_accepted_path(reporter, n)
    assert pids[-1] is None and all(pids[:-1])  # the last waited for a free slot


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda flavour: flavour.name)
async def test_stop_with_drain_lets_what_runs_finish(flavour: Flavour, tmp_path: Path) -> None:
    commands = ["sleep 0.5; echo drained"] * 2
    reporter, _, took = await _stopped(flavour, tmp_path, commands, drain=True)
    for n in (1, 2):
        final = reporter.last(n)
        assert final.status == TIS.DONE and final.exit_code == 0, reporter.statuses(n)
        assert_accepted_path(reporter, n)
    if flavour.runs_commands:
        assert took >= 0.4  # it waited for the commands
        for n in (1, 2):
            stdout = reporter.by_instance[n][0].stdout_path
            assert stdout is not None
            assert await anyio.Path(stdout).read_text() == "drained\n"


@pytest.mark.parametrize("flavour", ADOPTING, ids=lambda flavour: flavour.name)
async def test_adopt_watches_what_an_earlier_distributor_started(
        flavour: Flavour, tmp_path: Path) -> None:
    """Commands started by a distributor that is gone (here: started by hand, as it starts
    them) are watched to their end, reported once, and never started again."""
    logs = tmp_path / "logs"
    pids: list[int] = []
    for n, command in ((1, "sleep 0.5; exit 0"), (2, "sleep 0.5; exit 4")):
        paths = InstancePaths.under(logs, 1, n)
        claimed = instance(n, command)
        pids.append(execution.spawn(claimed, paths, claimed.launch_token).pid)
        # until its wrapper wrote its record, its exec may still be under way (its command
        # line not yet readable); a distributor that died did so later than that
        for _ in range(int(WAIT / 0.01)):
            if execution.read_wrapper(paths, claimed.launch_token) is not None:
                break
            await anyio.sleep(0.01)
    try:
        plugin = flavour.make(logs)
        assert isinstance(plugin, AdoptingPlugin)
        reporter = RecordingReporter()
        async with anyio.create_task_group() as group:
            await plugin.start(group, reporter)
            live = wire.LiveInstances(
                task_instance_id=[1, 2, 3],
                distributor_id=[execution.local_distributor_id(pid) for pid in pids]
                + [execution.local_distributor_id(pids[0]).replace(
                    execution.NODENAME, "another-host")],
                status=[str(TIS.RUNNING)] * 3, next_after_id=None, workflow_id=[1, 1, 1],
                workflow_run_id=[1, 1, 1], launch_token=["token-1", "token-2", "token-3"])
            assert await plugin.adopt(live) == 2  # the third runs on another host
            assert sorted(plugin.live_instance_ids()) == [1, 2]
            assert await plugin.adopt(live) == 0  # adopting twice watches each once
            done = await reporter.wait_for(1, FINAL)
            failed = await reporter.wait_for(2, FINAL)
            assert (done.status, done.exit_code) == (TIS.DONE, 0)
            assert (failed.status, failed.exit_code) == (TIS.ERROR, 4)
            for n in (1, 2):
                assert reporter.statuses(n).count(reporter.last(n).status) == 1
                assert_accepted_path(reporter, n, start=TIS.RUNNING)
            assert 3 not in reporter.by_instance
            await plugin.stop()
            group.cancel_scope.cancel()
    finally:
        _reap(pids)


def _reap(pids: list[int]) -> None:
    """Our children, though the plugin watched them as a stranger's: end and collect them."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


