"""Running one task command: environment, log files, exit status and resource usage.

Used by the local plugins (many commands from one process, no interpreter per task) and
by ``jobmon worker`` on a cluster node. Exit status and max RSS come from ``wait4``,
woken by a pidfd on Linux, so no thread is spent per running command.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import signal
import socket
import time

from jobmon import logs, results
from jobmon.credentials import without_secrets
from jobmon.distributor import process_tree

# What this module imports is paid by every `jobmon worker`, a fresh interpreter per cluster
# job: no pathlib, dataclasses, typing, msgspec or wire types at run time (~25 ms of a
# job's CPU); paths are strings, the records plain classes.
TYPE_CHECKING = False
if TYPE_CHECKING:  # imported where used: `jobmon worker` blocks and need not load asyncio
    import asyncio
    from typing import Any, Protocol

    from jobmon import wire

    class Instance(Protocol):
        """What is read of an instance here: a claimed one (wire.ClaimedInstance), or a
        worker's (wire.InstanceInfo, or its JSON as attributes)."""

        @property
        def task_id(self) -> int: ...
        @property
        def task_instance_id(self) -> int: ...
        @property
        def workflow_id(self) -> int: ...
        @property
        def workflow_run_id(self) -> int: ...
        @property
        def attempt(self) -> int: ...
        @property
        def name(self) -> str: ...
        @property
        def command(self) -> str: ...
        @property
        def compute_resources(self) -> dict[str, Any]: ...
        @property
        def has_upstream(self) -> bool: ...
        @property
        def has_runs(self) -> bool: ...
        @property
        def context(self) -> Any: ...
        @property
        def launch_token(self) -> str: ...

PAYLOAD_LIMIT = 1024 * 1024  # JOBMON_OUTPUT and JOBMON_CONTEXT, in bytes
STDERR_TAIL = 4096
NODENAME = socket.gethostname()


class InstancePaths:
    """Where an instance's files are (absolute paths, as strings)."""

    __slots__ = ("folder", "instance_id", "stderr", "stdout")

    def __init__(self, folder: str, instance_id: int, stdout: str | None = None,
                 stderr: str | None = None) -> None:
        self.folder = folder  # the workflow's folder: the shared JOBMON_INPUTS files
        self.instance_id = instance_id
        self.stdout = stdout or posixpath.join(folder, f"ti{instance_id}.out")
        self.stderr = stderr or posixpath.join(folder, f"ti{instance_id}.err")

    @classmethod
    def under(cls, log_dir: str | os.PathLike[str], workflow_id: int,
              instance_id: int) -> InstancePaths:
        return cls(logs.default_folder(os.fspath(log_dir), workflow_id), instance_id)

    def with_streams(self, stdout: str, stderr: str) -> InstancePaths:
        return InstancePaths(self.folder, self.instance_id, stdout, stderr)

    def _own(self, suffix: str) -> str:
        return posixpath.join(self.folder, f"ti{self.instance_id}.{suffix}")

    @property
    def output(self) -> str:
        return self._own("output.json")

    @property
    def context(self) -> str:
        return self._own("context.json")

    @property
    def wrapper(self) -> str:  # the wrapper's PID, then the command's exit status
        return self._own("wrapper")

    @property
    def no_inputs(self) -> str:  # JOBMON_INPUTS of tasks without upstream tasks: {}
        return posixpath.join(self.folder, "no-inputs.json")

    @property
    def runs(self) -> str:  # the finished runs the workflow takes as input (JOBMON_RUNS)
        return posixpath.join(self.folder, "runs.json")

    @property
    def files(self) -> str:  # a folder for the files an output names (JOBMON_FILES)
        return results.files_folder(self.folder, self.instance_id)

    def __repr__(self) -> str:
        return f"InstancePaths({self.folder!r}, {self.instance_id})"


def with_logs(paths: InstancePaths, instance: Instance, job_id: str,
              log_root: str | os.PathLike[str]) -> InstancePaths:
    """``paths`` with stdout and stderr where the log rule (jobmon.logs) puts them."""
    stdout, stderr = (
        os.path.abspath(logs.log_path(instance.compute_resources, stream, instance.name,
                                      job_id, os.fspath(log_root), instance.workflow_id))
        for stream in logs.STREAMS
    )
    return paths.with_streams(stdout, stderr)


