"""`jobmon workflow prune` and `jobmon workflow archive`: delete old workflows, keep one."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING

import click

from jobmon.cli.common import Command, ManyValues, load_settings, one_line_errors, run_async
from jobmon.cli.workflow import workflow
from jobmon.status import WORKFLOW_FINISHED
from jobmon.status import letters as status_letters

if TYPE_CHECKING:
    from jobmon.cli.render import Steps
    from jobmon.settings import Settings

FINISHED = tuple(status_letters(WORKFLOW_FINISHED))


@workflow.command(cls=Command)
@click.option("--before", required=True, metavar="DATE",
              type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                   "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
              help="Workflows whose status last changed before this local time.")
@click.option("--status", "statuses", cls=ManyValues, metavar="STATUS ...",
              default=FINISHED, show_default=True,
              help=f"Only workflows in these statuses (finished ones only: {' '.join(FINISHED)}).")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--batch-size", type=click.IntRange(1, 50_000), default=1000, hidden=True,
              help="Tasks deleted per transaction.")
@one_line_errors
def prune(before: dt.datetime, statuses: tuple[str, ...], dry_run: bool,
          batch_size: int) -> None:
    """Delete finished workflows older than DATE with everything about them, in small batches."""
    letters = sorted({part.strip().upper() for value in statuses for part in value.split(",")
                      if part.strip()})
    running = [letter for letter in letters if letter not in FINISHED]
    if running:
        raise click.BadParameter(
            f"{', '.join(running)} is not a finished status; prune deletes only "
            f"{' '.join(FINISHED)} workflows, never running ones", param_hint="'--status'")
    moment = before.astimezone()  # a naive time is the local time
    settings = load_settings()
    if dry_run:
        _prune_dry_run(settings, moment, letters)
    else:
        _prune(settings, moment, letters, batch_size)


def _prune_dry_run(settings: Settings, before: dt.datetime, letters: list[str]) -> None:
    from jobmon.cli.render import console, short_time, status_text, table
    from jobmon.client.operator import prune_candidates

    candidates = run_async(prune_candidates, settings, before, letters)
    if candidates:
        since = short_time(before.isoformat())
        grid = table("ID", "NAME", "USER", "STATUS", "SINCE", "TASKS",
                     title=f"would delete (dry run), last changed before {since}:")
        grid.columns[1].overflow = "fold"
        grid.columns[5].justify = "right"
        for found in candidates:
            grid.add_row(str(found.workflow_id), found.name, found.user,
                         status_text(found.status, "workflow"), short_time(found.status_date),
                         str(found.num_tasks))
        console().print(grid)
    click.echo(f"dry run: would delete {len(candidates)} workflow(s) with "
               f"{sum(found.num_tasks for found in candidates)} task(s)")


def _prune(settings: Settings, before: dt.datetime, letters: list[str], batch_size: int) -> None:
    from jobmon.cli.render import steps
    from jobmon.client.connection import open_requester
    from jobmon.client.operator import prune_candidates, prune_workflow
    from jobmon.errors import ServerError

    candidates = run_async(prune_candidates, settings, before, letters)
    deleted_tasks = 0
    refused: list[str] = []
    others = 0  # workflows of other users: only their owners and admins may delete them

    async def delete_all() -> None:
        nonlocal deleted_tasks, others
        async with open_requester(settings) as requester:
            with steps() as progress:
                for found in candidates:
                    show = functools.partial(_show_prune, progress,
                                             f"workflow {found.workflow_id}", found.num_tasks)
                    try:
                        deleted_tasks += await prune_workflow(requester, found, before,
                                                              letters, show, batch_size)
                    except ServerError as error:
                        if error.status == 403:
                            others += 1
                            continue
                        if error.status != 409:
                            raise
                        refused.append(f"skipped workflow {found.workflow_id}: {error.message}")
                        continue
                    progress.line(f"deleted workflow {found.workflow_id} {found.name!r} "
                                  f"({found.num_tasks} tasks)")

    run_async(delete_all)
    click.echo(f"deleted {len(candidates) - len(refused) - others} workflow(s) with "
               f"{deleted_tasks} task(s)"
               + (f"; left {others} of other users (their owners or an admin may prune them)"
                  if others else ""))
    if refused:
        for line in refused:
            click.echo(line, err=True)
        raise SystemExit(1)


def _show_prune(progress: Steps, label: str, total: int, done: int) -> None:
    progress.update(label, done, total)


@workflow.command(cls=Command)
@click.option("-w", "--workflow-id", type=click.IntRange(min=1), required=True)
@click.option("-o", "--output", required=True, metavar="FILE.tar.gz",
              type=click.Path(dir_okay=False, path_type=Path),
              help="The archive to write (replaced if it exists).")
@one_line_errors
def archive(workflow_id: int, output: Path) -> None:
    """The outputs, statuses and logs of a workflow, and the files its outputs name, as
    one .tar.gz archive."""
    from jobmon.cli.render import steps
    from jobmon.client.archive import write_archive

    with steps() as progress:
        written = run_async(write_archive, load_settings(), workflow_id, output,
                            progress.update)
    click.echo(f"wrote {written.path}: {written.tasks} task(s), {written.instances} "
               f"instance(s), {written.logs} log file(s)"
               + (f" ({written.missing_logs} no longer exist)" if written.missing_logs else "")
               + (f", {written.files} file(s) named by outputs" if written.files else "")
               + (f" ({written.missing_files} gone or unreadable)"
                  if written.missing_files else "")
               + (f"; {written.refused_files} named file(s) outside their instance's "
                  "files folder left out" if written.refused_files else ""))
