"""Pausing Python's cyclic garbage collector around bulk work on a large workflow.

Making or walking a million tasks allocates millions of objects that all stay alive; each
of the collector's full passes, triggered by that growth, walks every one of them again
(a quarter of the client's CPU at a million tasks). The loops paused here create no
garbage cycles, and nothing else runs during them (no await inside).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off inside, back as it was after (reference counting, which
    frees everything else, goes on)."""
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def kept_out_of_collection() -> Iterator[None]:
    """What exists now (above all a workflow's tasks) is left out of the collector's passes
    inside (``gc.freeze``), and put back after (``gc.unfreeze``).

    A run allocates as it goes, and each full pass would walk a million tasks again (~1 s
    each at a million). Nothing is lost: garbage among the frozen objects is collected
    once they are put back. Does nothing when something else froze objects already or the
    collector is off.
    """
    freezing = gc.isenabled() and gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    try:
        yield
    finally:
        if freezing:
            gc.unfreeze()
