"""GET /health: the server is up and its database answers (open to anyone: no details)."""

from __future__ import annotations

from aiohttp import web

import jobmon
from jobmon import endpoints, wire
from jobmon.server.auth import Access
from jobmon.server.routes import API
from jobmon.server.state import state_of


@API.route(endpoints.HEALTH, access=Access.PUBLIC, summary="Liveness and database check",
           tag="meta")
async def health(request: web.Request) -> wire.HealthResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        await connection.fetchval("SELECT 1")
    return wire.HealthResponse(
        status="ok",
        version=jobmon.__version__,
        # "ok": it answered. Never its URL: /health answers anyone, and the URL names
        # the database's host, port, user and name (the server's log has it)
        database="ok",
        schema_version=state.schema_version,
    )
