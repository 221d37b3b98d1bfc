"""Workflows: bind in chunks, read back in pages, and create runs."""

from __future__ import annotations

import msgspec
from aiohttp import web

from jobmon import endpoints, wire
from jobmon.server.auth import PRINCIPAL, Access
from jobmon.server.http import path_id, request_id
from jobmon.server.routes import API
from jobmon.server.state import state_of, user_of
from jobmon.server.store import bind, runs, workflows


@API.route(endpoints.CREATE_WORKFLOW,
           summary="Find or create a workflow by (tool version, workflow_args)", tag="bind")
async def create_workflow(
    request: web.Request, body: wire.WorkflowRequest
) -> wire.WorkflowResponse:
    state = state_of(request)
    principal = request.get(PRINCIPAL)
    if principal is not None:  # the workflow belongs to who binds it, whatever the body says
        body = msgspec.structs.replace(body, user=principal.name)
    async with state.pool.acquire() as connection:
        return await bind.create_workflow(connection, body, state.clock.now())


@API.route(endpoints.WORKFLOW, summary="A workflow and its latest run", tag="read")
async def get_workflow(request: web.Request) -> wire.WorkflowInfo:
    async with state_of(request).pool.acquire() as connection:
        return await workflows.workflow_info(connection, path_id(request, "workflow_id"))


@API.route(endpoints.UPSERT_ARRAYS, access=Access.WORKFLOW,
           summary="Find or create the workflow's arrays", tag="bind")
async def upsert_arrays(request: web.Request, body: wire.ArraysRequest) -> wire.ArraysResponse:
    async with state_of(request).pool.acquire() as connection:
        return await bind.upsert_arrays(connection, path_id(request, "workflow_id"), body)


@API.route(endpoints.ARRAYS, summary="The workflow's arrays and their limits", tag="read")
async def get_arrays(request: web.Request) -> wire.ArraysInfo:
    async with state_of(request).pool.acquire() as connection:
        return await workflows.arrays(connection, path_id(request, "workflow_id"))


@API.route(endpoints.INSERT_TASKS, access=Access.WORKFLOW,
           summary="Write a chunk of tasks (idempotent); returns their ids in order", tag="bind")
async def insert_tasks(request: web.Request, body: wire.TasksChunk) -> wire.TasksResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await bind.insert_tasks(
            connection, path_id(request, "workflow_id"), body, state.clock.now()
        )


@API.route(endpoints.TASKS, access=Access.WORKFLOW,
           summary="A page of the workflow's tasks in id order", tag="read")
async def get_tasks(request: web.Request, query: wire.PageQuery) -> wire.TaskRows:
    async with state_of(request).pool.acquire() as connection:
        return await workflows.task_page(
            connection, path_id(request, "workflow_id"), query.after_id, query.limit
        )


@API.route(endpoints.INSERT_EDGES, access=Access.WORKFLOW,
           summary="Write a chunk of edges (idempotent)", tag="bind")
async def insert_edges(request: web.Request, body: wire.EdgesChunk) -> wire.EdgesResponse:
    async with state_of(request).pool.acquire() as connection:
        return await bind.insert_edges(connection, path_id(request, "workflow_id"), body)


@API.route(endpoints.EDGES, summary="A page of the workflow's edges, by downstream task id",
           tag="read")
async def get_edges(request: web.Request, query: wire.PageQuery) -> wire.EdgeRows:
    async with state_of(request).pool.acquire() as connection:
        return await workflows.edge_page(
            connection, path_id(request, "workflow_id"), query.after_id, query.limit
        )


@API.route(endpoints.FINISH_BIND, access=Access.WORKFLOW,
           summary="Mark the bind complete once every task is written", tag="bind")
async def finish_bind(request: web.Request, body: wire.BoundRequest) -> wire.BoundResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await bind.finish_bind(
            connection, path_id(request, "workflow_id"), body, state.clock.now(),
            user_of(request),
        )


@API.route(endpoints.CREATE_RUN, access=Access.WORKFLOW,
           summary="Start a run; with resume, take over from earlier runs", tag="run")
async def create_run(request: web.Request, body: wire.RunRequest) -> wire.RunResponse:
    state = state_of(request)
    deadline = state.report_by(state.settings.heartbeat.run_deadline)
    async with state.pool.acquire() as connection:
        return await runs.create_run(
            connection,
            path_id(request, "workflow_id"),
            body,
            request_id(request),
            state.clock.now(),
            deadline,
            user_of(request),
        )


@API.route(endpoints.WORKFLOW_ERRORS,
           summary="The latest failed instance of each task that has one, with its error",
           tag="read")
async def get_task_errors(request: web.Request, query: wire.TaskErrorsQuery) -> wire.TaskErrors:
    async with state_of(request).pool.acquire() as connection:
        return await workflows.task_errors(connection, path_id(request, "workflow_id"), query)


@API.route(endpoints.TASK_ERRORS, summary="The latest failed instance of a task, with its error",
           tag="read")
async def get_errors_of_task(request: web.Request, query: wire.TaskErrorsQuery) -> wire.TaskErrors:
    async with state_of(request).pool.acquire() as connection:
        return await workflows.task_errors(connection, None, query,
                                           task_id=path_id(request, "task_id"))


@API.route(endpoints.ADD_ATTRIBUTES, access=Access.WORKFLOW,
           summary="Add attributes to a workflow, or change their values", tag="bind")
async def add_attributes(request: web.Request,
                         body: wire.AttributesRequest) -> wire.AttributesResponse:
    async with state_of(request).pool.acquire() as connection:
        return await bind.add_workflow_attributes(connection, path_id(request,
                                                                      "workflow_id"), body)
