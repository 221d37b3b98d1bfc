"""The web dashboard: one HTML page and its script and style, shipped in the package."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent.parent / "static"

# The page builds its DOM from API data with text nodes only; the policy is a second
# line of defence should a bug ever let data through as markup.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)


@web.middleware
async def static_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    if request.path.startswith("/static/"):
        response.headers["X-Content-Type-Options"] = "nosniff"
        # revalidate every time: an upgraded server must not serve yesterday's script
        response.headers["Cache-Control"] = "no-cache"
    return response


def install(app: web.Application) -> None:
    """Serve the dashboard at ``/`` and its files under ``/static/``."""
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    app.middlewares.append(static_headers)
