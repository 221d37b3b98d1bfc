"""`jobmon workflow ...`: watch and steer workflows by id (also in IHME Jobmon's spellings:
workflow_status, workflow_tasks, concurrency_limit, workflow_resume, workflow_reset)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import click

from jobmon.cli.common import (
    Command,
    ManyValues,
    load_settings,
    one_line_errors,
    run_async,
    spellings,
)

if TYPE_CHECKING:
    from jobmon import wire

WORKFLOW_ID = ("-w", "--workflow-id")
JSON_HELP = "Machine-readable output (JSON), as Jobmon's -n."


@click.group()
def workflow() -> None:
    """Workflows: status, tasks, resume, reset, limits, stop, log paths, prune, archive."""


@spellings("workflow status", "workflow_status")
@workflow.command(cls=Command)
@click.option(*WORKFLOW_ID, "workflow_ids", cls=ManyValues, type=click.IntRange(min=1),
              metavar="ID ...", help="These workflows (default: the newest of -u).")
@click.option("-u", "--user", "users", cls=ManyValues, metavar="USER ...",
              help="The newest workflows of these users [default: you].")
@click.option("-l", "--limit", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many of the newest workflows without -w.")
@click.option("-n", "--json", "as_json", is_flag=True, help=JSON_HELP)
@one_line_errors
def status(workflow_ids: tuple[int, ...], users: tuple[str, ...], limit: int,
           as_json: bool) -> None:
    """Workflows and their tasks by status: PENDING, SCHEDULED, RUNNING, DONE and FATAL,
    each with its share, and retries; newest first."""
    import getpass
    import json

    from jobmon.cli.render import print_wide, short_time, status_text, table
    from jobmon.client.operator import list_workflows
    from jobmon.client.status_tables import WORKFLOW_COLUMNS, workflow_rows

    # as Jobmon: the workflows named with -w, whoever owns them; else the newest of -u
    owners = () if workflow_ids else users or (getpass.getuser(),)
    summaries = run_async(functools.partial(
        list_workflows, load_settings(), users=owners, workflow_ids=workflow_ids, limit=limit))
    if as_json:
        click.echo(json.dumps([_summary_json(summary) for summary in summaries], indent=2))
        return
    if not summaries:
        click.echo(f"no workflows of user {', '.join(owners)}" if owners else "no workflows")
        return
    grid = table(*WORKFLOW_COLUMNS)
    grid.columns[1].overflow = "fold"
    for column in grid.columns[4:]:
        column.justify = "right"
    for summary, row in zip(summaries, workflow_rows(summaries), strict=True):
        grid.add_row(*(str(row[column]) for column in WORKFLOW_COLUMNS[:2]),
                     status_text(summary.status, "workflow"), short_time(summary.created_at),
                     *(str(row[column]) for column in WORKFLOW_COLUMNS[4:]))
    print_wide(grid)


def _summary_json(summary: wire.WorkflowSummary) -> dict[str, Any]:
    from jobmon.cli.render import percent, status_name
    from jobmon.status_groups import group_counts

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


def task_letters(given: tuple[str, ...]) -> list[str]:
    from jobmon.status_groups import task_statuses

    try:
        return task_statuses(given)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'-s' / '--status'") from None


@spellings("workflow tasks", "workflow_tasks")
@workflow.command(cls=Command)
@click.option(*WORKFLOW_ID, type=click.IntRange(min=1), required=True)
@click.option("-s", "--status", "statuses", cls=ManyValues, metavar="STATUS ...",
              help="Only tasks in these: PENDING, SCHEDULED, RUNNING, DONE, FATAL (any case), "
                   "status names (ERROR_FATAL) or letters (F).")
@click.option("-l", "--limit", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many tasks, newest (highest id) first.")
@click.option("-n", "--json", "as_json", is_flag=True, help=JSON_HELP)
@one_line_errors
def tasks(workflow_id: int, statuses: tuple[str, ...], limit: int, as_json: bool) -> None:
    """A workflow's tasks, newest first: status, retries and the last line of their error."""
    import json

    from jobmon.cli.render import print_wide, status_name, table
    from jobmon.client.operator import list_workflows, workflow_tasks
    from jobmon.client.status_tables import TASK_COLUMNS, task_rows

    letters = task_letters(statuses)
    settings = load_settings()
    rows = run_async(workflow_tasks, settings, workflow_id, letters, limit)
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
    grid = table(*TASK_COLUMNS, "ERROR")
    grid.columns[1].overflow = "fold"
    for row, shown in zip(rows, task_rows(rows), strict=True):
        grid.add_row(*(str(shown[column]) for column in TASK_COLUMNS), row.error or "")
    print_wide(grid)
    if len(rows) == limit:
        [summary] = run_async(functools.partial(list_workflows, settings,
                                                workflow_ids=[workflow_id]))
        total = sum(count for letter, count in summary.counts.items()
                    if not letters or letter in letters)
        if total > limit:
            click.echo(f"the newest {limit} of {total} tasks; -l {total} shows them all",
                       err=True)


