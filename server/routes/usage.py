"""Resource usage of task templates and tasks, and where task instances wrote their logs."""

from __future__ import annotations

from aiohttp import web

from jobmon import endpoints
from jobmon import wire_operator as wo
from jobmon.server.http import path_id
from jobmon.server.routes import API
from jobmon.server.state import state_of
from jobmon.server.store import usage


@API.route(endpoints.TEMPLATE_VERSION_USAGE,
           summary="Max RSS and runtime of the template version's finished instances "
                   "(count, min, mean, median, a high percentile, max, confidence interval)",
           tag="usage")
async def template_usage(request: web.Request, query: wo.ResourceUsageQuery) -> wo.ResourceUsage:
    async with state_of(request).pool.acquire() as connection:
        return await usage.template_usage(
            connection, path_id(request, "task_template_version_id"), query)


@API.route(endpoints.WORKFLOW_TEMPLATE_RESOURCES,
           summary="Resource usage of every task template version the workflow uses, each "
                   "over all workflows, with the cores and queue its tasks asked for", tag="usage")
async def workflow_template_usage(
    request: web.Request, query: wo.UsageQuery
) -> wo.TemplateResources:
    async with state_of(request).pool.acquire() as connection:
        return await usage.workflow_template_usage(
            connection, path_id(request, "workflow_id"), query)


@API.route(endpoints.TASK_TEMPLATE_RESOURCES,
           summary="Resource usage of the task's template version over all workflows", tag="usage")
async def task_template_usage(request: web.Request, query: wo.UsageQuery) -> wo.TemplateResources:
    async with state_of(request).pool.acquire() as connection:
        return await usage.task_template_usage(connection, path_id(request, "task_id"), query)


@API.route(endpoints.TASK_USAGE,
           summary="Attempts, node, runtime and max RSS of the task's DONE instance", tag="usage")
async def task_usage(request: web.Request) -> wo.TaskResourceUsage:
    async with state_of(request).pool.acquire() as connection:
        return await usage.task_usage(connection, path_id(request, "task_id"))


@API.route(endpoints.FILE_PATHS,
           summary="Where the workflow's task instances wrote stdout and stderr", tag="usage")
async def file_paths(request: web.Request, query: wo.FilePathsQuery) -> wo.FilePaths:
    async with state_of(request).pool.acquire() as connection:
        return await usage.file_paths(connection, path_id(request, "workflow_id"), query)
