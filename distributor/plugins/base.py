"""The contract between the distributor service and a cluster plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from anyio.abc import TaskGroup

from jobmon import wire
from jobmon.distributor.reporter import Reporter


class ClusterPlugin(Protocol):
    """Launches task instances on one cluster and reports what becomes of them.

    The service claims instances (already INSTANTIATED) and hands them to ``launch``.
    The plugin reports every later status through the reporter: LAUNCHED with the
    cluster's job id, RUNNING, and the end (DONE, ERROR, RESOURCE_ERROR, UNKNOWN_ERROR),
    or NO_DISTRIBUTOR_ID when submission failed for good. It never blocks the event loop.
    """

    name: str

    async def start(self, group: TaskGroup, reporter: Reporter) -> None:
        """Start background work (polling, watching) in ``group``; return when ready."""
        ...

    def capacity(self) -> int:
        """How many more instances the plugin takes now (0: claim nothing)."""
        ...

    async def wait_for_capacity(self) -> None:
        """Return when ``capacity()`` may have grown."""
        ...

    async def launch(self, instances: Sequence[wire.ClaimedInstance]) -> None:
        """Start or submit the instances; returns once each is started or reported failed."""
        ...

    async def kill(self, orders: Sequence[wire.KillOrder]) -> None:
        """Kill these instances (status K) and report each ERROR_FATAL once it is gone."""
        ...

    def live_instance_ids(self) -> list[int]:
        """Instances this plugin watches; the service heartbeats them in one request."""
        ...

    async def stop(self, drain: bool = False) -> None:
        """Shut down: stop or hand off what runs, and report what was stopped.

        ``drain`` (a hot resume took over): start nothing more, but let what runs finish
        and report it, instead of killing it. A plugin whose work outlives it (cluster
        jobs) leaves that work running either way.
        """
        ...


@runtime_checkable
class RunsChildren(Protocol):
    """A plugin whose commands are child processes of the distributor.

    What such a command leaves running when it exits must come back to the distributor
    (a subreaper), so that it ends with the command; the service process asks for that
    once, before it starts anything.
    """

    def become_subreaper(self) -> None:
        """Make this process the reaper of its descendants' orphans."""
        ...


@runtime_checkable
class AdoptingPlugin(Protocol):
    """A plugin whose work outlives it (cluster jobs), so that a new distributor can take over.

    Before it claims anything, the service hands ``adopt`` the instances that earlier
    distributors launched and that are still live on the server (LAUNCHED, RUNNING,
    TRIAGING or KILL_SELF, each with its cluster job id). The plugin watches them as if it
    had launched them itself; it must never launch them again.
    """

    async def adopt(self, live: wire.LiveInstances) -> int:
        """Start watching these instances; returns how many were new to it."""
        ...


@runtime_checkable
class ReportsQueues(Protocol):
    """A plugin that knows its cluster's queues (partitions) and their limits."""

    async def queues(self) -> list[wire.QueueInfo]:
        """The cluster's queues; the swarm scales resources within them."""
        ...


@runtime_checkable
class EndsOrphans(Protocol):
    """A plugin that can find commands left running by distributors that died and that
    nobody adopted (the server gave their instances up, or they are of another database).

    After adoption, the service asks the server about each; those whose instance is this
    launch (same launch id) and no longer live are killed before anything runs again.
    """

    def orphans(self) -> list[tuple[int, str]]:
        """(task instance id, launch id) of each such command on this host."""
        ...

    def end_orphan(self, task_instance_id: int) -> None:
        """Kill that command and what it started."""
        ...


@runtime_checkable
class TakesInputs(Protocol):
    """A plugin that runs commands itself (not through ``jobmon worker``), so the service
    fetches the upstream outputs of what it claims, and the input runs of their workflows,
    and hands them over before launching.

    ``jobmon worker`` fetches its own instance's inputs with its own credential instead.
    """

    def take_inputs(self, inputs: dict[int, dict[str, Any]]) -> None:
        """{task instance id: {upstream task name: output}} of instances about to launch."""
        ...

    def take_runs(self, runs: dict[int, dict[str, Any]]) -> None:
        """{workflow id: JOBMON_RUNS' content} of the workflows of instances about to
        launch that take finished runs as input (the claim answers them)."""
        ...
