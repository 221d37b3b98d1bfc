"""Results that flow on: upstream outputs for instances, chains, declarations, input runs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import asyncpg
import msgspec

from jobmon import results
from jobmon import wire_results as wr
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import Invalid, NotFound


async def inputs(connection: asyncpg.Connection, instance_ids: list[int]) -> wr.InputsResponse:
    """{upstream name: output} of each instance's task (instances without upstreams get {}),
    and the input runs of their workflows that take some (JOBMON_RUNS)."""
    wanted = sorted(set(instance_ids))
    rows: dict[int, list[tuple[int, str, Any]]] = defaultdict(list)
    for row in await connection.fetch(Q["inputs_of_instances"], wanted):
        rows[row["task_instance_id"]].append((row["task_id"], row["name"], row["output"]))
    with_runs = [row["workflow_id"] for row in
                 await connection.fetch(Q["workflows_with_runs_of_instances"], wanted)]
    return wr.InputsResponse(
        instances=[wr.InstanceInputs(task_instance_id=instance_id,
                                     inputs=results.named_outputs(rows.get(instance_id, [])))
                   for instance_id in wanted],
        runs=await input_runs(connection, with_runs) if with_runs else {},
    )


async def input_runs(connection: asyncpg.Connection,
                     workflow_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{workflow id: {input run id: its entry}} (JOBMON_RUNS) of the workflows that take
    finished runs as input; the outputs of a workflow's runs only as far as they fit
    (results.runs_with_outputs), its runs' results always."""
    listed: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for row in await connection.fetch(Q["input_runs_of"], sorted(set(workflow_ids))):
        listed[row["workflow_id"]].append(row)
    whole: set[int] = set()  # runs whose outputs some workflow's JOBMON_RUNS holds
    fits = {workflow_id: results.runs_with_outputs(
                [(run["id"], run["outputs_size"]) for run in runs], results.RUNS_OUTPUTS_LIMIT)
            for workflow_id, runs in listed.items()}
    for included in fits.values():
        whole |= included
    specs = {row["id"]: msgspec.convert(row["result_schema"] or [], list[wr.ResultSpec])
             for runs in listed.values() for row in runs}
    outputs = await _outputs_by_run(connection, sorted(whole), None)
    partial = sorted(set(specs) - whole)
    wanted_tasks = sorted(set().union(*(results.result_tasks(specs[i]) for i in partial)))
    if partial and wanted_tasks:
        outputs.update(await _outputs_by_run(connection, partial, wanted_tasks))
    answer: dict[int, dict[str, Any]] = {}
    for workflow_id, runs in listed.items():
        answer[workflow_id] = {str(run["id"]): results.run_entry(
            run["name"], run["workflow_args"],
            msgspec.convert(run["parameters"] or [], list[wr.Parameter]), specs[run["id"]],
            results.named_outputs(outputs.get(run["id"], [])), run["id"] in fits[workflow_id])
            for run in runs}
    return answer


async def _outputs_by_run(connection: asyncpg.Connection, run_ids: list[int],
                          task_names: list[str] | None) -> dict[int, list[tuple[int, str, Any]]]:
    found: dict[int, list[tuple[int, str, Any]]] = defaultdict(list)
    if run_ids:
        for row in await connection.fetch(Q["outputs_of_workflows"], run_ids, task_names):
            found[row["workflow_id"]].append((row["id"], row["name"], row["output"]))
    return found


async def _owner(connection: asyncpg.Connection, workflow_id: int) -> str:
    owner: str | None = await connection.fetchval(Q["workflow_owner"], workflow_id)
    if owner is None:
        raise NotFound(f"workflow {workflow_id}")
    return owner


async def chain_links(connection: asyncpg.Connection, first: int) -> list[wr.ChainLink]:
    return [
        wr.ChainLink(workflow_id=row["id"], name=row["name"],
                     workflow_args=row["workflow_args"], status=row["status"],
                     linker=row["linker"], next_workflow_id=row["next_workflow_id"],
                     error=row["error"], ended=row["ended"])
        for row in await connection.fetch(Q["chain_from"], first, results.CHAIN_LIMIT)
    ]


async def set_link(connection: asyncpg.Connection, workflow_id: int, body: wr.LinkRequest,
                   now: dt.datetime) -> wr.Chain:
    """Record a link; its follow-on must be the same owner's and must not close a loop."""
    if sum((body.next_workflow_id is not None, body.error is not None, body.ended)) > 1:
        raise Invalid("give the follow-on, the linker's error, or ended: one of them")
    async with connection.transaction():
        owner = await _owner(connection, workflow_id)
        if body.next_workflow_id is not None:
            if await _owner(connection, body.next_workflow_id) != owner:
                raise Invalid(f"workflow {body.next_workflow_id} belongs to another user: a "
                              f"chain holds the workflows of one owner")
            onwards = await chain_links(connection, body.next_workflow_id)
            if any(link.workflow_id == workflow_id for link in onwards):
                raise Invalid(f"workflow {body.next_workflow_id} cannot follow workflow "
                              f"{workflow_id}: it is already before it in the chain (a chain "
                              "cannot loop)")
        await connection.execute(Q["set_link"], workflow_id, body.linker, body.next_workflow_id,
                                 body.error, now, body.ended)
    return await chain(connection, workflow_id)


async def chain(connection: asyncpg.Connection, workflow_id: int) -> wr.Chain:
    """The whole chain that ``workflow_id`` is in, first link first, with its state."""
    await _owner(connection, workflow_id)
    head: int = await connection.fetchval(Q["chain_head"], workflow_id, results.CHAIN_LIMIT)
    links = await chain_links(connection, head)
    state, message, resume_at = results.chain_state(links)
    return wr.Chain(links=links, state=state, message=message, resume_workflow_id=resume_at)


async def set_declarations(connection: asyncpg.Connection, workflow_id: int,
                           body: wr.Declarations) -> wr.DeclarationsResponse:
    """Store parameters and result schema; input runs must be DONE and the same owner's."""
    async with connection.transaction():
        owner = await _owner(connection, workflow_id)
        if body.input_runs:
            found = {row["id"]: row for row in
                     await connection.fetch(Q["workflows_status_and_owner"], body.input_runs)}
            problems = []
            for run_id in body.input_runs:
                row = found.get(run_id)
                if row is None or row["owner"] != owner:
                    problems.append(f"workflow {run_id} does not exist (or is another user's)")
                elif row["status"] != "D":
                    problems.append(f"workflow {run_id} is {row['status']}, not DONE")
            if problems:
                raise Invalid("input runs must be finished workflows (DONE): "
                              + "; ".join(problems))
            await connection.execute(Q["add_input_runs"], workflow_id, body.input_runs)
        await connection.execute(
            Q["set_declarations"], workflow_id,
            msgspec.to_builtins(body.parameters) if body.parameters else None,
            msgspec.to_builtins(body.results) if body.results else None)
    return await declarations(connection, workflow_id)


async def declarations(connection: asyncpg.Connection,
                       workflow_id: int) -> wr.DeclarationsResponse:
    row = await connection.fetchrow(Q["declarations"], workflow_id)
    if row is None:
        raise NotFound(f"workflow {workflow_id}")
    return wr.DeclarationsResponse(
        workflow_id=workflow_id,
        parameters=msgspec.convert(row["parameters"] or [], list[wr.Parameter]),
        results=msgspec.convert(row["result_schema"] or [], list[wr.ResultSpec]),
        input_runs=list(row["input_runs"]),
    )
