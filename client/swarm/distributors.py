"""The distributors of a run: child processes started, watched, restarted, stopped by PID,
or a cluster's daemon, watched through its lease.

Each child gets a pipe on stdin that it never writes to; when this process dies, the
pipe closes and the child shuts down, so no distributor outlives its swarm.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from anyio.abc import Process

from jobmon import endpoints, errors, wire
from jobmon import settings as settings_module
from jobmon.clock import Clock, SystemClock
from jobmon.requester import Requester
from jobmon.settings import Settings, default_data_home

log = logging.getLogger(__name__)

STOP_TIMEOUT = 15.0
DRAIN_TIMEOUT = 7 * 86400.0  # a hot takeover waits for running tasks, however long


@dataclass(frozen=True)
class RestartPolicy:
    """When a distributor that died is started again, and when the run gives up (pure).

    The first death is answered at once (its orphaned commands await adoption); the next
    ones of a failing streak wait longer each time, up to ``max_wait``. A child that lived
    ``healthy_after`` seconds ends the streak. The run gives up once a streak lasted
    longer than ``window``: as long as a client retries a server that is away.
    """

    max_wait: float
    window: float
    first_wait: float = 0.25
    healthy_after: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RestartPolicy:
        return cls(max_wait=settings.http.retry_max_wait, window=settings.http.retry_seconds)

    def delay(self, deaths: int) -> float:
        """Seconds before the restart that follows death number ``deaths`` of a streak."""
        if deaths <= 1:
            return 0.0
        return float(min(self.max_wait, self.first_wait * 2 ** (deaths - 2)))

    def gives_up(self, deaths: int, streak_seconds: float) -> bool:
        return deaths > 1 and streak_seconds > self.window


@dataclass
class _Child:
    cluster_name: str
    process: Process
    log_path: Path
    started_at: float
    deaths: int = 0  # in the current failing streak
    streak_since: float = 0.0
    restart_at: float | None = None  # set once it is found dead


@dataclass
class DistributorSupervisor:
    """One distributor process per cluster for one workflow run, unless a daemon serves it.

    ``start`` may run before the run exists (while the workflow binds): the children then
    wait for their run id on stdin, which ``assign`` sends. A cluster served by a daemon is
    watched through the daemon's lease: if the daemon stops renewing it, this run starts
    its own distributor, which adopts what the daemon left running.
    """

    requester: Requester
    cluster_names: list[str]
    workflow_run_id: int | None = None
    settings: Settings | None = None
    clock: Clock = field(default_factory=SystemClock)
    log_dir: Path = field(default_factory=lambda: default_data_home() / "logs")
    _children: dict[str, _Child] = field(default_factory=dict)
    _daemons: dict[str, float] = field(default_factory=dict)  # cluster: next lease check

    def __post_init__(self) -> None:
        settings = self.settings or settings_module.get()
        self._policy = RestartPolicy.from_settings(settings)
        self._lease_check_every = settings.heartbeat.task_instance_interval

    async def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for cluster_name in self.cluster_names:
            daemon = await self._daemon(cluster_name)
            if daemon is not None and daemon.live:
                log.info("cluster %r is served by the daemon pid %d on %s", cluster_name,
                         daemon.process_id, daemon.hostname)
                self._daemons[cluster_name] = self.clock.monotonic() + self._lease_check_every
            else:
                self._children[cluster_name] = await self._spawn(cluster_name)

    async def _daemon(self, cluster_name: str) -> wire.DistributorStatus | None:
        try:
            return await self.requester.call(endpoints.DISTRIBUTOR, cluster_name=cluster_name)
        except errors.ServerError:  # a server without daemons
            return None

    async def assign(self, workflow_run_id: int) -> None:
        """Tell children started before the run which run they serve."""
        self.workflow_run_id = workflow_run_id
        for child in self._children.values():
            if child.process.stdin is not None and child.process.returncode is None:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await child.process.stdin.send(f"{workflow_run_id}\n".encode())

    async def _spawn(self, cluster_name: str) -> _Child:
        run = self.workflow_run_id
        log_path = self.log_dir / (f"distributor-run{run}-{cluster_name}.log" if run
                                   else f"distributor-pid{os.getpid()}-{cluster_name}.log")
        environment = dict(os.environ)
        # the requester's URL now: a local server started again may listen elsewhere
        environment["JOBMON__HTTP__SERVICE_URL"] = self.requester.base_url
        command = [
            sys.executable, "-m", "jobmon", "distributor",
            "--cluster", cluster_name,
            *(["--workflow-run-id", str(run)] if run else ["--run-id-from-stdin"]),
            "--exit-on-stdin-close",
        ]
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            process = await anyio.open_process(
                command, stdin=subprocess.PIPE, stdout=log_fd, stderr=log_fd,
                env=environment, start_new_session=True,
            )
        finally:
            os.close(log_fd)
        log.debug("started distributor %s for cluster %s (pid %d)", command, cluster_name,
                  process.pid)
        return _Child(cluster_name, process, log_path, started_at=self.clock.monotonic())

    async def check(self) -> list[str]:
        """Restart distributors that died (backing off) and replace lapsed daemons.

        Returns a line for each event worth telling the user.
        """
        notes: list[str] = []
        for cluster_name, child in list(self._children.items()):
            if child.process.returncode is not None:
                notes += await self._restart(cluster_name, child)
        for cluster_name, next_check in list(self._daemons.items()):
            if self.clock.monotonic() >= next_check:
                notes += await self._check_daemon(cluster_name)
        return notes

    async def _restart(self, cluster_name: str, child: _Child) -> list[str]:
        now = self.clock.monotonic()
        notes = []
        if child.restart_at is None:  # just found dead
            if child.deaths == 0 or now - child.started_at >= self._policy.healthy_after:
                child.deaths, child.streak_since = 0, now
            child.deaths += 1
            code = child.process.returncode
            if self._policy.gives_up(child.deaths, now - child.streak_since):
                # what Jobmon's run() raises when its distributor dies (advanced_usage.rst)
                raise errors.DistributorNotAlive(
                    f"the distributor for cluster {cluster_name!r} died {child.deaths} times "
                    f"in {now - child.streak_since:.0f} s (last exit code {code}); see "
                    f"{child.log_path}"
                )
            delay = self._policy.delay(child.deaths)
            child.restart_at = now + delay
            notes.append(
                f"the distributor for cluster {cluster_name!r} exited with code {code}; "
                + (f"starting a new one in {delay:.1f} s" if delay else "starting a new one")
            )
        if now >= child.restart_at:
            await _close(child.process)
            replacement = await self._spawn(cluster_name)
            replacement.deaths, replacement.streak_since = child.deaths, child.streak_since
            self._children[cluster_name] = replacement
        return notes

    async def _check_daemon(self, cluster_name: str) -> list[str]:
        self._daemons[cluster_name] = self.clock.monotonic() + self._lease_check_every
        daemon = await self._daemon(cluster_name)
        if daemon is not None and daemon.live:
            return []
        del self._daemons[cluster_name]
        self._children[cluster_name] = await self._spawn(cluster_name)
        holder = f" (pid {daemon.process_id} on {daemon.hostname})" if daemon and \
            daemon.process_id else ""
        return [f"the daemon serving cluster {cluster_name!r}{holder} stopped renewing its "
                "lease; this run starts its own distributor"]

    def pids(self) -> dict[str, int]:
        return {name: child.process.pid for name, child in self._children.items()}

    async def stop(self, drain: bool = False) -> None:
        """SIGTERM every child by PID, wait, then SIGKILL what is left.

        With ``drain`` (a hot resume took over) the children get SIGUSR1 instead: they
        start nothing new, let their running commands finish and report, then exit.
        """
        with anyio.CancelScope(shield=True):
            for child in self._children.values():
                if child.process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        child.process.send_signal(signal.SIGUSR1 if drain else signal.SIGTERM)
            for child in self._children.values():
                with anyio.move_on_after(DRAIN_TIMEOUT if drain else STOP_TIMEOUT):
                    await child.process.wait()
                if child.process.returncode is None:
                    log.warning("distributor pid %d ignored SIGTERM; killing it",
                                child.process.pid)
                    with contextlib.suppress(ProcessLookupError):
                        child.process.kill()
                    await child.process.wait()
                await _close(child.process)
            self._children.clear()
            self._daemons.clear()


async def _close(process: Process) -> None:
    with contextlib.suppress(Exception):
        await process.aclose()
