"""Self-service actions on a workflow (Jobmon's workflow_reset and the steps of
workflow_resume): reset, signal a resume, see whether it may start, scale resources."""

from __future__ import annotations

from aiohttp import web

from jobmon import endpoints
from jobmon import wire_operator as wo
from jobmon.server.auth import Access
from jobmon.server.http import path_id
from jobmon.server.routes import API
from jobmon.server.state import state_of, user_of
from jobmon.server.store import self_service


@API.route(endpoints.RESET, access=Access.WORKFLOW,
           summary="Every task back to REGISTERING (DONE ones kept with partial); only "
                   "after a run that ended in ERROR", tag="operator")
async def reset(request: web.Request, body: wo.ResetRequest) -> wo.ResetResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await self_service.reset(connection, path_id(request, "workflow_id"), body,
                                        state.clock.now(), user_of(request))


@API.route(endpoints.RESUME_SIGNAL, access=Access.WORKFLOW,
           summary="Tell the workflow's live runs to stop for a resume (cold: kill their "
                   "instances)", tag="operator")
async def signal_resume(request: web.Request, body: wo.ResumeSignalRequest) -> wo.ResumeState:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await self_service.signal_resume(connection, path_id(request, "workflow_id"),
                                                body, state.clock.now(), user_of(request))


@API.route(endpoints.RESUMABLE, summary="Whether a new run may start: the runs not over yet",
           tag="operator")
async def resume_state(request: web.Request) -> wo.ResumeState:
    async with state_of(request).pool.acquire() as connection:
        return await self_service.resume_state(connection, path_id(request, "workflow_id"))


@API.route(endpoints.INCREASE_RESOURCES, access=Access.WORKFLOW,
           summary="Scale the resources of tasks whose last attempt hit a resource error",
           tag="operator")
async def increase_resources(request: web.Request) -> wo.IncreasedResources:
    async with state_of(request).pool.acquire() as connection:
        return await self_service.increase_resources(connection,
                                                     path_id(request, "workflow_id"))
