"""`jobmon task ...`: one task's instances and dependencies; mark tasks DONE or reset them
(also in IHME Jobmon's spellings: task_status, task_dependencies, update_task_status)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from jobmon.cli.common import (
    Command,
    ManyValues,
    confirm,
    load_settings,
    one_line_errors,
    run_async,
    spellings,
)

if TYPE_CHECKING:
    from jobmon import wire

STDERR_LINES = 15
TASK_IDS = ("-t", "--task-id")


@click.group()
def task() -> None:
    """Tasks: status, update, dependencies."""


def _task_json(detail: wire.TaskDetail) -> dict[str, Any]:
    import msgspec

    from jobmon.cli.render import status_name

    data: dict[str, Any] = msgspec.to_builtins(detail)
    data["status_name"] = status_name(detail.status)
    for instance in data["instances"]:
        instance["status_name"] = status_name(instance["status"], "instance")
        instance["timeline"] = [
            {"time": row[0], "status": row[2], "status_name": status_name(row[2], "instance"),
             "source": row[3]}
            for row in instance["timeline"]
        ]
    data["history"] = [
        {"time": row.time, "from_status": row.from_status, "status": row.status,
         "status_name": status_name(row.status), "source": row.source, "user": row.user,
         "task_instance_id": row.task_instance_id, "context": row.context}
        for row in detail.history
    ]
    return data


def context_text(context: dict[str, Any]) -> str:
    """A history row's context on one line: ``reason: ...; run 3; task_ids 1,2``."""
    parts = []
    for key, value in context.items():
        shown = ",".join(map(str, value)) if isinstance(value, list) else value
        parts.append(f"{key} {shown}")
    return "; ".join(parts)


def _show_history(detail: wire.TaskDetail) -> None:
    from jobmon.cli.render import console, short_time, status_text, table

    history = table("TIME", "FROM", "TO", "BY", "USER", "INSTANCE", "CONTEXT",
                    title=f"task {detail.task_id} history")
    history.columns[6].overflow = "fold"
    for row in detail.history:
        history.add_row(short_time(row.time), status_text(row.from_status), status_text(row.status),
                        row.source, row.user or "-",
                        "-" if row.task_instance_id is None else str(row.task_instance_id),
                        context_text(row.context) or "-")
    console().print(history)


def _show_task(detail: wire.TaskDetail, filtered: bool = False) -> None:
    from rich.panel import Panel
    from rich.text import Text

    from jobmon.cli.render import console, seconds, short_time, size, status_text, table

    out = console()
    header = Text.assemble(
        (f"task {detail.task_id} ", "bold"), (detail.name, "bold"),
        f"  workflow {detail.workflow_id}  template {detail.template_name}  ",
        status_text(detail.status), f"  attempts {detail.num_attempts}/{detail.max_attempts}")
    out.print(header)
    if detail.history:
        _show_history(detail)
    if not detail.instances:
        out.print("no instances in those statuses" if filtered else "no instances yet")
        return
    grid = table("INSTANCE", "TRY", "STATUS", "JOB ID", "NODE", "EXIT", "MAXRSS", "WALL")
    grid.columns[4].overflow = "fold"
    for instance in detail.instances:
        grid.add_row(str(instance.task_instance_id), str(instance.attempt),
                     status_text(instance.status, "instance"), instance.distributor_id or "-",
                     instance.nodename or "-",
                     "-" if instance.exit_code is None else str(instance.exit_code),
                     size(instance.maxrss), seconds(instance.wallclock))
    out.print(grid)
    for instance in detail.instances:
        out.print()
        timeline = table("TIME", "STATUS", "SOURCE", "USER", "CONTEXT",
                         title=f"instance {instance.task_instance_id} (try {instance.attempt})")
        for row in instance.timeline:
            timeline.add_row(short_time(row.time), status_text(row.status, "instance"),
                             row.source, row.user or "-", context_text(row.context) or "-")
        out.print(timeline)
        if instance.error_message:
            out.print(Text.assemble(("error: ", "bold"), instance.error_message))
        for label, path in (("stdout", instance.stdout_path), ("stderr", instance.stderr_path)):
            if path:  # never broken across lines: people copy these
                out.print(Text.assemble((f"{label}: ", "bold"), path), soft_wrap=True)
        tail = (instance.stderr_tail or "").rstrip("\n").splitlines()[-STDERR_LINES:]
        if tail:
            out.print(Panel(Text("\n".join(tail)), title="stderr tail", title_align="left",
                            expand=False))


@spellings("task status", "task_status")
@task.command("status", cls=Command)
@click.option(*TASK_IDS, "task_ids", cls=ManyValues, type=click.IntRange(min=1),
              required=True, metavar="ID ...")
