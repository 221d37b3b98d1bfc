"""`jobmon workflow ...`: watch and steer workflows by id."""

from __future__ import annotations

import click

from jobmon.cli.common import load_settings, one_line_errors, run_async


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
    click.echo(f"workflow {workflow_id}: {outcome.status} ({outcome.message})")
    if outcome.status != "D":
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
