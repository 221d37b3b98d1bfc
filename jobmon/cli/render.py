"""How the CLI shows things: status names and colours, tables that fit 80 columns, progress."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from jobmon.status import STATUS_COLOURS, STATUS_TYPES, status_colour

# The dashboard's colours (jobmon.status.STATUS_COLOURS) as terminal colours: the same
# status has the same colour in the CLI and on the page.
TERMINAL_COLOURS = {
    "slate": "grey62", "sky": "cyan", "indigo": "medium_purple", "blue": "blue",
    "green": "green", "amber": "yellow", "red": "red", "orange": "dark_orange",
    "purple": "magenta",
}


def console() -> Console:
    """Rich output on stdout; 80 columns and no colour when it is not a terminal."""
    return Console(highlight=False, soft_wrap=False)


def print_wide(grid: Table) -> None:
    """A table with Jobmon's columns: as wide as it needs when not on a terminal (piped
    output is never folded), the terminal's width otherwise."""
    out = console()
    if not out.is_terminal:
        unbounded = Console(highlight=False, soft_wrap=False, width=1_000_000)
        needed = unbounded.measure(grid).maximum
        out = Console(highlight=False, soft_wrap=False, width=max(80, needed))
    out.print(grid)


def status_name(letter: str | None, machine: str = "task") -> str:
    if not letter:
        return "-"
    try:
        return str(STATUS_TYPES[machine](letter).name)
    except ValueError:
        return letter


def status_text(letter: str | None, machine: str = "task") -> Text:
    known = letter in STATUS_COLOURS[machine]
    return Text(status_name(letter, machine),
                style=TERMINAL_COLOURS[status_colour(letter, machine)] if known else "")


def table(*columns: str, title: str | None = None) -> Table:
    grid = Table(box=None, pad_edge=False, header_style="bold", title=title,
                 title_justify="left", title_style="bold")
    for column in columns:
        grid.add_column(column)
    return grid


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def short_time(text: str | None) -> str:
    """An ISO time as local ``YYYY-MM-DD HH:MM:SS``."""
    if not text:
        return "-"
    try:
        return dt.datetime.fromisoformat(text).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text


def size(bytes_used: int | None) -> str:
    if bytes_used is None:
        return "-"
    value = float(bytes_used)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}T"  # pragma: no cover


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f}s"
    minutes, rest = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}"


class Steps:
    """Progress of a long operation: a bar on a terminal, a plain line now and then if not."""

    PLAIN_INTERVAL = 5.0

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[str, Any] = {}
        self._last: dict[str, float] = {}

    def update(self, what: str, done: int, total: int) -> None:
        if self._progress is not None:
            if what not in self._tasks:
                self._tasks[what] = self._progress.add_task(what, total=total)
            self._progress.update(self._tasks[what], completed=done, total=total)
            return
        now = time.monotonic()
        if done >= total or now - self._last.get(what, 0.0) >= self.PLAIN_INTERVAL:
            self._last[what] = now
            sys.stderr.write(f"{what}: {done}/{total}\n")
            sys.stderr.flush()

    def line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, highlight=False, markup=False)
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()


@contextmanager
def steps() -> Iterator[Steps]:
    """Progress on stderr, so that stdout stays clean for data."""
    err = Console(stderr=True, highlight=False)
    if not err.is_terminal:
        yield Steps(None)
        return
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err)
    with progress:
        yield Steps(progress)
