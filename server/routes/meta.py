"""GET /api/v1/openapi.json."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web

from jobmon.server import openapi
from jobmon.server.auth import Access
from jobmon.server.http import json_response
from jobmon.server.routes import API


@functools.cache
def _document() -> dict[str, Any]:
    return openapi.build(API.routes)


@API.route("GET", "/api/v1/openapi.json", access=Access.PUBLIC, response=dict[str, Any],
           summary="This API's OpenAPI document", tag="meta")
async def openapi_document(request: web.Request) -> web.Response:
    return json_response(_document())
