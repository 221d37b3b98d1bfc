"""Blocking calls of the async client functions, for Jobmon's blocking API."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from jobmon import settings as settings_module
from jobmon.client.boundary import run_sync

T = TypeVar("T")


def call(function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``function(settings, *args)`` run to the end with the configured settings; in a
    thread of its own when an event loop already runs in this one (a notebook)."""
    return run_sync(functools.partial(function, settings_module.get(), *args))
