"""`jobmon server --processes N`: N server processes on one port (SO_REUSEPORT), supervised.

One Python process serves on one core. Several processes on one host share the listening
port through SO_REUSEPORT: each binds it on its own and the kernel spreads new connections
over them. The supervisor applies the migrations once, starts the children, starts again
one that dies (within a budget, so that a child that cannot start does not loop forever),
and on SIGTERM or SIGINT stops every child and waits for it. The children get SIGINT if
the supervisor itself dies (a parent-death signal), so none outlives it.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from jobmon.errors import JobmonError
from jobmon.processes import process_exists
from jobmon.server.embedded import parent_death_signal
from jobmon.server.metrics import MULTIPROCESS_DIR
from jobmon.settings import default_data_home

log = logging.getLogger(__name__)

POLL_EVERY = 0.2  # seconds between two looks at the children
READY_TIMEOUT = 120.0  # seconds a child may take to listen
STOP_TIMEOUT = 30.0  # seconds the children get to finish their requests on SIGTERM


class SupervisorError(JobmonError, RuntimeError):
    """The server processes could not be started or kept running."""


@dataclass
class RestartBudget:
    """At most ``limit`` restarts within ``window`` seconds: beyond, a child is not started
    again (it keeps dying: a bad setting, a port taken, a database gone)."""

    limit: int = 5
    window: float = 60.0
    _times: deque[float] = field(default_factory=deque)

    def allow(self, now: float) -> bool:
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


@dataclass
class Child:
    index: int
    process: subprocess.Popen[bytes]
    ready_pipe: int  # the child writes a line here once it listens
    ready: bool = False

    def poll_ready(self) -> bool:
        """Whether the child said it listens (reads what came on its pipe, if anything)."""
        if not self.ready:
            with suppress(BlockingIOError):
                self.ready = bool(os.read(self.ready_pipe, 4096))
        return self.ready

    def close(self) -> None:
        if self.ready_pipe >= 0:
            os.close(self.ready_pipe)
            self.ready_pipe = -1


@contextmanager
def reserved_port(host: str, port: int) -> Iterator[int]:
    """The port the children share; for port 0 a free one, held (bound, not listening,
    SO_REUSEPORT) until they listen on it, so no other program takes it meanwhile."""
    if port != 0:
        yield port
        return
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    with socket.socket(family, kind, proto) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(address)
        yield int(holder.getsockname()[1])


class Supervisor:
    """Starts ``count`` children from ``command`` (given each the descriptor to say it is
    ready on) and keeps them running until ``stop`` is set; then stops them all."""

    def __init__(self, command: Callable[[int], list[str]], env: dict[str, str], count: int,
                 budget: RestartBudget | None = None) -> None:
        self._command = command
        self._env = env
        self._count = count
        self._budget = budget or RestartBudget()
        self.children: list[Child] = []

    def _spawn(self, index: int) -> Child:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        try:
            process = subprocess.Popen(
                self._command(write_end), env=self._env, stdin=subprocess.DEVNULL,
                pass_fds=(write_end,),
                start_new_session=True,  # a terminal's Ctrl-C reaches the supervisor only
                preexec_fn=parent_death_signal(),  # as the embedded PostgreSQL's
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        log.info("server process %d started (pid %d)", index, process.pid)
        return Child(index, process, read_end)

    async def run(self, stop: anyio.Event, on_ready: Callable[[], None]) -> None:
        try:
            self.children = [self._spawn(index) for index in range(self._count)]
            await self._wait_ready()
            on_ready()
            while not stop.is_set():
                with anyio.move_on_after(POLL_EVERY):
                    await stop.wait()
                if not stop.is_set():
                    self._replace_dead()
        finally:
            with anyio.CancelScope(shield=True):
                await self._stop_all()

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not all([child.poll_ready() for child in self.children]):
            for child in self.children:
                code = child.process.poll()
                if code is not None:
                    raise SupervisorError(
                        f"server process {child.index} exited with code {code} before it "
                        "listened (its log is above)")
            if time.monotonic() > deadline:
                raise SupervisorError(f"the server processes did not listen within "
                                      f"{READY_TIMEOUT:.0f} s")
            await anyio.sleep(0.05)

    def _replace_dead(self) -> None:
        for position, child in enumerate(self.children):
            code = child.process.poll()
            if code is None:
                continue
            if not self._budget.allow(time.monotonic()):
                raise SupervisorError(
                    f"server process {child.index} exited with code {code}, and "
                    f"{self._budget.limit} processes were started again within "
                    f"{self._budget.window:.0f} s: giving up")
            log.error("server process %d (pid %d) exited with code %d: starting another",
                      child.index, child.process.pid, code)
            forget_metrics_of(child.process.pid, self._env)
            child.close()
            self.children[position] = self._spawn(child.index)

    async def _stop_all(self) -> None:
        """SIGTERM to every child, then wait; SIGKILL to those still there after the wait."""
        running = [child.process for child in self.children if child.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(process.poll() is None for process in running):
            if time.monotonic() > deadline:
                for process in running:
                    if process.poll() is None:
                        log.error("server process %d did not stop within %.0f s: killing it",
                                  process.pid, STOP_TIMEOUT)
                        process.kill()
                        process.wait()
                break
            await anyio.sleep(0.05)
        for child in self.children:
            child.close()
        log.info("all %d server processes stopped", len(self.children))


def child_command(host: str, port: int, ready_fd: int) -> list[str]:
    """How the supervisor starts one server process (the database comes in the environment,
    so that its password is never on a command line)."""
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    return [sys.executable, "-m", "jobmon", "--log-level", str(level), "server",
            "--host", host, "--port", str(port), "--processes", "1", "--reuse-port",
            "--no-upgrade", "--ready-fd", str(ready_fd)]


async def supervise(dsn: str, host: str, port: int, count: int, stop: anyio.Event,
                    on_ready: Callable[[int], None]) -> None:
    """Run ``count`` server processes on ``host``:``port`` until ``stop`` is set."""
    # the processes' metrics in one folder, so that any of them answers /metrics for all
    metrics_dir = metrics_folder(default_data_home() / "metrics")
    env = {**os.environ, "JOBMON__DB__URL": dsn, MULTIPROCESS_DIR: str(metrics_dir)}
    try:
        await _supervise(env, host, port, count, stop, on_ready)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def metrics_folder(parent: Path) -> Path:
    """A new folder for this supervisor's metrics; those of supervisors that died without
    removing theirs (SIGKILL) go."""
    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.glob("server-*"):
        pid = old.name.removeprefix("server-").split("-")[0]
        if pid.isdigit() and not process_exists(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"server-{os.getpid()}-", dir=parent))




def forget_metrics_of(pid: int, env: dict[str, str]) -> None:
    """A dead process's live gauges (its pool, its waiters) no longer count; its counters
    do, as Prometheus expects of a counter."""
    from prometheus_client import multiprocess

    if env.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(pid, env[MULTIPROCESS_DIR])  # type: ignore[no-untyped-call]


async def _supervise(env: dict[str, str], host: str, port: int, count: int,
                     stop: anyio.Event, on_ready: Callable[[int], None]) -> None:
    with reserved_port(host, port) as shared_port:
        supervisor = Supervisor(lambda ready: child_command(host, shared_port, ready), env,
                                count)

        def ready() -> None:
            pids = [child.process.pid for child in supervisor.children]
            log.info("%d server processes (pids %s) listen on port %d", count,
                     ", ".join(map(str, pids)), shared_port)
            on_ready(shared_port)

        await supervisor.run(stop, ready)