class Finished:
    """How a command ended."""

    __slots__ = ("exit_code", "maxrss_bytes", "signal", "wallclock")

    def __init__(self, exit_code: int | None, signal: int | None, maxrss_bytes: int | None,
                 wallclock: float) -> None:
        self.exit_code = exit_code  # None when killed by a signal
        self.signal = signal
        self.maxrss_bytes = maxrss_bytes  # None when unknown
        self.wallclock = wallclock


class Started:
    """A started command, and what its killer (if any) decided to report."""

    def __init__(self, instance: Instance, pid: int, paths: InstancePaths,
                 started: float) -> None:
        self.instance = instance
        self.pid = pid
        self.paths = paths
        self.started = started
        self.kill_reason: str | None = None
        self.kill_status: str | None = None
        self.cores = 1  # the cores it counts against the machine's (local plugin)
        self.peak_rss = 0  # bytes: the largest tree RSS sampled while it ran (0: never)
        self.adopted = False  # started by an earlier distributor, watched by this one


class Running(Started):
    """A command watched from an event loop; ``finished`` resolves when it exits."""

    def __init__(self, instance: Instance, pid: int, paths: InstancePaths, started: float,
                 *, finished: asyncio.Future[Finished]) -> None:
        super().__init__(instance, pid, paths, started)
        self.finished = finished


def encode_json(value: object) -> bytes:
    """JSON as the files a command reads are written (compact; the same bytes for the same
    value, so that content-named files are shared)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def decode_json(data: bytes) -> Any:
    """Strict JSON: no NaN or Infinity (the server would refuse them)."""
    return json.loads(data, parse_constant=_no_constant)


SHELL = "/bin/sh"
# The wrapper records its PID, its parent's (the distributor that started it) and the
# instance's launch id, runs the command, and records its status in one file, so that a
# distributor that restarts can find a command it did not start, and how it ended. The
# launch id, issued by the database when the instance was claimed, proves that the file
# belongs to this launch: another database numbers its instances from 1 too.
# An EXIT trap records the status even when the command calls `exit`; a command that sets
# its own trap, or execs, runs in a subshell instead (one more fork) so that ours survives.
# (One file, not two: creating files is a good part of what a short task costs.)
WRAPPER = 'echo "$$ $PPID $3" > "$2"; trap \'echo $? >> "$2"\' EXIT; eval "$1"'
WRAPPER_SUBSHELL = (
    'echo "$$ $PPID $3" > "$2"; (eval "$1"); status=$?; echo "$status" >> "$2"; exit "$status"'
)
_NEEDS_SUBSHELL = re.compile(r"\b(trap|exec)\b")


def wrapper_arguments(command: str, paths: InstancePaths, launch_token: str) -> list[str]:
    """The argv that runs ``command`` under the wrapper."""
    return [SHELL, "-c", wrapper_for(command), "jobmon-task", command, str(paths.wrapper),
            launch_token]


def wrapper_for(command: str) -> str:
    return WRAPPER_SUBSHELL if _NEEDS_SUBSHELL.search(command) else WRAPPER


def environment(instance: Instance, paths: InstancePaths,
                inputs_path: str | None = None) -> dict[str, str]:
    """A command's environment: ours less credentials, and the JOBMON_* task variables."""
    env = without_secrets(os.environ)
    # blank, not absent: a jobmon client inside the command must not pick up a token from
    # the launcher's config file (a daemon's, on a cluster, is the same OS user's)
    env["JOBMON__HTTP__TOKEN"] = ""
    env.update(
        JOBMON_TASK_ID=str(instance.task_id),
        JOBMON_TASK_INSTANCE_ID=str(instance.task_instance_id),
        JOBMON_WORKFLOW_ID=str(instance.workflow_id),
        JOBMON_WORKFLOW_RUN_ID=str(instance.workflow_run_id),
        JOBMON_ATTEMPT=str(instance.attempt),
        JOBMON_OUTPUT=paths.output,
        JOBMON_CONTEXT=paths.context,
        JOBMON_INPUTS=inputs_path or paths.no_inputs,
        JOBMON_RUNS=paths.runs if instance.has_runs else paths.no_inputs,
        JOBMON_FILES=paths.files,
    )
    return env


