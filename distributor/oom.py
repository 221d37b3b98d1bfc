"""Out-of-memory kills in the memory cgroup this process runs in (for example a Slurm job's).

The worker reads the counters before and after the command: a command that failed while
the kernel OOM-killed something in its cgroup failed for lack of memory, and its task
retries with more (a RESOURCE_ERROR), not with the same request.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

CGROUP_MOUNT = Path("/sys/fs/cgroup")


def memory_cgroup_dirs(proc_cgroup: str, mount: Path = CGROUP_MOUNT) -> list[Path]:
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
        base, path = mount / "memory", v1_path
    elif v2_path is not None:
        base, path = mount, v2_path
    else:
        return []
    own = PurePosixPath(path)
    chain = [own, *own.parents]
    job_level = next((i for i, part in enumerate(chain) if re.match(r"job_\d+$", part.name)), 0)
    return [base / str(part).lstrip("/") for part in chain[: job_level + 1]]


def read_oom_kills(directory: Path) -> int | None:
    """The cgroup's OOM-kill count (v1 memory.oom_control, v2 memory.events); None if unknown."""
    for name in ("memory.events", "memory.oom_control"):
        try:
            text = (directory / name).read_text()
        except OSError:
            continue
        match = re.search(r"^oom_kill (\d+)$", text, re.MULTILINE)
        if match:
            return int(match.group(1))
    return None


class OomCounter:
    """OOM kills in this process's cgroups since it was made."""

    def __init__(self, directories: list[Path]) -> None:
        self._before = {d: count for d in directories
                        if (count := read_oom_kills(d)) is not None}

    @classmethod
    def for_this_process(cls) -> OomCounter:
        try:
            text = Path("/proc/self/cgroup").read_text()
        except OSError:
            text = ""
        return cls(memory_cgroup_dirs(text))

    def fired(self) -> bool:
        return any((read_oom_kills(d) or 0) > before for d, before in self._before.items())
