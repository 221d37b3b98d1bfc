"""Counting status changes where they happen, for whichever metrics are at work.

The store calls ``count_transitions``; the app's request middleware and the reaper say,
with ``counting``, which metrics (``jobmon.server.metrics.Metrics``) receive the counts.
Outside such a block nothing is counted. This module knows nothing of HTTP or Prometheus.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class TransitionCounter(Protocol):
    def count(self, kind: str, status: str, number: int) -> None: ...


_CURRENT: contextvars.ContextVar[TransitionCounter | None] = contextvars.ContextVar(
    "jobmon_metrics", default=None)


def count_transitions(kind: str, status: str, number: int = 1) -> None:
    """Count status changes for the app (or reaper) at work; nothing outside one."""
    metrics = _CURRENT.get()
    if metrics is not None:
        metrics.count(kind, status, number)


@contextmanager
def counting(metrics: TransitionCounter) -> Iterator[None]:
    """Status changes counted inside this block go to ``metrics``."""
    token = _CURRENT.set(metrics)
    try:
        yield
    finally:
        _CURRENT.reset(token)