def prepare_files(instance: Instance, paths: InstancePaths,
                  inputs: dict[str, Any] | None = None,
                  runs: dict[str, Any] | None = None) -> str:
    """Create the log folders; leave the task's saved context, its upstream outputs and
    its workflow's input runs (``runs``: when fresh from the server) where it will look.
    Returns the file of its upstream outputs (JOBMON_INPUTS)."""
    for folder in {posixpath.dirname(paths.stdout), posixpath.dirname(paths.stderr),
                   paths.folder}:
        if not os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(paths.output)
    encoded = encode_json(inputs or {}) if instance.has_upstream else b"{}"
    inputs_path = paths.no_inputs if encoded == b"{}" else inputs_file(paths.folder, encoded)
    _shared_file(inputs_path, encoded)
    if not instance.has_runs:
        if inputs_path != paths.no_inputs:  # (else just made sure of)
            _shared_file(paths.no_inputs, b"{}")  # its JOBMON_RUNS
    elif runs is not None:
        _replace(paths.runs, encode_json(runs))
    elif not os.path.isfile(paths.runs):  # (else written for an earlier instance)
        raise FileNotFoundError(f"the input runs of workflow {instance.workflow_id} (for "
                                f"JOBMON_RUNS) never reached {paths.runs}")
    if instance.context is not None:
        with open(paths.context, "wb") as file:
            file.write(encode_json(instance.context))
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(paths.context)
    return inputs_path


def inputs_file(folder: str, encoded: bytes) -> str:
    """Where the upstream outputs ``encoded`` are, named by their content: the tasks of a
    workflow that see the same outputs (say, each task of an array on the same upstream
    tasks) share one read-only file, as those without upstream tasks share ``{}``."""
    from hashlib import sha256  # (only a task with upstream outputs pays for it)

    return posixpath.join(folder, f"inputs-{sha256(encoded).hexdigest()[:32]}.json")


def _shared_file(path: str, content: bytes) -> None:
    """A read-only file of the workflow that several tasks read: creating a file is a good
    part of what a short task costs, so it is written once."""
    if not os.path.isfile(path):
        _replace(path, content)


def _replace(path: str, content: bytes) -> None:
    """A read-only file of the workflow's, written whole under another name first: workers
    on other nodes may race here, and tasks already running keep reading the old one."""
    folder, name = posixpath.split(path)
    partial = posixpath.join(folder, f".{name}.{NODENAME}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial)  # left by a process of this PID that died before the replace
    # read-only as created, so that the user's umask applies: it holds other runs' outputs
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    with open(descriptor, "wb") as file:
        file.write(content)
    os.replace(partial, path)


def spawn(instance: Instance, paths: InstancePaths,
          launch_token: str = "", inputs: dict[str, Any] | None = None,
          runs: dict[str, Any] | None = None) -> Started:
    """Start the command under /bin/sh in its own session; returns at once."""
    inputs_path = prepare_files(instance, paths, inputs, runs)
    append = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    # posix_spawn: no fork of this (large) process, and our fds are close-on-exec already.
    pid = os.posix_spawn(
        SHELL,
        wrapper_arguments(instance.command, paths, launch_token),
        environment(instance, paths, inputs_path),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, paths.stdout, append, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, paths.stderr, append, 0o644),
        ],
        setsid=True,
    )
    return Started(instance, pid, paths, time.monotonic())


def start(instance: wire.ClaimedInstance, paths: InstancePaths,
          inputs: dict[str, Any] | None = None,
          runs: dict[str, Any] | None = None) -> Running:
    """Start the command; ``finished`` resolves in the running event loop when it exits."""
    import asyncio

    loop = asyncio.get_running_loop()
    started = spawn(instance, paths, instance.launch_token, inputs, runs)
    future: asyncio.Future[Finished] = loop.create_future()
    _watch(loop, started.pid, started.started, future)
    return Running(instance, started.pid, paths, started.started, finished=future)


def wait(started: Started) -> Finished:
    """Block until the command exits (the caller's own child); what it left in its process
    group is killed before it is reaped (until then its PID cannot be reused)."""
    if hasattr(os, "waitid"):  # (not on macOS)
        os.waitid(os.P_PID, started.pid, os.WEXITED | os.WNOWAIT)
        kill_group(started.pid, signal.SIGKILL)
    _, status, usage = os.wait4(started.pid, 0)
    return _finished(status, usage, started.started)


