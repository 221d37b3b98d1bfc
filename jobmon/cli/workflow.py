"""`jobmon workflow ...`: watch and steer workflows by id."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from jobmon.cli.common import Command, ManyValues, load_settings, one_line_errors, run_async

if TYPE_CHECKING:
    from jobmon import wire
    from jobmon.cli.render import Steps
    from jobmon.settings import Settings


@click.group()
def workflow() -> None:
    """Workflows: status, tasks, resume, limits, stop, prune, archive."""


@workflow.command()
@click.option("-w", "--workflow-id", type=int, required=True)
@click.option("-c", "--cluster", "cluster_name", required=True,
              help="The cluster the resumed tasks run on.")
@click.option("--cold/--hot", default=True, show_default=True,
              help="Cold kills the old run's instances; hot lets them finish and adopts them.")
@click.option("--timeout", "seconds_until_timeout", type=float, default=36000.0,
              show_default=True, help="Seconds before the resumed run gives up.")
@one_line_errors
def resume(workflow_id: int, cluster_name: str, cold: bool, seconds_until_timeout: float) -> None:
    """Resume a workflow from the database; no Python script needed."""
    from jobmon.client.resume import resume_workflow

    outcome = run_async(resume_workflow, load_settings(), workflow_id, cluster_name, cold,
                        seconds_until_timeout)
    click.echo(f"workflow {workflow_id}: {outcome.final_status} ({outcome.message})")
    if outcome.final_status != "D":
        raise SystemExit(1)


@workflow.command()
@click.option("-w", "--workflow-id", type=int, required=True)
@click.option("-m", "--max-tasks", "limit", type=click.IntRange(min=1), required=True,
              help="The new limit of tasks running at once.")
@one_line_errors
def concurrency(workflow_id: int, limit: int) -> None:
    """Change the limit of a running workflow; it applies within one swarm tick."""
    from jobmon.client.operator import set_concurrency

    answer = run_async(set_concurrency, load_settings(), workflow_id, limit)
    click.echo(f"workflow {workflow_id}: max_concurrently_running = "
               f"{answer.max_concurrently_running}")


@workflow.command()
@click.option("-w", "--workflow-id", type=int, required=True)
@one_line_errors
def stop(workflow_id: int) -> None:
    """Stop a running workflow and kill its instances."""
    from jobmon.client.operator import stop_workflow

    answer = run_async(stop_workflow, load_settings(), workflow_id)
    run = f"run {answer.workflow_run_id} stopped" if answer.workflow_run_id else "no live run"
    click.echo(f"workflow {workflow_id}: {run}, {answer.killed} instance(s) to kill")


def _task_statuses(given: tuple[str, ...]) -> list[str]:
    """Task status letters from letters, names (DONE) or `workflow status` groups (PENDING)."""
    from jobmon.cli.render import TASK_GROUPS
    from jobmon.status import TaskStatus

    letters: list[str] = []
    for word in (part.strip().upper() for value in given for part in value.split(",")):
        if not word:
            continue
        if word in TASK_GROUPS:
            letters.extend(TASK_GROUPS[word])
        elif word in TaskStatus.__members__:
            letters.append(str(TaskStatus[word]))
        elif word in {str(status) for status in TaskStatus}:
            letters.append(word)
        else:
            known = ", ".join(str(status) for status in TaskStatus)
            raise click.BadParameter(f"{word!r} is not a task status (one of {known}, "
                                     "a status name, or PENDING/RUNNING/DONE/FATAL)",
                                     param_hint="'-s' / '--status'")
    return sorted(set(letters))


def _summary_json(summary: wire.WorkflowSummary) -> dict[str, Any]:
    from jobmon.cli.render import group_counts, percent, status_name

    groups = group_counts(summary.counts)
    return {
        "workflow_id": summary.workflow_id,
        "name": summary.name,
        "user": summary.user,
        "status": summary.status,
        "status_name": status_name(summary.status, "workflow"),
        "num_tasks": summary.num_tasks,
        "tasks": groups,
        "percent": {group: percent(count, summary.num_tasks) for group, count in groups.items()},
        "counts": dict(sorted(summary.counts.items())),
        "retries": summary.retries,
        "max_concurrently_running": summary.max_concurrently_running,
        "latest_run_id": summary.latest_run_id,
        "latest_run_status": summary.latest_run_status,
        "created_at": summary.created_at,
        "status_date": summary.status_date,
        "attributes": summary.attributes,
    }


@workflow.command(cls=Command)
@click.option("-w", "--workflow-id", "workflow_ids", cls=ManyValues, type=click.IntRange(min=1),
              metavar="ID ...", help="These workflows (default: your recent ones).")
@click.option("-u", "--user", default=None, help="Only this user's workflows [default: you, "
              "when no -w is given].")
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many recent workflows without -w.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def status(workflow_ids: tuple[int, ...], user: str | None, limit: int, as_json: bool) -> None:
    """A table: id, name, status, tasks by status with percent, retries."""
    import getpass
    import json

    from jobmon.cli.render import console, group_counts, status_text, table, with_percent
    from jobmon.client.operator import list_workflows

    if user is None and not workflow_ids:
        user = getpass.getuser()
    summaries = run_async(functools.partial(
        list_workflows, load_settings(), user=user or "", workflow_ids=workflow_ids,
        limit=limit))
    if as_json:
        click.echo(json.dumps([_summary_json(summary) for summary in summaries], indent=2))
        return
    if not summaries:
        click.echo(f"no workflows of user {user}" if user else "no workflows")
        return
    grid = table("ID", "NAME", "STATUS", "TASKS", "PENDING", "RUNNING", "DONE", "FATAL",
                 "RETRIES")
    grid.columns[1].overflow = "fold"
    for column in grid.columns[3:]:
        column.justify = "right"
    for summary in summaries:
        groups = group_counts(summary.counts)
        grid.add_row(str(summary.workflow_id), summary.name,
                     status_text(summary.status, "workflow"), str(summary.num_tasks),
                     *(with_percent(groups[group], summary.num_tasks)
                       for group in ("PENDING", "RUNNING", "DONE", "FATAL")),
                     str(summary.retries))
    console().print(grid)


@workflow.command(cls=Command)
@click.option("-w", "--workflow-id", type=click.IntRange(min=1), required=True)
@click.option("-s", "--status", "statuses", cls=ManyValues, metavar="STATUS ...",
              help="Only tasks in these statuses: letters (D F), names (DONE) or groups "
              "(PENDING RUNNING DONE FATAL).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def tasks(workflow_id: int, statuses: tuple[str, ...], as_json: bool) -> None:
    """The tasks with status, attempts and their latest error."""
    import json

    from jobmon.cli.render import console, status_name, status_text, table
    from jobmon.client.operator import workflow_tasks

    letters = _task_statuses(statuses)
    rows = run_async(workflow_tasks, load_settings(), workflow_id, letters)
    if as_json:
        click.echo(json.dumps([
            {"task_id": row.task_id, "name": row.name, "status": row.status,
             "status_name": status_name(row.status), "num_attempts": row.num_attempts,
             "max_attempts": row.max_attempts, "exit_code": row.exit_code, "error": row.error}
            for row in rows], indent=2))
        return
    if not rows:
        click.echo(f"workflow {workflow_id}: no tasks" + (" in " + ", ".join(letters)
                                                          if letters else ""))
        return
    grid = table("ID", "NAME", "STATUS", "TRIES", "ERROR")
    grid.columns[1].overflow = "fold"
    grid.columns[4].overflow = "ellipsis"
    grid.columns[4].no_wrap = True
    for row in rows:
        grid.add_row(str(row.task_id), row.name, status_text(row.status),
                     f"{row.num_attempts}/{row.max_attempts}", row.error or "")
    console().print(grid)


FINISHED = ("D", "F", "H", "A")


@workflow.command(cls=Command)
@click.option("--before", required=True, metavar="DATE",
              type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                   "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
              help="Workflows whose status last changed before this local time.")
@click.option("--status", "statuses", cls=ManyValues, metavar="STATUS ...",
              default=FINISHED, show_default=True,
              help="Only workflows in these statuses (finished ones only: D F H A).")
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
    """The outputs, statuses and logs of a workflow as one .tar.gz archive."""
    from jobmon.cli.render import steps
    from jobmon.client.archive import write_archive

    with steps() as progress:
        written = run_async(write_archive, load_settings(), workflow_id, output,
                            progress.update)
    click.echo(f"wrote {written.path}: {written.tasks} task(s), {written.instances} "
               f"instance(s), {written.logs} log file(s)"
               + (f" ({written.missing_logs} no longer exist)" if written.missing_logs else ""))
