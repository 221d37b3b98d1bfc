"""Resident memory of a process and all its descendants, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
PROC = Path("/proc")


def _rss(pid: int) -> int:
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        threads = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for thread in threads:
        try:
            found.extend(int(child) for child in (thread / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def tree_rss(pid: int) -> int:
    """Bytes resident in ``pid`` and its descendants (0 if it is gone)."""
    total = 0
    seen: set[int] = set()
    pending = [pid]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _rss(current)
        pending.extend(_children(current))
    return total


def own_rss() -> int:
    """Bytes resident in this process."""
    return _rss(os.getpid())