class WrapperRecord:
    """What an instance's wrapper wrote: its PID, its parent's, and the command's status."""

    __slots__ = ("exit_code", "parent", "pid")

    def __init__(self, pid: int, parent: int, exit_code: int | None) -> None:
        self.pid = pid
        self.parent = parent  # the distributor that started it
        self.exit_code = exit_code  # None until the command ended (or killed first)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WrapperRecord) and \
            (self.pid, self.parent, self.exit_code) == (other.pid, other.parent, other.exit_code)

    def __hash__(self) -> int:
        return hash((self.pid, self.parent, self.exit_code))

    def __repr__(self) -> str:
        return f"WrapperRecord({self.pid}, {self.parent}, {self.exit_code})"


def read_wrapper(paths: InstancePaths, launch_token: str) -> WrapperRecord | None:
    """The wrapper's record, if the file is provably this launch's (it names its launch id).

    A file without the launch id was left by another database, or by an older Jobmon:
    it is not trusted.
    """
    try:
        with open(paths.wrapper, encoding="utf-8", errors="replace") as file:
            lines = file.read().split("\n")
    except OSError:
        return None
    fields = lines[0].split()
    if not launch_token or len(fields) != 3 or fields[2] != launch_token:
        return None
    try:
        pid, parent = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    try:
        exit_code: int | None = int(lines[1])
    except (IndexError, ValueError):
        exit_code = None
    return WrapperRecord(pid, parent, exit_code)


def recorded_exit(paths: InstancePaths, launch_token: str) -> int | None:
    """The status the command's wrapper wrote, if it got that far."""
    record = read_wrapper(paths, launch_token)
    return record.exit_code if record else None


def _finished(status: int, usage: Any, started: float) -> Finished:
    code = os.waitstatus_to_exitcode(status)
    return Finished(code if code >= 0 else None, -code if code < 0 else None,
                    int(usage.ru_maxrss) * 1024, time.monotonic() - started)


# ------------------------------------------------------------------ adopting orphans


def started_wrapper(paths: InstancePaths, launch_token: str) -> int | None:
    """The PID of the wrapper that started this instance, if one did (it may have ended)."""
    record = read_wrapper(paths, launch_token)
    return record.pid if record else None


def is_wrapper_of(pid: int, paths: InstancePaths, launch_token: str) -> bool:
    """Whether ``pid`` is alive and is this launch's wrapper (not a reused PID, nor the
    wrapper of an instance with the same number in another database)."""
    try:
        arguments = process_tree.read_command_line(pid)
    except OSError:
        return False
    return paths.wrapper.encode() in arguments and \
        (not launch_token or launch_token.encode() in arguments)


class FoundWrapper:
    """A wrapper process on this host, and the instance it runs."""

    __slots__ = ("launch_token", "paths", "pid", "record", "task_instance_id")

    def __init__(self, pid: int, task_instance_id: int, paths: InstancePaths,
                 launch_token: str, record: WrapperRecord | None) -> None:
        self.pid = pid
        self.task_instance_id = task_instance_id
        self.paths = paths
        self.launch_token = launch_token
        self.record = record  # None: its file is not this launch's


def wrappers_under(log_dir: str | os.PathLike[str]) -> list[FoundWrapper]:
    """The wrappers running on this host whose files are under ``log_dir`` (a /proc scan)."""
    found = []
    for pid in process_tree.processes():
        arguments = process_tree.command_line(pid)
        if len(arguments) < 7 or arguments[3] != b"jobmon-task":
            continue
        instance_id = process_tree.environment_number(pid, "JOBMON_TASK_INSTANCE_ID")
        workflow_id = process_tree.environment_number(pid, "JOBMON_WORKFLOW_ID")
        if instance_id is None or workflow_id is None:
            continue
        paths = InstancePaths.under(log_dir, workflow_id, instance_id)
        if arguments[5] != paths.wrapper.encode():
            continue
        token = arguments[6].decode(errors="replace")
        found.append(FoundWrapper(pid, instance_id, paths, token, read_wrapper(paths, token)))
    return found


