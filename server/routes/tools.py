"""Tools and task templates."""

from __future__ import annotations

from aiohttp import web

from jobmon import endpoints, wire
from jobmon.server.routes import API
from jobmon.server.state import state_of
from jobmon.server.store import bind


@API.route(endpoints.UPSERT_TOOL, summary="Find or create a tool and its current version",
           tag="bind")
async def upsert_tool(request: web.Request, body: wire.ToolRequest) -> wire.ToolResponse:
    async with state_of(request).pool.acquire() as connection:
        return await bind.upsert_tool(connection, body.name)


@API.route(endpoints.UPSERT_TEMPLATES, summary="Find or create task templates and their versions",
           tag="bind")
async def upsert_templates(
    request: web.Request, body: wire.TemplatesRequest
) -> wire.TemplatesResponse:
    async with state_of(request).pool.acquire() as connection:
        return await bind.upsert_templates(connection, body)
