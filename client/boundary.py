"""Where the client meets the user's code: errors come out as themselves, signals stop runs.

Inside, the client runs anyio task groups, which wrap what fails in an ExceptionGroup.
Users catch the documented exceptions (``WorkflowAlreadyExists``, ``RuntimeError`` on a
timeout, ...), as Jobmon raises them, so every public entry point passes its errors
through ``plain_errors``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import anyio

from jobmon.errors import JobmonError

log = logging.getLogger(__name__)
T = TypeVar("T")

# What the user most needs to see when several things failed at once, in order.
_PRECEDENCE: tuple[tuple[type[BaseException], ...], ...] = (
    (KeyboardInterrupt, SystemExit),
    (JobmonError,),
    (Exception,),
)


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


def most_relevant(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception of a group that stands for it (the user's interrupt first)."""
    leaves = list(_leaves(group))
    for kinds in _PRECEDENCE:
        for leaf in leaves:
            if isinstance(leaf, kinds):
                return leaf
    return leaves[0]


@contextlib.contextmanager
def plain_errors() -> Iterator[None]:
    """Re-raise an ExceptionGroup as its most relevant exception, with that one's traceback."""
    try:
        yield
    except BaseExceptionGroup as group:
        chosen = most_relevant(group)
        for other in _leaves(group):
            if other is not chosen:
                log.debug("also failed: %r", other)
        raise chosen from None


class Terminated(SystemExit):
    """The process got SIGTERM while a workflow ran; the run was recorded as stopped."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


async def _stopped_by_signals(function: Callable[[], Awaitable[T]],
                              numbers: tuple[signal.Signals, ...]) -> T:
    """``function``, cancelled when one of the signals ``numbers`` comes; then
    ``KeyboardInterrupt`` (SIGINT) or ``Terminated`` (SIGTERM).

    The signal cancels an anyio scope, which stays cancelled, instead of asyncio's one
    ``Task.cancel()`` on Ctrl-C, which code inside a run can absorb; a second Ctrl-C during
    the clean-up raises ``KeyboardInterrupt`` at once, as Python's own handler does.
    """
    received: signal.Signals | None = None
    result: Any = None
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            nonlocal received
            with anyio.open_signal_receiver(*numbers) as signals:
                async for number in signals:
                    received = number
                    log.warning("%s: stopping the workflow run", number.name)
                    group.cancel_scope.cancel()
                    return

        group.start_soon(watch)
        result = await function()
        group.cancel_scope.cancel()
    if received == signal.SIGINT:
        raise KeyboardInterrupt
    if received is not None:
        raise Terminated
    return result  # type: ignore[no-any-return]


def run_sync(function: Callable[..., Awaitable[T]], *, stop_on_sigterm: bool = False,
             **kwargs: Any) -> T:
    """``function(**kwargs)`` from synchronous code, with plain errors.

    Called where an event loop already runs (a Jupyter notebook), it runs in a thread of
    its own with its own loop, and blocks until done, as Jobmon's ``run()`` does. With
    ``stop_on_sigterm`` (``Workflow.run()``), SIGTERM stops the run the way Ctrl-C does
    (each when the program left it at Python's default and this is the main thread).
    """
    try:
        anyio.get_current_task()
    except RuntimeError:
        pass
    else:
        with concurrent.futures.ThreadPoolExecutor(1, "jobmon-run") as pool:
            elsewhere: concurrent.futures.Future[T] = pool.submit(
                functools.partial(run_sync, function, **kwargs))
            return elsewhere.result()
    watched: tuple[signal.Signals, ...] = ()
    if stop_on_sigterm and threading.current_thread() is threading.main_thread():
        # only the signals the program left to Python's defaults
        watched = tuple(number for number, default in (
            (signal.SIGTERM, signal.SIG_DFL), (signal.SIGINT, signal.default_int_handler))
            if signal.getsignal(number) == default)

    async def call() -> T:
        if watched:
            return await _stopped_by_signals(lambda: function(**kwargs), watched)
        return await function(**kwargs)

    try:
        with plain_errors():
            return anyio.run(call)
    finally:
        # the event loop leaves its own handlers behind
        if signal.SIGTERM in watched:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if signal.SIGINT in watched:
            signal.signal(signal.SIGINT, signal.default_int_handler)
