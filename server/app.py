"""The aiohttp application factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from jobmon import wire
from jobmon.server import metrics
from jobmon.server.auth import Access
from jobmon.server.http import AUTH, BODY_TIMEOUT, error_middleware
from jobmon.server.routes import (
    API,
    clusters,
    dashboard,
    distributors,
    health,
    meta,
    operator,
    pictures,
    results,
    self_service,
    task_instances,
    tools,
    usage,
    workflow_runs,
    workflow_status,
    workflows,
)
from jobmon.server.state import STATE, ServerState

# Route modules register on API when imported.
ROUTE_MODULES = (health, meta, tools, workflows, workflow_runs, task_instances, workflow_status,
                 distributors, operator, clusters, usage, self_service, pictures,
                 results)

# The longest request line (aiohttp's default is 8190 bytes). A query value may have
# wire.QUERY_TEXT characters (a list of task ids), and each takes up to 12 bytes once
# UTF-8 encoded and percent-encoded. aiohttp answers a longer line itself, in plain text,
# before any middleware could make it JSON.
MAX_REQUEST_LINE = 12 * wire.QUERY_TEXT + 64 * 1024
LINGER_SECONDS = 2.0


def create_app(state: ServerState) -> web.Application:
    """An app serving the API with ``state``; the caller owns the pool and background loops."""

    @web.middleware
    async def touch(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        state.last_request = state.clock.monotonic()
        return await handler(request)

    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if state.auth.guard is not None:  # a local server: what a web page could forge
            state.auth.guard.check(request)
        return await handler(request)

    @web.middleware
    async def metrics_access(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # /metrics is for any caller who may read (a token in token mode), unless the
        # settings make it public for a scraper on a trusted network
        if request.path == "/metrics" and not state.settings.server.metrics_public:
            await state.auth.authenticate(request, Access.READ)
        return await handler(request)

    app = web.Application(
        middlewares=[touch, metrics.middleware(
                         state.metrics, state.clock.monotonic,
                         lambda: state.metrics.sample_process(state.pool,
                                                              state.notifier.waiting())),
                     error_middleware, guard, metrics_access],
        client_max_size=state.settings.server.max_request_mb * 1024 * 1024,
        handler_args={
            "max_line_size": MAX_REQUEST_LINE,
            # from the moment a connection opens and after each answer: a connection that
            # sends no complete request in time (idle, or trickling its headers) is closed
            "keepalive_timeout": state.settings.server.idle_timeout,
            # the unread rest of a body (a refused or timed-out request) is read this long
            # before the connection is closed
            "lingering_time": LINGER_SECONDS,
        },
    )
    app[BODY_TIMEOUT] = state.settings.server.transfer_timeout
    app[STATE] = state
    app[AUTH] = state.auth
    API.install(app)
    app.router.add_get("/metrics", state.metrics.scrape)
    dashboard.install(app)
    return app
