"""Typed routes: each declares its request and response schema, which feed the OpenAPI document.

A handler receives the decoded request Struct and returns a response Struct. Errors are
always ``{"error": {"code", "message"}}``: an ``ApiError`` raised by a handler, a refusal of
the store (``jobmon.server.store.errors``, mapped to 404, 409 or 400 here), a malformed
body, or anything unexpected (logged with its traceback, never sent to the caller).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import msgspec
from aiohttp import web

from jobmon import errors, wire
from jobmon.endpoints import Endpoint
from jobmon.server.db import TRANSIENT_ERRORS
from jobmon.server.store.errors import Conflict, Invalid, NotFound, StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")
Handler = Callable[..., Awaitable[Any]]


AUTH: web.AppKey[Any] = web.AppKey("jobmon_auth", object)
# seconds a request body may take to arrive
BODY_TIMEOUT: web.AppKey[float] = web.AppKey("jobmon_body_timeout", float)


class ApiError(Exception):
    """An error answer: HTTP status, a stable code, and a message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> ApiError:
    return ApiError(400, errors.CODE_INVALID, message)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    request: type[Any] | None
    response: type[Any]
    query: type[Any] | None
    tag: str
    access: Any  # jobmon.server.auth.Access


class Api:
    """Collects routes with their schemas; ``install`` adds them to an aiohttp app."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(
        self,
        endpoint: Endpoint[Any],
        *,
        summary: str,
        tag: str = "",
        access: Any = None,
    ) -> Callable[[Handler], Handler]:
        """Serve an endpoint of ``jobmon.endpoints``; ``access`` defaults to READ for GET and
        USER otherwise."""
        from jobmon.server.auth import Access

        if access is None:
            access = Access.READ if endpoint.method == "GET" else Access.USER

        def decorate(handler: Handler) -> Handler:
            self.routes.append(Route(
                endpoint.method, endpoint.path, handler, summary, endpoint.request,
                endpoint.response, endpoint.query, tag, access,
            ))
            return handler

        return decorate

    def install(self, app: web.Application) -> None:
        for route in self.routes:
            app.router.add_route(route.method, route.path, _wrap(route))


def _wrap(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        request_id(request)  # a malformed one is a 400 on every route, as documented
        auth = request.app[AUTH]
        principal = await auth.authenticate(request, route.access)
        args: list[Any] = []
        if route.request is not None:
            args.append(await decode_body(request, route.request))
        await auth.authorize(request, route.access, principal, args[0] if args else None)
        if route.query is not None:
            args.append(decode_query(request, route.query))
        result = await route.handler(request, *args)
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result)

    endpoint.__name__ = route.handler.__name__
    return endpoint


def json_response(value: object, status: int = 200) -> web.Response:
    return web.Response(body=wire.encode(value), status=status, content_type="application/json")


def error_response(status: int, code: str, message: str) -> web.Response:
    body = wire.ErrorResponse(error=wire.ErrorBody(code=code, message=message))
    return json_response(body, status=status)


# A JSON \u0000 escape: one preceded by an even number of backslashes (an odd number
# means the backslash itself was escaped and the text is a literal "\u0000").
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
NUL_MESSAGE = "PostgreSQL cannot store the NUL character (\\u0000) in text"


async def decode_body(request: web.Request, schema: type[T]) -> T:
    limit = request.app.get(BODY_TIMEOUT)
    try:
        async with asyncio.timeout(limit):
            raw = await request.read()
    except TimeoutError:
        raise ApiError(408, errors.CODE_INVALID,
                       f"the request body did not arrive within {limit:.0f} s") from None
    if not raw:
        raise invalid("the request needs a JSON body")
    try:
        value = msgspec.json.decode(raw, type=schema)
    except msgspec.ValidationError as error:
        raise invalid(f"invalid request body: {error}") from None
    except msgspec.DecodeError as error:
        raise invalid(f"the request body is not valid JSON: {error}") from None
    # JSON strings cannot hold a raw NUL byte, so an escape is the only way one gets in
    if b"\\u0000" in raw and _NUL_ESCAPE.search(raw):
        raise invalid(f"invalid request body: {NUL_MESSAGE}")
    return value


def decode_query(request: web.Request, schema: type[T]) -> T:
    for name, text in request.query.items():
        if "\0" in name or "\0" in text:
            raise invalid(f"invalid query parameter {name!r}: {NUL_MESSAGE}")
    try:
        return msgspec.convert(dict(request.query), schema, strict=False)
    except msgspec.ValidationError as error:
        raise invalid(f"invalid query parameter: {error}") from None


def parse_id(text: str) -> int | None:
    """A positive bigint written in ASCII digits, else None."""
    # "²".isdigit() is True, but int("²") raises: digits must be ASCII
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        return None
    return int(text)


REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_PATTERN = "^[!-~]{1,128}$"
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)


def request_id(request: web.Request) -> str | None:
    """The caller's id of this request, which its retries repeat; None if it sent none."""
    text = request.headers.get(REQUEST_ID_HEADER)
    if text is None:
        return None
    if not _REQUEST_ID.match(text):
        raise invalid(f"{REQUEST_ID_HEADER} must be 1 to 128 visible ASCII characters, "
                      f"not {text[:50]!r}")
    return text


