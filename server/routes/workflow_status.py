"""Watching and steering workflows: summaries, task states, outputs, history, limits, clear."""

from __future__ import annotations

from aiohttp import web

from jobmon import endpoints, wire
from jobmon.server.auth import Access
from jobmon.server.http import path_id
from jobmon.server.routes import API
from jobmon.server.state import state_of, user_of
from jobmon.server.store import workflow_status as store


@API.route(endpoints.WORKFLOW_STATUS, summary="Tasks by status, retries, and the latest run",
           tag="status")
async def workflow_summary(request: web.Request) -> wire.WorkflowSummary:
    async with state_of(request).pool.acquire() as connection:
        return await store.summary(connection, path_id(request, "workflow_id"))


@API.route(endpoints.TASK_STATES, access=Access.WORKFLOW,
           summary="A page of tasks with status, attempts, context and latest error", tag="status")
async def task_states(request: web.Request, query: wire.TaskStatesQuery) -> wire.TaskStates:
    async with state_of(request).pool.acquire() as connection:
        return await store.task_states(connection, path_id(request, "workflow_id"), query)


@API.route(endpoints.OUTPUTS, access=Access.WORKFLOW,
           summary="A page of the outputs DONE tasks left in JOBMON_OUTPUT", tag="status")
async def outputs(request: web.Request, query: wire.PageQuery) -> wire.Outputs:
    async with state_of(request).pool.acquire() as connection:
        return await store.outputs(connection, path_id(request, "workflow_id"), query)


@API.route(endpoints.TASK_HISTORY,
           summary="Every status of a task and of its instances, oldest first, with who "
                   "made each change and its context", tag="status")
async def task_history(request: web.Request) -> wire.TaskHistory:
    async with state_of(request).pool.acquire() as connection:
        return await store.history(connection, path_id(request, "task_id"))


@API.route(endpoints.WORKFLOW_HISTORY,
           summary="Every status of the workflow and its runs, and the operator actions on "
                   "it, with who and why; kept after a prune", tag="status")
async def workflow_history(request: web.Request) -> wire.WorkflowHistory:
    async with state_of(request).pool.acquire() as connection:
        return await store.workflow_history(connection, path_id(request, "workflow_id"))


@API.route(endpoints.SET_CONCURRENCY, access=Access.WORKFLOW,
           summary="Change the limit of a (running) workflow", tag="operator")
async def set_concurrency(
    request: web.Request, body: wire.ConcurrencyRequest
) -> wire.ConcurrencyResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await store.set_concurrency(connection, path_id(request, "workflow_id"), body,
                                            state.clock.now(), user_of(request))


@API.route(endpoints.STOP_WORKFLOW, access=Access.WORKFLOW,
           summary="Stop the running workflow and kill its instances", tag="operator")
async def stop(request: web.Request) -> wire.StopResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await store.stop(connection, path_id(request, "workflow_id"), state.clock.now(),
                                 user_of(request))


@API.route(endpoints.CLEAR_WORKFLOW, access=Access.WORKFLOW,
           summary="Delete everything about a finished workflow (409 while it runs)",
           tag="operator")
async def clear(request: web.Request) -> wire.ClearResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await store.clear(connection, path_id(request, "workflow_id"), state.clock.now(),
                                  user_of(request))
