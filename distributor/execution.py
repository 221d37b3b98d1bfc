"""Running one task command: environment, log files, exit status and resource usage.

Used by the local plugins (many commands from one process, no interpreter per task) and
by ``jobmon worker`` on a cluster node. Exit status and max RSS come from ``wait4``,
woken by a pidfd on Linux, so no thread is spent per running command.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import shutil
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from jobmon import wire

PAYLOAD_LIMIT = 1024 * 1024  # JOBMON_OUTPUT and JOBMON_CONTEXT, in bytes
STDERR_TAIL = 4096
NODENAME = socket.gethostname()


@dataclass(frozen=True)
class InstancePaths:
    stdout: Path
    stderr: Path
    output: Path
    context: Path

    @classmethod
    def under(cls, log_dir: Path, workflow_id: int, instance_id: int) -> InstancePaths:
        base = log_dir / f"workflow-{workflow_id}"
        stem = f"ti{instance_id}"
        return cls(
            stdout=base / f"{stem}.out",
            stderr=base / f"{stem}.err",
            output=base / f"{stem}.output.json",
            context=base / f"{stem}.context.json",
        )


@dataclass
class Finished:
    """How a command ended."""

    exit_code: int | None  # None when killed by a signal
    signal: int | None
    maxrss_bytes: int
    wallclock: float


@dataclass
class Running:
    """A started command; ``finished`` resolves when it exits."""

    instance: wire.ClaimedInstance | wire.InstanceInfo
    pid: int
    paths: InstancePaths
    started: float
    finished: asyncio.Future[Finished]
    kill_reason: str | None = None
    kill_status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# A command made only of these characters means the same with or without a shell.
_PLAIN_COMMAND = re.compile(r"[A-Za-z0-9_./:,+@%=-]+(?:[ \t]+[A-Za-z0-9_./:,+@%=-]+)*")
SHELL = "/bin/sh"


@functools.lru_cache(maxsize=1024)
def _which(name: str, path: str) -> str | None:
    return shutil.which(name, path=path)


def shell_free_argv(command: str, path: str) -> list[str]:
    """The argv to run ``command``: without a shell when none is needed (saves its start-up).

    Anything with quotes, expansions, redirections, globs or control operators goes to
    /bin/sh -c, and so does a program that cannot be found (the shell then says so).
    """
    text = command.strip()
    if _PLAIN_COMMAND.fullmatch(text):
        words = text.split()
        if "=" not in words[0]:  # NAME=value prefixes are for the shell
            program = words[0] if "/" in words[0] else _which(words[0], path)
            if program is not None and os.access(program, os.X_OK):
                return [program, *words[1:]]
    return [SHELL, "-c", command]


def environment(instance: wire.ClaimedInstance | wire.InstanceInfo,
                paths: InstancePaths) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        JOBMON_TASK_ID=str(instance.task_id),
        JOBMON_TASK_INSTANCE_ID=str(instance.task_instance_id),
        JOBMON_WORKFLOW_ID=str(instance.workflow_id),
        JOBMON_WORKFLOW_RUN_ID=str(instance.workflow_run_id),
        JOBMON_ATTEMPT=str(instance.attempt),
        JOBMON_OUTPUT=str(paths.output),
        JOBMON_CONTEXT=str(paths.context),
    )
    return env


def prepare_files(instance: wire.ClaimedInstance | wire.InstanceInfo,
                  paths: InstancePaths) -> None:
    """Create the log directory; leave the task's saved context where it will look."""
    paths.stdout.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        paths.output.unlink()
    if instance.context is not None:
        paths.context.write_bytes(msgspec.json.encode(instance.context))
    else:
        with contextlib.suppress(FileNotFoundError):
            paths.context.unlink()


def start(instance: wire.ClaimedInstance | wire.InstanceInfo, paths: InstancePaths) -> Running:
    """Start the command under /bin/sh in its own session; returns at once."""
    prepare_files(instance, paths)
    loop = asyncio.get_running_loop()
    append = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    # posix_spawn: no fork of this (large) process, and our fds are close-on-exec already.
    env = environment(instance, paths)
    argv = shell_free_argv(instance.command, env.get("PATH", os.defpath))
    pid = os.posix_spawn(
        argv[0],
        argv,
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(paths.stdout), append, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, str(paths.stderr), append, 0o644),
        ],
        setsid=True,
    )
    future: asyncio.Future[Finished] = loop.create_future()
    started = time.monotonic()
    _watch(loop, pid, started, future)
    return Running(instance=instance, pid=pid, paths=paths, started=started, finished=future)


def _finished(status: int, usage: Any, started: float) -> Finished:
    code = os.waitstatus_to_exitcode(status)
    return Finished(
        exit_code=code if code >= 0 else None,
        signal=-code if code < 0 else None,
        maxrss_bytes=int(usage.ru_maxrss) * 1024,
        wallclock=time.monotonic() - started,
    )


def _watch(loop: asyncio.AbstractEventLoop, pid: int, started: float,
           future: asyncio.Future[Finished]) -> None:
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        loop.run_in_executor(None, _wait_blocking, loop, pid, started, future)
        return

    def on_exit() -> None:
        try:
            waited, status, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            waited, status, usage = pid, 0, None
        if waited == 0:
            return
        loop.remove_reader(pidfd)
        os.close(pidfd)
        if not future.done():
            if usage is None:
                future.set_result(Finished(None, None, 0, time.monotonic() - started))
            else:
                future.set_result(_finished(status, usage, started))

    loop.add_reader(pidfd, on_exit)


def _wait_blocking(loop: asyncio.AbstractEventLoop, pid: int, started: float,
                   future: asyncio.Future[Finished]) -> None:
    _, status, usage = os.wait4(pid, 0)
    result = _finished(status, usage, started)
    def deliver() -> None:
        if not future.done():
            future.set_result(result)

    loop.call_soon_threadsafe(deliver)


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal the command's whole process group (it runs in its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def read_tail(path: Path, limit: int = STDERR_TAIL) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def read_payload(path: Path) -> tuple[Any, str]:
    """A JSON file the task left (output or context), and a problem to report, if any."""
    try:
        size = path.stat().st_size
    except OSError:
        return None, ""
    if size > PAYLOAD_LIMIT:
        return None, f"{path.name} is {size} bytes; the limit is {PAYLOAD_LIMIT} (ignored)"
    try:
        return msgspec.json.decode(path.read_bytes()), ""
    except (OSError, msgspec.DecodeError) as error:
        return None, f"{path.name} is not valid JSON ({error}); ignored"


def outcome_update(running: Running, finished: Finished) -> wire.InstanceUpdate:
    """The report for a command that ended: D, E, or what its killer decided."""
    output, output_problem = read_payload(running.paths.output)
    context, context_problem = read_payload(running.paths.context)
    problems = [p for p in (running.kill_reason, output_problem, context_problem) if p]
    if running.kill_status is not None:
        status = running.kill_status
    elif finished.exit_code == 0:
        status = "D"
    else:
        status = "E"
    exit_code = finished.exit_code
    if exit_code is None and finished.signal is not None:
        exit_code = -finished.signal
        problems.append(f"killed by signal {signal.Signals(finished.signal).name}")
    return wire.InstanceUpdate(
        task_instance_id=running.instance.task_instance_id,
        status=status,
        exit_code=exit_code,
        stderr_tail=read_tail(running.paths.stderr) if status != "D" else None,
        error_message="; ".join(problems) or None,
        maxrss=finished.maxrss_bytes,
        wallclock=round(finished.wallclock, 6),
        output=output if status == "D" else None,
        context=context,
    )
