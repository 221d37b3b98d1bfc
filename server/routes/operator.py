"""Operators' views and actions: workflow lists and overviews, task details, updates, prune."""

from __future__ import annotations

from aiohttp import web

from jobmon import wire
from jobmon import wire_operator as wo
from jobmon.server.auth import Access
from jobmon.server.http import path_id
from jobmon.server.routes import API
from jobmon.server.state import state_of, user_of
from jobmon.server.store import archive, operator

WORKFLOW = "/api/v1/workflows/{workflow_id}"
TASK = "/api/v1/tasks/{task_id}"


@API.route("GET", "/api/v1/workflows", query=wire.WorkflowListQuery, response=wire.WorkflowList,
           summary="Workflows newest first, by user, status, name or ids, with task counts",
           tag="operator")
async def list_workflows(request: web.Request, query: wire.WorkflowListQuery) -> wire.WorkflowList:
    async with state_of(request).pool.acquire() as connection:
        return await operator.list_workflows(connection, query)


@API.route("GET", WORKFLOW + "/overview", response=wire.WorkflowOverview,
           summary="Counts by status and by task template, and failed tasks grouped by error",
           tag="operator")
async def overview(request: web.Request) -> wire.WorkflowOverview:
    async with state_of(request).pool.acquire() as connection:
        return await operator.overview(connection, path_id(request, "workflow_id"))


@API.route("GET", WORKFLOW + "/template_edges", response=wire.TemplateEdges,
           summary="Edges between the workflow's task templates (arrays), from its task edges",
           tag="operator")
async def template_edges(request: web.Request) -> wire.TemplateEdges:
    async with state_of(request).pool.acquire() as connection:
        return await operator.template_edges(connection, path_id(request, "workflow_id"))


@API.route("GET", WORKFLOW + "/runs", response=wire.WorkflowRuns,
           summary="Every run of the workflow with its status timeline", tag="operator")
async def workflow_runs(request: web.Request) -> wire.WorkflowRuns:
    async with state_of(request).pool.acquire() as connection:
        return await archive.runs(connection, path_id(request, "workflow_id"))


@API.route("GET", WORKFLOW + "/export", access=Access.WORKFLOW, query=wire.PageQuery,
           response=wire.ExportPage,
           summary="A page of tasks with their instances and timelines (at most 2000 tasks)",
           tag="operator")
async def export(request: web.Request, query: wire.PageQuery) -> wire.ExportPage:
    async with state_of(request).pool.acquire() as connection:
        return await archive.export_page(connection, path_id(request, "workflow_id"), query)


@API.route("POST", WORKFLOW + "/task_status", access=Access.WORKFLOW,
           request=wire.TaskUpdateRequest,
           response=wire.TaskUpdateResponse,
           summary="Mark tasks DONE, or reset them and everything downstream (409 while running)",
           tag="operator")
async def update_tasks(
    request: web.Request, body: wire.TaskUpdateRequest
) -> wire.TaskUpdateResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await operator.update_tasks(connection, path_id(request, "workflow_id"), body,
                                           state.clock.now(), user_of(request))


@API.route("GET", TASK, access=Access.TASK, response=wire.TaskDetail,
           summary="A task with every instance, its outcome and status timeline", tag="operator")
async def task_detail(request: web.Request) -> wire.TaskDetail:
    async with state_of(request).pool.acquire() as connection:
        return await operator.task_detail(connection, path_id(request, "task_id"))


@API.route("GET", TASK + "/dependencies", response=wire.TaskDependencies,
           summary="The task's direct upstream and downstream tasks with their status",
           tag="operator")
async def task_dependencies(request: web.Request) -> wire.TaskDependencies:
    async with state_of(request).pool.acquire() as connection:
        return await operator.dependencies(connection, path_id(request, "task_id"))


@API.route("GET", "/api/v1/task_subtree", query=wo.SubtreeQuery, response=wo.TaskSubtree,
           summary="Tasks and everything downstream of them, with status and name",
           tag="operator")
async def task_subtree(request: web.Request, query: wo.SubtreeQuery) -> wo.TaskSubtree:
    async with state_of(request).pool.acquire() as connection:
        return await operator.subtree(connection, query)


@API.route("GET", "/api/v1/prune_candidates", query=wire.PruneCandidatesQuery,
           response=wire.PruneCandidates,
           summary="Finished workflows whose status is older than a time", tag="operator")
async def prune_candidates(
    request: web.Request, query: wire.PruneCandidatesQuery
) -> wire.PruneCandidates:
    async with state_of(request).pool.acquire() as connection:
        return await archive.prune_candidates(connection, query)


@API.route("POST", WORKFLOW + "/prune", access=Access.WORKFLOW,
           request=wire.PruneRequest, response=wire.PruneResponse,
           summary="Delete one batch of a finished workflow; the last batch deletes it",
           tag="operator")
async def prune(request: web.Request, body: wire.PruneRequest) -> wire.PruneResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await archive.prune_batch(connection, path_id(request, "workflow_id"), body,
                                         state.clock.now(), user_of(request))
