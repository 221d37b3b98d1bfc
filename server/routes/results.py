"""Results that flow on: upstream outputs for workers, chains, declarations."""

from __future__ import annotations

from aiohttp import web

from jobmon import endpoints
from jobmon import wire_results as wr
from jobmon.server.auth import Access
from jobmon.server.http import path_id
from jobmon.server.routes import API
from jobmon.server.state import state_of
from jobmon.server.store import results


@API.route(endpoints.INPUTS, access=Access.INSTANCES,
           summary="The outputs of the upstream tasks of instances, by task name "
                   "(JOBMON_INPUTS); a worker's credential reads its own instance's only",
           tag="distributor")
async def inputs(request: web.Request, body: wr.InputsRequest) -> wr.InputsResponse:
    async with state_of(request).pool.acquire() as connection:
        return await results.inputs(connection, list(body.task_instance_ids))


@API.route(endpoints.LINK, access=Access.WORKFLOW,
           summary="Name the linker that makes a workflow's follow-on; record the follow-on "
                   "or why it could not be made", tag="chains")
async def set_link(request: web.Request, body: wr.LinkRequest) -> wr.Chain:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await results.set_link(connection, path_id(request, "workflow_id"), body,
                                      state.clock.now())


# Read as a workflow's status and errors are (any token): names, statuses, linker names and
# why a linker failed, as its tasks' errors; no outputs, commands or declarations (owner's).
@API.route(endpoints.CHAIN, access=Access.READ,
           summary="The chain of workflows this one is in, first to last, and its state "
                   "(read as the workflow's status)",
           tag="chains")
async def chain(request: web.Request) -> wr.Chain:
    async with state_of(request).pool.acquire() as connection:
        return await results.chain(connection, path_id(request, "workflow_id"))


@API.route(endpoints.DECLARE, access=Access.WORKFLOW,
           summary="Store a workflow's parameters, result schema and input runs", tag="results")
async def set_declarations(request: web.Request,
                           body: wr.Declarations) -> wr.DeclarationsResponse:
    async with state_of(request).pool.acquire() as connection:
        return await results.set_declarations(connection, path_id(request, "workflow_id"),
                                              body)


@API.route(endpoints.DECLARATIONS, access=Access.WORKFLOW,
           summary="A workflow's parameters, result schema and input runs", tag="results")
async def declarations(request: web.Request) -> wr.DeclarationsResponse:
    async with state_of(request).pool.acquire() as connection:
        return await results.declarations(connection, path_id(request, "workflow_id"))
