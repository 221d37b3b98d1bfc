"""What every command shares: settings, one-line errors, running async code."""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import anyio
import click

from jobmon import errors
from jobmon import settings as settings_module

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


EXPECTED = (errors.JobmonError, OSError, ValueError)


def one_line_errors(function: F) -> F:
    """Turn expected failures into one line on stderr and exit code 1; never a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except EXPECTED as error:
            raise click.ClickException(_first_line(error)) from None
        except BaseExceptionGroup as group:
            # a failure inside a task group (`jobmon server` when the database is down)
            # arrives wrapped; when every part of it is expected, it is one line too
            expected, unexpected = group.split(EXPECTED)
            if expected is None or unexpected is not None:
                raise
            raise click.ClickException(_first_line(_first_leaf(expected))) from None

    return wrapper  # type: ignore[return-value]


def _first_leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def load_settings() -> settings_module.Settings:
    try:
        return settings_module.get()
    except errors.ConfigError as error:
        raise click.ClickException(str(error)) from None


def run_async(function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``function`` to the end; retries of an unreachable server stay quiet unless
    --log-level is INFO or finer, so that a failure is the one line that explains it."""
    requester_log = logging.getLogger("jobmon.retry")
    quiet = logging.getLogger().getEffectiveLevel() > logging.INFO
    previous = requester_log.level
    if quiet:
        requester_log.setLevel(logging.ERROR)
    try:
        return anyio.run(function, *args)
    finally:
        requester_log.setLevel(previous)


class ManyValues(click.Option):
    """An option that takes several values after one flag (``-t 1 2 3``) or repeated flags."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)


class Command(click.Command):
    """A command whose ManyValues options accept ``-t 1 2 3`` as Jobmon 3.x users type it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        greedy = {name for param in self.params if isinstance(param, ManyValues)
                  for name in param.opts}
        return super().parse_args(ctx, spread_values([normalize_option(arg) for arg in args],
                                                     greedy))


def spread_values(args: list[str], greedy: set[str]) -> list[str]:
    """``-t 1 2 -w 3`` -> ``-t 1 -t 2 -w 3`` for the options in ``greedy``."""
    spread: list[str] = []
    current: str | None = None
    for index, arg in enumerate(args):
        if arg == "--":
            return spread + args[index:]
        if arg.startswith("-") and len(arg) > 1:
            current = arg if arg in greedy else None
        elif current is not None and spread[-1] != current:
            spread.append(current)  # a further value of the same option
        spread.append(arg)
    return spread


# Jobmon's names of options that ours spell differently (after "_" became "-").
OPTION_ALIASES = {
    "task-ids": "task-id",  # task_status
    "new-status": "status",  # update_task_status
    "task-template-version-id": "task-template-version",  # task_template_resources
    "print-file": "print",  # task_template_resources
}


def normalize_token(name: str) -> str:
    """Option names as Jobmon writes them are ours: ``--workflow_id`` is ``--workflow-id``."""
    dashed = name.replace("_", "-")
    return OPTION_ALIASES.get(dashed, dashed)


def normalize_option(arg: str) -> str:
    if arg.startswith("--"):
        name, equals, value = arg[2:].partition("=")
        return "--" + normalize_token(name) + equals + value
    return arg


# Jobmon's spelling of a command -> the command (`jobmon workflow_status` is `jobmon workflow
# status`); jobmon.cli.main adds them to the root group.
JOBMON_SPELLINGS: dict[str, click.Command] = {}

C = TypeVar("C", bound=click.Command)


def spellings(grouped: str, jobmon_name: str) -> Callable[[C], C]:
    """One command, two spellings: ours (``workflow status``) and IHME Jobmon's
    (``workflow_status``); its help names both."""

    def register(command: C) -> C:
        command.help = (inspect.cleandoc(command.help or "") + f"\n\nSpellings: `jobmon "
                        f"{grouped}` and, as in IHME Jobmon, `jobmon {jobmon_name}`.")
        JOBMON_SPELLINGS[jobmon_name] = command
        return command

    return register


def interactive() -> bool:
    """Someone at a terminal can answer a question."""
    return sys.stdin.isatty()


def confirm(question: str, yes: bool) -> None:
    """Ask at a terminal unless --yes; a script (no terminal) is not asked, as in Jobmon."""
    if not yes and interactive():
        click.confirm(question, abort=True, err=True)


class OneLineGroup(click.Group):
    """The root command: usage errors are one line too, like every other failure."""

    def main(
        self, args: Sequence[str] | None = None, prog_name: str | None = None,
        complete_var: str | None = None, standalone_mode: bool = True, **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except (click.exceptions.Abort, EOFError, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except click.ClickException as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # `jobmon workflow` alone: help
                error.show()
                sys.exit(error.exit_code)
            click.echo(f"Error: {one_line(error)}", err=True)
            sys.exit(error.exit_code)
        sys.exit(result if isinstance(result, int) else 0)


def one_line(error: click.ClickException) -> str:
    lines = [line.strip() for line in error.format_message().splitlines() if line.strip()]
    text = " ".join(lines) or type(error).__name__
    if isinstance(error, click.UsageError) and error.ctx is not None:
        text += f" (see `{error.ctx.command_path} --help`)"
    return text