def local_distributor_id(pid: int) -> str:
    """How a local instance is found again: host and the PID of its wrapper.

    A reused PID is told apart by the wrapper's command line (``is_wrapper_of``), which
    names the instance's own wrapper file.
    """
    return f"{NODENAME}:{pid}"


def parse_local_distributor_id(text: str) -> tuple[str, int] | None:
    """(host, PID) from ``local_distributor_id``, or None for anything else."""
    host, _, pid = text.rpartition(":")
    if not host or not pid.isdigit():
        return None
    return host, int(pid)


def adopt(instance: wire.ClaimedInstance, pid: int, paths: InstancePaths) -> Running:
    """Watch a command an earlier distributor started; ``finished`` resolves when it ends.

    It is not our child, so its end comes from a pidfd and its status from the file
    its wrapper writes (None if it died before writing it, or was already gone). What it
    left in its session is killed when it ends.
    """
    import asyncio

    token = instance.launch_token
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Finished] = loop.create_future()
    started = time.monotonic()
    running = Running(instance, pid, paths, started, finished=future)

    def ended() -> None:
        if not future.done():
            code = recorded_exit(paths, token)
            future.set_result(Finished(code, None, None, time.monotonic() - started))

    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        ended()  # it ended while no distributor watched it
        return running
    if not is_wrapper_of(pid, paths, token):  # checked after pidfd_open: the PID cannot move
        os.close(pidfd)
        ended()
        return running

    def readable() -> None:
        loop.remove_reader(pidfd)
        os.close(pidfd)
        # not our child, so its PID may be reused at once: end only what is of its session
        # and of this instance
        process_tree.kill_session(pid, instance.task_instance_id)
        ended()

    loop.add_reader(pidfd, readable)
    return running


def _watch(loop: asyncio.AbstractEventLoop, pid: int, started: float,
           future: asyncio.Future[Finished]) -> None:
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        loop.run_in_executor(None, _wait_blocking, loop, pid, started, future)
        return

    def on_exit() -> None:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                return  # not over yet
        except ChildProcessError:
            pass  # reaped elsewhere: wait4 says so below
        else:
            # it ended and is not reaped yet, so its PID (its process group's id) is not
            # reused: end what it left in its group, as a cluster ends a job's processes
            kill_group(pid, signal.SIGKILL)
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
                future.set_result(Finished(None, None, None, time.monotonic() - started))
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


def read_tail(path: str, limit: int = STDERR_TAIL) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def read_payload(path: str) -> tuple[Any, str]:
    """A JSON file the task left (output or context), and a problem to report, if any."""
    name = posixpath.basename(path)
    try:
        size = os.stat(path).st_size
    except OSError:
        return None, ""
    if size > PAYLOAD_LIMIT:
        return None, f"{name} is {size} bytes; the limit is {PAYLOAD_LIMIT} (ignored)"
    try:
        with open(path, "rb") as file:
            return decode_json(file.read()), ""
    except (OSError, ValueError) as error:  # (json's errors, and bad UTF-8, are ValueErrors)
        return None, f"{name} is not valid JSON ({error}); ignored"


def outcome_update(running: Started, finished: Finished) -> wire.InstanceUpdate:
    """The report for a command that ended: D, E, or what its killer decided."""
    from jobmon import wire

    return wire.InstanceUpdate(**outcome(running, finished))


def outcome(running: Started, finished: Finished) -> dict[str, Any]:
    """The fields of ``outcome_update`` (what a worker sends as JSON, without msgspec)."""
    output, output_problem = read_payload(running.paths.output)
    output, files_problem = results.checked_files(output, running.paths.files)
    context, context_problem = read_payload(running.paths.context)
    problems = [p for p in (running.kill_reason, output_problem, files_problem,
                            context_problem) if p]
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
    return {
        "task_instance_id": running.instance.task_instance_id,
        "status": status,
        "exit_code": exit_code,
        "stderr_tail": read_tail(running.paths.stderr) if status != "D" else None,
        "error_message": "; ".join(problems) or None,
        "maxrss": finished.maxrss_bytes,
        "wallclock": round(finished.wallclock, 6),
        "output": output if status == "D" else None,
        "context": context,
    }
