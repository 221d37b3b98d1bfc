"""The OpenAPI document (`endpoints.OPENAPI`)."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web

from jobmon import endpoints
from jobmon.server import openapi
from jobmon.server.auth import Access
from jobmon.server.http import json_response
from jobmon.server.routes import API


@functools.cache
def _document() -> dict[str, Any]:
    return openapi.build(API.routes)


@API.route(endpoints.OPENAPI, access=Access.PUBLIC, summary="This API's OpenAPI document",
           tag="meta")
async def openapi_document(request: web.Request) -> web.Response:
    return json_response(_document())