def path_id(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    number = parse_id(text)
    if number is None:
        raise invalid(f"{name} must be a positive integer, not {text!r}")
    return number


def path_name(request: web.Request, name: str) -> str:
    """A name from the path (a cluster, a queue): 1 to 255 characters."""
    text = request.match_info[name]
    if not text or len(text) > 255:
        raise invalid(f"{name} must have 1 to 255 characters, not {text[:50]!r}")
    if "\0" in text:
        raise invalid(f"{name} {text[:50]!r}: {NUL_MESSAGE}")
    return text


_STORE_STATUS: tuple[tuple[type[StoreError], int], ...] = (
    (NotFound, 404), (Conflict, 409), (Invalid, 400))


def store_status(error: StoreError) -> int:
    """The HTTP status that answers a refusal of the store (400 for any other kind)."""
    return next((status for kind, status in _STORE_STATUS if isinstance(error, kind)), 400)


_HTTP_CODES = {
    400: errors.CODE_INVALID,
    401: errors.CODE_UNAUTHORIZED,
    403: errors.CODE_FORBIDDEN,
    404: errors.CODE_NOT_FOUND,
    405: errors.CODE_INVALID,
    409: errors.CODE_CONFLICT,
    413: errors.CODE_TOO_LARGE,
}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error.status, error.code, error.message)
    except StoreError as error:
        return error_response(store_status(error), error.code, error.message)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = _HTTP_CODES.get(error.status, errors.CODE_INVALID)
        message = error.text or error.reason
        if error.status == 413:
            message = f"the request body is larger than the server's limit ({error.reason})"
        elif error.status == 404:
            message = f"no such endpoint: {request.method} {request.path}"
        elif error.status == 405:
            message = f"{request.method} is not allowed on {request.path}"
        return error_response(error.status, code, message)
    except asyncpg.exceptions.QueryCanceledError:
        log.warning("statement timeout in %s %s", request.method, request.path)
        return error_response(
            504, errors.CODE_UNAVAILABLE, "a database statement timed out; try again"
        )
    except (asyncpg.exceptions.DeadlockDetectedError,
            asyncpg.exceptions.SerializationError) as error:
        log.warning("%s in %s %s: the client retries", type(error).__name__, request.method,
                    request.path)
        return error_response(503, errors.CODE_UNAVAILABLE,
                              "a concurrent write got in the way; try again")
    except asyncpg.exceptions.DiskFullError:
        log.error("database disk full in %s %s", request.method, request.path)
        return error_response(
            507, errors.CODE_UNAVAILABLE, "the database's disk is full: nothing was written"
        )
    except TRANSIENT_ERRORS as error:
        log.warning("database unavailable in %s %s: %s", request.method, request.path, error)
        return error_response(503, errors.CODE_UNAVAILABLE, "the database is not reachable")
    except Exception:
        request_id = request.headers.get("X-Request-Id", "-")
        log.exception("unhandled error in %s %s (request %s)", request.method, request.path,
                      request_id)
        return error_response(
            500,
            errors.CODE_INTERNAL,
            f"internal error (request {request_id}); the server log has the details",
        )
