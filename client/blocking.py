"""Blocking calls of the async client functions, for Jobmon's blocking API."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from jobmon import settings as settings_module

T = TypeVar("T")


def call(function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``function(settings, *args)`` run to the end with the configured settings; in a
    thread of its own when an event loop already runs in this one (a notebook)."""
    settings = settings_module.get()
    try:
        anyio.get_current_task()
    except RuntimeError:
        return anyio.run(function, settings, *args)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, function, settings, *args).result()
