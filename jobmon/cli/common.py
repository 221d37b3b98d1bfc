"""What every command shares: settings, one-line errors, running async code."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import click

from jobmon import errors
from jobmon import settings as settings_module

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def one_line_errors(function: F) -> F:
    """Turn expected failures into one line on stderr and exit code 1; never a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (errors.JobmonError, OSError, ValueError) as error:
            text = str(error).strip().splitlines()
            raise click.ClickException(text[0] if text else type(error).__name__) from None

    return wrapper  # type: ignore[return-value]


def load_settings() -> settings_module.Settings:
    try:
        return settings_module.get()
    except errors.ConfigError as error:
        raise click.ClickException(str(error)) from None


def run_async(function: Callable[..., Awaitable[T]], *args: Any) -> T:
    return anyio.run(function, *args)
