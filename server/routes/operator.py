"""Operators' views and actions: workflow lists and overviews, task details, updates, prune."""

from __future__ import annotations

from aiohttp import web

from jobmon import endpoints, wire
from jobmon import wire_operator as wo
from jobmon.server.auth import Access
from jobmon.server.http import path_id
from jobmon.server.routes import API
from jobmon.server.state import state_of, user_of
from jobmon.server.store import archive, operator


@API.route(endpoints.LIST_WORKFLOWS,
           summary="Workflows newest first, by user, status, name or ids, with task counts",
           tag="operator")
async def list_workflows(request: web.Request, query: wire.WorkflowListQuery) -> wire.WorkflowList:
    async with state_of(request).pool.acquire() as connection:
        return await operator.list_workflows(connection, query)


@API.route(endpoints.OVERVIEW,
           summary="Counts by status and by task template, and failed tasks grouped by error",
           tag="operator")
async def overview(request: web.Request) -> wire.WorkflowOverview:
    async with state_of(request).pool.acquire() as connection:
        return await operator.overview(connection, path_id(request, "workflow_id"))


@API.route(endpoints.TEMPLATE_EDGES,
           summary="Edges between the workflow's task templates (arrays), from its task edges",
           tag="operator")
async def template_edges(request: web.Request) -> wire.TemplateEdges:
    async with state_of(request).pool.acquire() as connection:
        return await operator.template_edges(connection, path_id(request, "workflow_id"))


@API.route(endpoints.WORKFLOW_RUNS, summary="Every run of the workflow with its status timeline",
           tag="operator")
async def workflow_runs(request: web.Request) -> wire.WorkflowRuns:
    async with state_of(request).pool.acquire() as connection:
        return await archive.runs(connection, path_id(request, "workflow_id"))


@API.route(endpoints.EXPORT, access=Access.WORKFLOW,
           summary="A page of tasks with their instances and timelines (at most 2000 tasks)",
           tag="operator")
async def export(request: web.Request, query: wire.PageQuery) -> wire.ExportPage:
    async with state_of(request).pool.acquire() as connection:
        return await archive.export_page(connection, path_id(request, "workflow_id"), query)


@API.route(endpoints.UPDATE_TASKS, access=Access.WORKFLOW,
           summary="Mark tasks DONE, or reset them and everything downstream (409 while running)",
           tag="operator")
async def update_tasks(
    request: web.Request, body: wire.TaskUpdateRequest
) -> wire.TaskUpdateResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await operator.update_tasks(connection, path_id(request, "workflow_id"), body,
                                           state.clock.now(), user_of(request))


@API.route(endpoints.TASK, access=Access.TASK,
           summary="A task with every instance, its outcome and status timeline", tag="operator")
async def task_detail(request: web.Request) -> wire.TaskDetail:
    async with state_of(request).pool.acquire() as connection:
        return await operator.task_detail(connection, path_id(request, "task_id"))


@API.route(endpoints.TASK_DEPENDENCIES,
           summary="The task's direct upstream and downstream tasks with their status",
           tag="operator")
async def task_dependencies(request: web.Request) -> wire.TaskDependencies:
    async with state_of(request).pool.acquire() as connection:
        return await operator.dependencies(connection, path_id(request, "task_id"))


@API.route(endpoints.TASK_SUBTREE,
           summary="Tasks and everything downstream of them, with status and name", tag="operator")
async def task_subtree(request: web.Request, query: wo.SubtreeQuery) -> wo.TaskSubtree:
    async with state_of(request).pool.acquire() as connection:
        return await operator.subtree(connection, query)


@API.route(endpoints.PRUNE_CANDIDATES,
           summary="Finished workflows whose status is older than a time", tag="operator")
async def prune_candidates(
    request: web.Request, query: wire.PruneCandidatesQuery
) -> wire.PruneCandidates:
    async with state_of(request).pool.acquire() as connection:
        return await archive.prune_candidates(connection, query)


@API.route(endpoints.PRUNE, access=Access.WORKFLOW,
           summary="Delete one batch of a finished workflow; the last batch deletes it",
           tag="operator")
async def prune(request: web.Request, body: wire.PruneRequest) -> wire.PruneResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await archive.prune_batch(connection, path_id(request, "workflow_id"), body,
                                         state.clock.now(), user_of(request))