@click.option("-s", "--status", "statuses", cls=ManyValues, metavar="STATUS ...",
              help="Only instances in these: PENDING, RUNNING, DONE, FATAL (any case), "
                   "status names (ERROR) or letters (E).")
@click.option("-n", "--json", "as_json", is_flag=True,
              help="Machine-readable output: a list with one object per task (Jobmon's -n).")
@one_line_errors
def status(task_ids: tuple[int, ...], statuses: tuple[str, ...], as_json: bool) -> None:
    """The tasks' instances: status timeline, cluster job id, node, exit code, maxrss,
    wallclock, stderr tail, and log paths."""
    import msgspec

    from jobmon.client.operator import task_details
    from jobmon.status_groups import instance_statuses

    try:
        letters = set(instance_statuses(statuses))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'-s' / '--status'") from None
    details = run_async(task_details, load_settings(), task_ids)
    if letters:
        details = [msgspec.structs.replace(detail, instances=[
            instance for instance in detail.instances if instance.status in letters])
            for detail in details]
    if as_json:
        click.echo(json.dumps([_task_json(detail) for detail in details], indent=2))
        return
    for index, detail in enumerate(details):
        if index:
            click.echo()
        _show_task(detail, bool(letters))


@spellings("task update", "update_task_status")
@task.command("update", cls=Command)
@click.option("-w", "--workflow-id", type=click.IntRange(min=1),
              required=True)
@click.option(*TASK_IDS, "task_ids", cls=ManyValues, type=click.IntRange(min=1),
              required=True, metavar="ID ...")
@click.option("-s", "--status", "new_status", required=True,
              type=click.Choice(["D", "G"]),
              help="D: mark DONE. G: reset to REGISTERING with fresh attempts, with everything "
              "downstream; a later resume runs them.")
@click.option("-r", "--recursive", is_flag=True,
              help="With D: mark everything upstream of them DONE too.")
@click.option("-f", "--force", is_flag=True, hidden=True,
              help="Accepted as Jobmon accepts it (it allows -r there).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation at a terminal.")
@one_line_errors
def update(workflow_id: int, task_ids: tuple[int, ...], new_status: str, recursive: bool,
           force: bool, yes: bool) -> None:
    """Mark tasks DONE, or reset them and everything downstream (not while the workflow
    runs). At a terminal it asks first, unless --yes."""
    from jobmon.cli.common import interactive
    from jobmon.cli.render import status_name
    from jobmon.client.operator import update_tasks

    settings = load_settings()
    letter = new_status.upper()
    if not yes and interactive():
        preview = run_async(update_tasks, settings, workflow_id, task_ids, letter, True,
                            recursive)
        others = len(set(preview.task_ids) - set(task_ids))
        where = "upstream" if letter == "D" else "downstream"
        what = f"{len(preview.task_ids)} task(s)" + (
            f" ({others} of them {where})" if others else "")
        confirm(f"workflow {workflow_id}: set {what} to {status_name(letter)}?", yes)
    answer = run_async(update_tasks, settings, workflow_id, task_ids, letter, False, recursive)
    others = len(set(answer.task_ids) - set(task_ids))
    where = "upstream" if letter == "D" else "downstream"
    click.echo(f"workflow {workflow_id}: {len(answer.task_ids)} task(s) set to "
               f"{status_name(letter)}" + (f", {others} of them {where}" if others else "")
               + f"; the workflow is {status_name(answer.workflow_status, 'workflow')}")


@spellings("task dependencies", "task_dependencies")
@task.command("dependencies", cls=Command)
@click.option("-t", "--task-id", type=click.IntRange(min=1), required=True)
@click.option("-n", "--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def dependencies(task_id: int, as_json: bool) -> None:
    """The task's upstream and downstream tasks, with their status (a letter) and name."""
    import msgspec

    from jobmon.client.operator import task_dependencies

    answer = run_async(task_dependencies, load_settings(), task_id)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(answer), indent=2))
        return
    # the layout Jobmon documents, with the task's name after its status
    line = "{:<8} {:<15} {:<15} {}"
    for title, refs in (("Upstream Tasks:", answer.upstream),
                        ("Downstream Tasks:", answer.downstream)):
        if title.startswith("Downstream"):
            click.echo()
        click.echo(f"{title}\n")
        click.echo(line.format("", "Task ID", "Status", "Name").rstrip())
        for ref in refs:
            click.echo(line.format("", ref.task_id, ref.status, ref.name))
        if not refs:
            click.echo(line.format("", "(none)", "", "").rstrip())
