"""Process trees from /proc (Linux): resident memory, parents, sessions, and ending a task's
whole tree when it ends, including what it started in a session of its own."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

# (no pathlib, and ctypes only where prctl is called: `jobmon worker`, one interpreter per
# cluster job, pays for every module it imports)
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
PROC = "/proc"
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


def _read(pid: int, name: str) -> bytes:
    """/proc/PID/NAME (OSError if the process is gone or may not be read)."""
    with open(f"{PROC}/{pid}/{name}", "rb") as file:
        return file.read()


def _rss(pid: int) -> int:
    try:
        return int(_read(pid, "statm").split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (zombies included)."""
    found: list[int] = []
    try:
        threads = os.listdir(f"{PROC}/{pid}/task")
    except OSError:
        return found
    for thread in threads:
        try:
            found.extend(int(child) for child in _read(pid, f"task/{thread}/children").split())
        except (OSError, ValueError):
            continue
    return found


def tree_rss(pid: int) -> int:
    """Bytes resident in ``pid`` and its descendants (0 if it is gone)."""
    return sum(_rss(each) for each in _tree(pid))


def own_rss() -> int:
    """Bytes resident in this process."""
    return _rss(os.getpid())


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, parents before children."""
    order: list[int] = []
    seen: set[int] = set()
    pending = [pid]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        order.append(current)
        pending.extend(children(current))
    return order


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state is the first)."""
    try:
        return _read(pid, "stat").decode(errors="replace").rpartition(")")[2].split()
    except OSError:
        return None


def parent(pid: int) -> int | None:
    """The parent of a process, or None if it is gone."""
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def session(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[3]) if fields else None


def is_zombie(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] in ("Z", "X")


def read_command_line(pid: int) -> list[bytes]:
    """A process's arguments (OSError if it is gone or may not be read)."""
    return _read(pid, "cmdline").split(b"\0")


def command_line(pid: int) -> list[bytes]:
    try:
        return read_command_line(pid)
    except OSError:
        return []


def environment_number(pid: int, name: str) -> int | None:
    """A number a process has in its environment (inherited at start), if it can be read."""
    try:
        environment = _read(pid, "environ").split(b"\0")
    except OSError:
        return None
    prefix = name.encode() + b"="
    for entry in environment:
        if entry.startswith(prefix):
            value = entry[len(prefix):]
            return int(value) if value.isdigit() else None
    return None


def task_instance_of(pid: int) -> int | None:
    """The JOBMON_TASK_INSTANCE_ID a process inherited, if it can be read."""
    return environment_number(pid, "JOBMON_TASK_INSTANCE_ID")


def processes() -> list[int]:
    """Every process on this host."""
    return [int(name) for name in os.listdir(PROC) if name.isdigit()]


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal a process and all its descendants (children first, so none gets away)."""
    for each in reversed(_tree(pid)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(each, sig)


def kill_session(sid: int, task_instance_id: int, sig: int = signal.SIGKILL) -> int:
    """Signal the processes of session ``sid`` that belong to this task instance (a scan of
    /proc, for a session whose leader was not our child); returns how many."""
    killed = 0
    for pid in processes():
        if session(pid) == sid and task_instance_of(pid) == task_instance_id:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
                killed += 1
    return killed


def reap(pids: list[int]) -> None:
    """Collect these children if they ended (no zombie stays behind)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _prctl(option: int, argument: int) -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(option, argument, 0, 0, 0))


def become_subreaper() -> bool:
    """Make orphaned descendants of this process its children (Linux); True if it worked.

    A task's background process whose parent exits then comes to us, and can be ended
    with the task, instead of going to init.
    """
    if sys.platform != "linux":
        return False
    return _prctl(PR_SET_CHILD_SUBREAPER, 1) == 0


def is_subreaper() -> bool:
    import ctypes

    if sys.platform != "linux":
        return False
    flag = ctypes.c_int(0)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0) != 0:
        return False
    return flag.value != 0