@workflow.command(cls=Command)
@click.option(*WORKFLOW_ID, type=click.IntRange(min=1), required=True)
@click.option("-n", "--json", "as_json", is_flag=True, help=JSON_HELP)
@one_line_errors
def history(workflow_id: int, as_json: bool) -> None:
    """Every status of the workflow and its runs, and the operator actions on it (task
    update, stop, resume, concurrency, reset, prune), with who made each and why; oldest
    first. A pruned workflow's record remains."""
    import json

    import msgspec

    from jobmon.cli.render import console, short_time, status_text, table
    from jobmon.cli.task import context_text
    from jobmon.client.operator import workflow_history

    answer = run_async(workflow_history, load_settings(), workflow_id)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(answer.rows), indent=2))
        return
    grid = table("TIME", "WHAT", "FROM", "TO", "BY", "USER", "ACTION", "CONTEXT",
                 title=f"workflow {workflow_id} history")
    grid.columns[7].overflow = "fold"
    for row in answer.rows:
        machine = "run" if row.kind == "run" else "workflow"
        grid.add_row(short_time(row.time),
                     f"run {row.workflow_run_id}" if row.kind == "run" else "workflow",
                     status_text(row.from_status, machine) if row.from_status else "-",
                     status_text(row.status, machine), row.source, row.user or "-",
                     row.action or "-", context_text(row.context) or "-")
    console().print(grid)


@spellings("workflow resume", "workflow_resume")
@workflow.command(cls=Command)
@click.option(*WORKFLOW_ID, type=int, required=True)
@click.option("-c", "--cluster", "--cluster-name", "cluster_name",
              required=True, help="The cluster the resumed tasks run on.")
@click.option("--reset-running-jobs/--hot", "--cold/ ", "cold", default=False,
              help="Kill the running tasks and run them again (a cold resume) [default: let "
                   "them finish: hot].")
@click.option("-t", "--timeout", type=click.FloatRange(min=0), default=180.0,
              show_default=True, help="Seconds to wait for the old run to stop.")
@click.option("--seconds-until-timeout", type=click.FloatRange(min=0), default=36000.0,
              show_default=True, help="Seconds the resumed run may take.")
@click.option("--increase-resource/--use-original-resources", "increase", default=True,
              show_default=True,
              help="Scale the resources of tasks whose last attempt hit a resource error "
                   "(by their resource_scales), or keep them.")
@one_line_errors
def resume(workflow_id: int, cluster_name: str, cold: bool, timeout: float,
           seconds_until_timeout: float, increase: bool) -> None:
    """Resume a workflow from the database; no Python script needed. Tasks already DONE
    are skipped. Exits non-zero with the reason unless the resumed run ends DONE."""
    from jobmon.client.chain import resume_chain
    from jobmon.client.resume import ResumeOptions, resume_workflow
    from jobmon.errors import WorkflowRunStateError
    from jobmon.status import WorkflowRunStatus

    settings = load_settings()
    options = ResumeOptions(cluster_name=cluster_name, cold=cold, timeout=timeout,
                            seconds_until_timeout=seconds_until_timeout,
                            increase_resource=increase)
    # a workflow in a chain: the chain goes on from where it stopped, to its end
    outcome = run_async(resume_chain, settings, workflow_id, options,
                        lambda resumed: resume_workflow(settings, resumed, options))
    if outcome.final_status != WorkflowRunStatus.DONE:
        raise WorkflowRunStateError(
            f"workflow {outcome.workflow_id} did not resume to completion: its run ended "
            f"{WorkflowRunStatus(outcome.final_status).name} ({outcome.message})")
    finished = f"Workflow {workflow_id}" if outcome.workflow_id == workflow_id else \
        f"The chain of workflow {workflow_id} (to workflow {outcome.workflow_id})"
    click.echo(f"{finished} has successfully resumed to completion ({outcome.message}).")


