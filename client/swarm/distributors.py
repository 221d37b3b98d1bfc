"""The distributor child processes of a run: started, watched, restarted, stopped by PID.

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

from jobmon.settings import default_data_home

log = logging.getLogger(__name__)

MAX_RESTARTS = 5
STOP_TIMEOUT = 15.0
DRAIN_TIMEOUT = 7 * 86400.0  # a hot takeover waits for running tasks, however long


@dataclass
class _Child:
    cluster_name: str
    process: Process
    log_path: Path
    restarts: int = 0


@dataclass
class DistributorSupervisor:
    """One distributor process per cluster for one workflow run.

    ``start`` may run before the run exists (while the workflow binds): the children then
    wait for their run id on stdin, which ``assign`` sends.
    """

    service_url: str
    cluster_names: list[str]
    workflow_run_id: int | None = None
    log_dir: Path = field(default_factory=lambda: default_data_home() / "logs")
    _children: dict[str, _Child] = field(default_factory=dict)

    async def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for cluster_name in self.cluster_names:
            self._children[cluster_name] = await self._spawn(cluster_name)

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
        environment["JOBMON__HTTP__SERVICE_URL"] = self.service_url
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
        return _Child(cluster_name, process, log_path)

    async def check(self) -> list[str]:
        """Restart distributors that died; returns a line for each restart."""
        notes: list[str] = []
        for cluster_name, child in list(self._children.items()):
            code = child.process.returncode
            if code is None:
                continue
            if child.restarts >= MAX_RESTARTS:
                raise RuntimeError(
                    f"the distributor for cluster {cluster_name!r} died {child.restarts + 1} "
                    f"times (last exit code {code}); see {child.log_path}"
                )
            notes.append(
                f"the distributor for cluster {cluster_name!r} exited with code {code}; "
                "starting a new one"
            )
            await _close(child.process)
            replacement = await self._spawn(cluster_name)
            replacement.restarts = child.restarts + 1
            self._children[cluster_name] = replacement
        return notes

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


async def _close(process: Process) -> None:
    with contextlib.suppress(Exception):
        await process.aclose()
