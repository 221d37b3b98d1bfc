"""Out-of-memory kills in the memory cgroup this process runs in (for example a Slurm job's).

The worker reads the counters before and after the command: a command that failed while
the kernel OOM-killed something in its cgroup failed for lack of memory, and its task
retries with more (a RESOURCE_ERROR), not with the same request.

Paths are strings (os.path), not pathlib: the worker, one interpreter per cluster job,
pays for every module it imports.
"""

from __future__ import annotations

import os
import posixpath
import re

CGROUP_MOUNT = "/sys/fs/cgroup"
_JOB = re.compile(r"job_\d+$")
_OOM_KILL = re.compile(r"^oom_kill (\d+)$", re.MULTILINE)


def memory_cgroup_dirs(proc_cgroup: str, mount: str | os.PathLike[str] = CGROUP_MOUNT
                       ) -> list[str]:
    """Cgroup directories whose OOM counters cover this process (pure; from /proc/self/cgroup).

    The process's own memory cgroup and its parents up to the Slurm job's (``job_N``),
    where the limit may sit; never higher, where other jobs' kills are counted too.
    """
    v1_path: str | None = None
    v2_path: str | None = None
    for line in proc_cgroup.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        if "memory" in parts[1].split(","):
            v1_path = parts[2]
        elif parts[0] == "0" and parts[1] == "":
            v2_path = parts[2]
    if v1_path is not None:
        base, path = posixpath.join(os.fspath(mount), "memory"), v1_path
    elif v2_path is not None:
        base, path = os.fspath(mount), v2_path
    else:
        return []
    chain = [path]  # the cgroup, then its parents up to the root
    while chain[-1] not in ("/", ""):
        chain.append(posixpath.dirname(chain[-1]))
    job_level = next((i for i, part in enumerate(chain)
                      if _JOB.match(posixpath.basename(part))), 0)
    return [posixpath.join(base, part.lstrip("/")).rstrip("/") or "/"
            for part in chain[: job_level + 1]]


def read_oom_kills(directory: str | os.PathLike[str]) -> int | None:
    """The cgroup's OOM-kill count (v1 memory.oom_control, v2 memory.events); None if unknown."""
    for name in ("memory.events", "memory.oom_control"):
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as file:
                text = file.read()
        except OSError:
            continue
        match = _OOM_KILL.search(text)
        if match:
            return int(match.group(1))
    return None


class OomCounter:
    """OOM kills in this process's cgroups since it was made."""

    def __init__(self, directories: list[str] | list[os.PathLike[str]]) -> None:
        self._before = {d: count for d in directories
                        if (count := read_oom_kills(d)) is not None}

    @classmethod
    def for_this_process(cls) -> OomCounter:
        try:
            with open("/proc/self/cgroup", encoding="utf-8") as file:
                text = file.read()
        except OSError:
            text = ""
        return cls(memory_cgroup_dirs(text))

    def fired(self) -> bool:
        return any((read_oom_kills(d) or 0) > before for d, before in self._before.items())
