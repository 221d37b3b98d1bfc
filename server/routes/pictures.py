"""The dashboard's pictures (resources, a run's timeline), the status vocabulary, and the live
limits of a workflow's task templates."""

from __future__ import annotations

from aiohttp import web

from jobmon import endpoints
from jobmon import wire_pictures as wp
from jobmon.server.auth import Access
from jobmon.server.http import json_response, path_id
from jobmon.server.routes import API
from jobmon.server.state import state_of, user_of
from jobmon.server.store import pictures
from jobmon.status import vocabulary


@API.route(endpoints.STATUSES, access=Access.PUBLIC,
           summary="Every status letter of every state machine with its name, label and "
                   "colour: the CLI's and the dashboard's one vocabulary", tag="meta")
async def statuses(request: web.Request) -> web.Response:
    return json_response(vocabulary())


@API.route(endpoints.RESOURCE_PICTURE,
           summary="Per task template: max RSS and runtime of each finished instance against "
                   "its request, instances killed for memory or time or using under a fifth, "
                   "and the suggested request", tag="usage")
async def resource_picture(
    request: web.Request, query: wp.ResourcePictureQuery
) -> wp.ResourcePicture:
    async with state_of(request).pool.acquire() as connection:
        return await pictures.resource_picture(connection, path_id(request, "workflow_id"),
                                               query)


@API.route(endpoints.TIMELINE,
           summary="A run's instances as bars from RUNNING to their end, or above max_bars "
                   "the number running per template over time", tag="status")
async def timeline(request: web.Request, query: wp.TimelineQuery) -> wp.Timeline:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await pictures.timeline(connection, path_id(request, "workflow_id"), query,
                                       state.clock.now())


@API.route(endpoints.SET_TEMPLATE_CONCURRENCY, access=Access.WORKFLOW,
           summary="Change the limit of one task template (array) of a (running) workflow",
           tag="operator")
async def set_template_concurrency(
    request: web.Request, body: wp.TemplateConcurrencyRequest
) -> wp.TemplateConcurrencyResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await pictures.set_template_concurrency(
            connection, path_id(request, "workflow_id"), body, state.clock.now(),
            user_of(request))
