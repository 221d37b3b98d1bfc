"""Progress on the terminal: a live bar on a TTY, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

PLAIN_INTERVAL = 10.0


class ProgressReporter:
    """Shows bind and run progress; silent when disabled."""

    def __init__(self, name: str, enabled: bool = True) -> None:
        self._name = name
        self._console = Console(stderr=True)
        self._enabled = enabled
        self._live = self._enabled and self._console.is_terminal
        self._progress: Progress | None = None
        self._run_task: TaskID | None = None
        self._bind_task: TaskID | None = None
        self._last_line = 0.0
        self._last_text = ""

    @property
    def enabled(self) -> bool:
        return self._enabled

    def __enter__(self) -> ProgressReporter:
        if self._live:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=self._console,
                transient=False,
            )
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def bind_progress(self, sent: int, total: int) -> None:
        if self._progress is not None:
            if self._bind_task is None:
                self._bind_task = self._progress.add_task("bind", total=total, detail="")
            self._progress.update(self._bind_task, completed=sent)
        elif self._enabled and sent == total:
            self._line(f"bound {total} tasks and edges")

    def update(self, counts: Mapping[str, int], total: int, status: str = "") -> None:
        done = counts.get("D", 0)
        failed = counts.get("F", 0)
        running = counts.get("R", 0)
        waiting = sum(counts.get(letter, 0) for letter in "QIO")
        detail = f"running {running} queued {waiting} failed {failed}"
        if self._progress is not None:
            if self._run_task is None:
                self._run_task = self._progress.add_task(self._name, total=total, detail="")
            self._progress.update(self._run_task, completed=done + failed, detail=detail)
        elif self._enabled:
            text = f"{self._name}: {done}/{total} done, {detail}"
            now = time.monotonic()
            if text != self._last_text and (now - self._last_line >= PLAIN_INTERVAL or status):
                self._line(text)

    def message(self, text: str) -> None:
        if self._enabled:  # plain text: task names and errors may hold [brackets]
            self._console.print(text, markup=False, highlight=False, soft_wrap=True)

    def _line(self, text: str) -> None:
        self._last_line = time.monotonic()
        self._last_text = text
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
