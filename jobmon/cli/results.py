"""`jobmon workflow chain` and `jobmon workflow results`: chained workflows, and the results
a workflow promised."""

from __future__ import annotations

import click

from jobmon.cli.common import Command, load_settings, one_line_errors, run_async
from jobmon.cli.workflow import WORKFLOW_ID, workflow

CHAIN_COLUMNS = ("LINK", "WF_ID", "NAME", "STATUS", "LINKER", "NEXT", "ERROR")


@workflow.command(cls=Command)
@click.option(*WORKFLOW_ID, "workflow_id", type=click.IntRange(min=1), required=True)
@click.option("-n", "--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def chain(workflow_id: int, as_json: bool) -> None:
    """The chain of workflows this one is in, first to last, and where it stands."""
    import json

    import msgspec

    from jobmon.cli.render import print_wide, status_text, table
    from jobmon.client.results import read_chain

    found = run_async(read_chain, load_settings(), workflow_id)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(found), indent=2))
        return
    grid = table(*CHAIN_COLUMNS, title=f"chain: {found.state} ({found.message})")
    for position, link in enumerate(found.links, 1):
        grid.add_row(str(position), str(link.workflow_id), link.name,
                     status_text(link.status, "workflow"), link.linker or "-",
                     str(link.next_workflow_id or "-"), link.error or "")
    print_wide(grid)


@workflow.command(cls=Command)
@click.option(*WORKFLOW_ID, "workflow_id", type=click.IntRange(min=1), required=True)
@click.option("-n", "--json", "as_json", is_flag=True, help="Machine-readable output.")
@one_line_errors
def results(workflow_id: int, as_json: bool) -> None:
    """The results a workflow promised (its result schema), read from its tasks' outputs
    and the files they named; exits non-zero when one is missing."""
    import json

    from jobmon.cli.render import print_wide, table
    from jobmon.client.results import read_workflow_results

    found = run_async(read_workflow_results, load_settings(), workflow_id)
    if as_json:
        click.echo(json.dumps({"workflow_id": workflow_id, "results": found.values,
                               "missing": found.missing, "parameters": found.parameters,
                               "input_runs": found.input_runs}, indent=2))
    else:
        grid = table("RESULT", "VALUE", "HELP")
        for spec in found.specs:
            shown = (json.dumps(found.values[spec.name]) if spec.name in found.values
                     else f"missing: {found.missing[spec.name]}")
            grid.add_row(spec.name, shown, spec.help)
        if not found.specs:
            click.echo(f"workflow {workflow_id} declares no results")
        else:
            print_wide(grid)
    if found.missing:
        raise SystemExit(1)