@spellings("workflow reset", "workflow_reset")
@workflow.command()
@click.option(*WORKFLOW_ID, type=click.IntRange(min=1), required=True)
@click.option("-p", "--partial-reset", "partial", is_flag=True,
              help="Keep DONE tasks DONE.")
@one_line_errors
def reset(workflow_id: int, partial: bool) -> None:
    """Every task back to REGISTERING, so that a resume runs them all again; only when the
    workflow's latest run ended in ERROR."""
    from jobmon.client.operator import reset_workflow
    from jobmon.client.status_commands import reset_message

    answer = run_async(reset_workflow, load_settings(), workflow_id, partial)
    click.echo(f"{reset_message(workflow_id)} {answer.tasks_reset} task(s) are REGISTERING "
               "again; `jobmon workflow_resume` runs them.")


@spellings("workflow concurrency", "concurrency_limit")
@workflow.command()
@click.option(*WORKFLOW_ID, type=click.IntRange(min=1), required=True)
@click.option("-m", "--max-tasks", "limit", type=click.IntRange(min=1),
              required=True, help="The new limit of tasks running at once.")
@click.option("-t", "--task-template", default="", metavar="NAME",
              help="Change the limit of this task template (its array) in the workflow, "
                   "not the workflow's.")
@one_line_errors
def concurrency(workflow_id: int, limit: int, task_template: str) -> None:
    """Change the limit of a running workflow, or of one of its task templates (-t); the
    running swarm applies it at once."""
    from jobmon.client.operator import set_concurrency, set_template_concurrency
    from jobmon.client.status_commands import concurrency_message

    settings = load_settings()
    if task_template:
        changed = run_async(set_template_concurrency, settings, workflow_id, task_template,
                            limit)
        click.echo(f"Workflow ID {workflow_id} task template {changed.task_template!r} max "
                   f"concurrently running updated to {changed.max_concurrently_running}")
        return
    answer = run_async(set_concurrency, settings, workflow_id, limit)
    click.echo(concurrency_message(answer.workflow_id, answer.max_concurrently_running))


@workflow.command()
@click.option(*WORKFLOW_ID, type=int, required=True)
@one_line_errors
def stop(workflow_id: int) -> None:
    """Stop a running workflow and kill its instances."""
    from jobmon.client.operator import stop_workflow

    answer = run_async(stop_workflow, load_settings(), workflow_id)
    run = f"run {answer.workflow_run_id} stopped" if answer.workflow_run_id else "no live run"
    click.echo(f"workflow {workflow_id}: {run}, {answer.killed} instance(s) to kill")


@spellings("workflow filepaths", "get_filepaths")
@workflow.command(cls=Command)
@click.option(*WORKFLOW_ID, type=click.IntRange(min=1), required=True)
@click.option("-a", "--array-name", default="", help="Only this array "
              "(task template).")
@click.option("-j", "--job-name", default="", help="Only this task name.")
@click.option("-l", "--limit", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many instances, first tasks first.")
@click.option("-n", "--json", "as_json", is_flag=True, help=JSON_HELP)
@one_line_errors
def filepaths(workflow_id: int, array_name: str, job_name: str, limit: int,
              as_json: bool) -> None:
    """Where the workflow's task instances wrote stdout (OUTPUT_PATH) and stderr
    (ERROR_PATH)."""
    import json

    from jobmon.cli.render import print_wide, table
    from jobmon.client.operator import file_paths
    from jobmon.client.status_tables import PATH_COLUMNS, path_rows

    rows = path_rows(run_async(file_paths, load_settings(), workflow_id, array_name, job_name,
                               limit))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"workflow {workflow_id}: no task instances"
                   + (" of that array or name" if array_name or job_name else " yet"))
        return
    grid = table(*PATH_COLUMNS)
    for row in rows:
        grid.add_row(*(str(row[column]) for column in PATH_COLUMNS))
    print_wide(grid)
