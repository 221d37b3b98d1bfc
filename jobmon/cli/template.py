"""`jobmon template ...`: what task templates used, and resource files of suggested requests
(also in IHME Jobmon's spellings: task_template_resources, create_resource_yaml)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

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
    from jobmon import wire_operator as wo

CLUSTERS_HELP = "The clusters to write requests for (as Jobmon: slurm)."


@click.group()
def template() -> None:
    """Task templates: resource usage, and resource files from it."""


def _emit_yaml(text: str, show: bool, file: Path | None) -> None:
    if file is not None:
        file.expanduser().write_text(text)
        click.echo(f"wrote {file}", err=True)
    if show or file is None:
        click.echo(text, nl=False)


def _file_from_rest(rest: tuple[str, ...], file: Path | None) -> Path | None:
    """Jobmon's documented `-p f FILE`: a file after a lone ``f``."""
    if not rest:
        return file
    if len(rest) == 2 and rest[0] == "f" and file is None:
        return Path(rest[1])
    raise click.UsageError(f"unexpected {' '.join(rest)!r}: write a resource file with "
                           "-f FILE (or, as Jobmon's documentation writes it, f FILE)")


@spellings("template resources", "task_template_resources")
@template.command("resources", cls=Command)
@click.option("-t", "--task-template-version", "version_id", type=click.IntRange(min=1),
              help="The task template version whose usage to show.")
@click.option("-w", "--workflows", "--workflow-id", "workflow_ids",
              cls=ManyValues, type=click.IntRange(min=1), metavar="ID ...",
              help="With -t: only instances of these workflows. Without -t: a resource file "
                   "for every template these workflows use.")
@click.option("-a", "--node-args", default="", metavar="JSON",
              help="With -t: only tasks with these node arg values, e.g. "
                   "'{\"location_id\": [101, 102]}'.")
@click.option("--ci", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="A confidence interval of the mean memory and runtime, e.g. 0.95.")
@click.option("-p", "--print", "show", is_flag=True,
              help="Print the resource file (without -t).")
@click.option("-f", "--file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the resource file here (without -t).")
@click.option("-c", "--clusters", cls=ManyValues, default=("slurm",), show_default=True,
              metavar="NAME ...", help=CLUSTERS_HELP)
@click.option("-n", "--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.argument("rest", nargs=-1, metavar="")
@one_line_errors
def resources(version_id: int | None, workflow_ids: tuple[int, ...], node_args: str,
              ci: float | None, show: bool, file: Path | None, clusters: tuple[str, ...],
              as_json: bool, rest: tuple[str, ...]) -> None:
    """With -t: the max RSS and runtime of a task template version's finished instances
    (count, min, mean, median, 95th percentile, max). With -w alone: a resource file of
    suggested requests for the templates of those workflows, as create_resource_yaml."""
    from jobmon.client import usage

    file = _file_from_rest(rest, file)
    settings = load_settings()
    if version_id is None:
        if not workflow_ids:
            raise click.UsageError("give -t TASK_TEMPLATE_VERSION_ID (its resource usage) or "
                                   "-w WORKFLOW_ID (a resource file for its templates)")
        found = run_async(functools.partial(usage.template_resources, settings,
                                            workflow_ids=workflow_ids))
        _emit_yaml(usage.resource_yaml(found, clusters), show, file)
        return
    if show or file is not None:
        raise click.UsageError("-p and -f write a resource file for the templates of -w "
                               "workflows; leave out -t for that")
    found_usage = run_async(usage.template_usage, settings, version_id, workflow_ids,
                            node_args, ci)
    if as_json:
        import json

        import msgspec

        click.echo(json.dumps({**msgspec.to_builtins(found_usage),
                               **usage.jobmon_stats(found_usage)}, indent=2))
        return
    _show_usage(found_usage)


def _show_usage(found: wo.ResourceUsage) -> None:
    from jobmon.cli.render import console, seconds, size, table

    out = console()
    out.print(f"task template {found.template_name!r} (version "
              f"{found.task_template_version_id}): {found.instances} finished instance(s) of "
              f"{found.tasks} task(s)", highlight=False)
    if not found.instances:
        return
    grid = table("", "MEMORY (max RSS)", "RUNTIME")
    grid.columns[1].justify = grid.columns[2].justify = "right"

    def memory(value: float | None) -> str:
        return size(None if value is None else round(value))

    label = f"p{round(found.percentile * 100):g}"
    for name, key in (("count", "count"), ("min", "min"), ("mean", "mean"),
                      ("median", "median"), (label, "percentile"), ("max", "max")):
        mem, run = getattr(found.memory, key), getattr(found.runtime, key)
        if key == "count":
            grid.add_row(name, str(mem), str(run))
        else:
            grid.add_row(name, memory(mem), seconds(run))
    if found.memory.ci is not None or found.runtime.ci is not None:
        mem_ci, run_ci = found.memory.ci, found.runtime.ci
        grid.add_row("ci of mean",
                     f"{memory(mem_ci[0])} - {memory(mem_ci[1])}" if mem_ci else "-",
                     f"{seconds(run_ci[0])} - {seconds(run_ci[1])}" if run_ci else "-")
    out.print(grid)


@spellings("template yaml", "create_resource_yaml")
@template.command("yaml", cls=Command)
@click.option("-w", "--workflow-id", type=click.IntRange(min=1),
              default=None, help="Every template this workflow uses (give -w or -t).")
@click.option("-t", "--task-id", type=click.IntRange(min=1), default=None,
              help="The template of this task (give -w or -t).")
@click.option("--value-mem", type=click.Choice(["avg", "max", "min"]),
              default="avg", show_default=True, help="Which memory usage to ask for.")
@click.option("--value-core", type=click.Choice(["avg", "max", "min"]),
              default="avg", show_default=True, help="Which of the requested cores.")
@click.option("--value-runtime", type=click.Choice(["avg", "max", "min"]),
              default="max", show_default=True, help="Which runtime to ask for.")
@click.option("-f", "--file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the YAML here.")
@click.option("-p", "--print", "show", is_flag=True,
              help="Print the YAML (also when no -f is given).")
@click.option("-c", "--clusters", cls=ManyValues, default=("slurm",), show_default=True,
              metavar="NAME ...", help=CLUSTERS_HELP)
@one_line_errors
def resource_yaml(workflow_id: int | None, task_id: int | None, value_mem: str,
                  value_core: str, value_runtime: str, file: Path | None, show: bool,
                  clusters: tuple[str, ...]) -> None:
    """A task_template_resources YAML of suggested requests (cores, memory, runtime, queue)
    from what the finished instances of the templates used; yaml_file= reads it."""
    from jobmon.client import usage

    if (workflow_id is None) == (task_id is None):
        raise click.UsageError("Please provide a value for either -w or -t but not both.")
    found = run_async(functools.partial(
        usage.template_resources, load_settings(),
        workflow_ids=[workflow_id] if workflow_id is not None else [], task_id=task_id))
    _emit_yaml(usage.resource_yaml(found, clusters, value_mem, value_core, value_runtime),
               show, file)

