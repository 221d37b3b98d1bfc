"""The `jobmon` command. It is the composition root: each command imports its part lazily."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from jobmon import settings as settings_module
from jobmon.cli import (
    maintenance,  # noqa: F401  (adds prune and archive to `workflow`)
    results,  # noqa: F401  (adds chain and results to `workflow`)
)
from jobmon.cli.common import (
    JOBMON_SPELLINGS,
    OneLineGroup,
    load_settings,
    normalize_token,
    one_line_errors,
    spellings,
)
from jobmon.cli.task import task
from jobmon.cli.template import template
from jobmon.cli.token import token
from jobmon.cli.workflow import workflow


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"],
                                                 "token_normalize_func": normalize_token})
@click.version_option(package_name="jobmon")
@click.option("--log-level", default="WARNING", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Logging detail on stderr.")
def main(log_level: str) -> None:
    """Jobmon: run large workflows of shell tasks on Slurm or local processes.

    The commands with underscores (workflow_status, task_status, ...) are IHME Jobmon's
    spellings of the grouped ones, with Jobmon's options; option names may be written with
    underscores too (--workflow_id).
    """
    setup_logging(log_level)


@main.command()
@click.option("--database-url", default="", help="PostgreSQL URL (default: JOBMON__DB__URL, "
              "else the embedded PostgreSQL).")
@click.option("--host", default=None, help="Address to listen on [server.host].")
@click.option("--port", default=None, type=int, help="Port to listen on; 0 picks a free one "
              "[server.port].")
@click.option("--ready-file", type=click.Path(path_type=Path), default=None,
              help="Write {url, pid} as JSON here once listening.")
@click.option("--idle-shutdown", type=float, default=0.0,
              help="Exit after this many seconds without requests (0: never).")
@click.option("--no-upgrade", is_flag=True, help="Do not apply migrations at start.")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Server processes sharing the port (SO_REUSEPORT), one per core at most "
                   "[server.processes].")
@click.option("--reuse-port", is_flag=True, hidden=True)
@click.option("--ready-fd", type=int, default=None, hidden=True)
@one_line_errors
def server(database_url: str, host: str | None, port: int | None, ready_file: Path | None,
           idle_shutdown: float, no_upgrade: bool, processes: int | None,
           reuse_port: bool, ready_fd: int | None) -> None:
    """Run the server (embedded PostgreSQL if no database URL is configured)."""
    from jobmon.server.main import ServeOptions, run_server

    settings = load_settings()
    processes = processes if processes is not None else settings.server.processes
    if processes < 1:
        raise click.BadParameter(f"must be at least 1, not {processes}",
                                 param_hint="--processes / server.processes")
    if processes > 1 and idle_shutdown > 0:
        raise click.BadParameter("--idle-shutdown watches one process; it cannot be used "
                                 "with several", param_hint="--processes")
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    run_server(
        settings,
        ServeOptions(
            host=host if host is not None else settings.server.host,
            port=port if port is not None else settings.server.port,
            database_url=database_url or settings.db.url,
            ready_file=ready_file,
            idle_shutdown=idle_shutdown,
            upgrade=not no_upgrade,
            processes=processes,
            reuse_port=reuse_port,
            on_ready=None if ready_fd is None else _say_ready_on(ready_fd),
        ),
    )


def _say_ready_on(descriptor: int) -> Callable[[str], None]:
    """Write the URL to the supervisor's pipe once listening (`--processes`)."""

    def say(url: str) -> None:
        with os.fdopen(descriptor, "w") as pipe:
            pipe.write(url + "\n")

    return say


@main.group()
def db() -> None:
    """Database administration."""


@db.command("upgrade")
@click.option("--database-url", default="", help="PostgreSQL URL (default: JOBMON__DB__URL, "
              "else the embedded PostgreSQL).")
@one_line_errors
def db_upgrade(database_url: str) -> None:
    """Apply the migrations the database lacks."""
    import anyio

    from jobmon.server.main import describe, open_database, upgrade_database

    settings = load_settings()
    dsn, embedded = open_database(settings, database_url or settings.db.url)
    try:
        applied = anyio.run(upgrade_database, dsn)
    finally:
        if embedded is not None:
            embedded.stop()
    shown = ", ".join(map(str, applied)) if applied else "none (already up to date)"
    click.echo(f"{describe(dsn)}: applied migrations {shown}")


@main.command()
@click.option("--cluster", "cluster_name", required=True, help="Cluster to serve.")
@click.option("--workflow-run-id", type=int, default=None,
              help="Serve one run; without it, serve every run on the cluster.")
@click.option("--exit-on-stdin-close", is_flag=True, hidden=True)
@click.option("--run-id-from-stdin", is_flag=True, hidden=True)
@one_line_errors
def distributor(cluster_name: str, workflow_run_id: int | None, exit_on_stdin_close: bool,
                run_id_from_stdin: bool) -> None:
    """Run a distributor for one workflow run, or as a daemon for the whole cluster."""
    from jobmon.distributor.main import run_distributor

    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    run_distributor(load_settings(), cluster_name, workflow_run_id, exit_on_stdin_close,
                    run_id_from_stdin)


@main.command()
@click.option("--task-instance-id", type=int, required=True)
@one_line_errors
def worker(task_instance_id: int) -> None:
    """The wrapper a cluster runs around a task's command; not for people."""
    from jobmon.distributor.worker import run_worker

    sys.exit(run_worker(load_settings(), task_instance_id))


@main.group()
def config() -> None:
    """Configuration."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output (with each setting's description).")
@click.option("--describe", is_flag=True, help="Say what each setting does.")
@one_line_errors
def config_show(as_json: bool, describe: bool) -> None:
    """The effective configuration and where each value came from."""
    import json

    loaded = settings_module.load()
    meanings = settings_module.descriptions()
    rows = []
    for section, keys in loaded.values.items():
        for key, value in keys.items():
            shown = "***" if key == "token" and value else value
            rows.append({"setting": f"{section}.{key}", "value": shown,
                         "source": loaded.sources[f"{section}.{key}"],
                         "description": meanings.get(f"{section}.{key}", "")})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table("setting", "value", "source", *(["description"] if describe else []),
                  box=None)
    for row in rows:
        table.add_row(escape(row["setting"]), escape(repr(row["value"])), escape(row["source"]),
                      *([escape(row["description"])] if describe else []))
    Console().print(table)


@spellings("config update", "update_config")
@config.command("update")
@click.argument("key")
@click.argument("value")
@click.option("--config-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The file to change [default: JOBMON__CONFIG_FILE, else "
                   "~/.config/jobmon/jobmon.toml].")
@one_line_errors
def config_update(key: str, value: str, config_file: Path | None) -> None:
    """Set one setting (section.key, as `jobmon config show` lists them) in the TOML
    configuration file; Jobmon's names map onto ours where one exists."""
    from jobmon.config_file import update_setting

    click.echo(update_setting(key, value, config_file))


@main.command()
def version() -> None:
    """The version of Jobmon (also `jobmon --version`)."""
    import jobmon

    click.echo(jobmon.__version__)


main.add_command(workflow)
main.add_command(task)
main.add_command(template)
main.add_command(token)
for jobmon_name, command in sorted(JOBMON_SPELLINGS.items()):
    main.add_command(command, jobmon_name)

if __name__ == "__main__":  # pragma: no cover
    main()
