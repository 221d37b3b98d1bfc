"""What both HTTP clients share: the request headers and how answers are read."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from jobmon import wire
from jobmon.errors import CODE_INTERNAL, ServerError, ServerUnavailable
from jobmon.errors import server_error as error_for
from jobmon.retry import RetryPolicy
from jobmon.settings import Settings

T = TypeVar("T")

# Status codes a server (or a proxy in front of it) uses for "try again soon".
TRANSIENT_STATUSES = frozenset({502, 503, 504})


class TransientHTTPError(Exception):
    """A 502, 503 or 504 answer: the server or its database is restarting."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


def request_headers(request_id: str | None = None) -> dict[str, str]:
    """One request's headers; its id (``request_id``: an earlier attempt's) stays the same
    through retries, so the server dedups."""
    return {"X-Request-Id": request_id or uuid.uuid4().hex, "Content-Type": "application/json"}


def retry_policy(settings: Settings, transient: tuple[type[BaseException], ...]) -> RetryPolicy:
    """The configured retry policy of an HTTP client whose failures are ``transient``."""
    return RetryPolicy(stop_after_seconds=settings.http.retry_seconds,
                       max_wait=settings.http.retry_max_wait, transient=transient)


def query_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters as strings; a None value is left out."""
    return {k: str(v) for k, v in (params or {}).items() if v is not None}


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def server_error(status: int, payload: bytes) -> ServerError:
    try:
        body = msgspec.json.decode(payload, type=wire.ErrorResponse)
        return error_for(status, body.error.code, body.error.message)
    except msgspec.DecodeError:
        text = payload[:200].decode(errors="replace")
        return error_for(status, CODE_INTERNAL, f"HTTP {status}: {text}")


def decode(status: int, payload: bytes, response_type: type[T]) -> T:
    """The typed answer; a 5xx for a transient status, an error answer as ServerError."""
    if status in TRANSIENT_STATUSES:
        raise TransientHTTPError(status, payload)
    if status >= 400:
        raise server_error(status, payload)
    try:
        return msgspec.json.decode(payload, type=response_type)
    except msgspec.DecodeError as error:
        raise ServerError(
            status, CODE_INTERNAL, f"unexpected answer from server: {error}"
        ) from None


def unavailable(base_url: str, method: str, path: str, error: BaseException) -> ServerUnavailable:
    """The error for a request that failed transiently until the retries ran out."""
    detail = server_error(error.status, error.body) \
        if isinstance(error, TransientHTTPError) else error
    return ServerUnavailable(
        f"the Jobmon server at {base_url} did not answer {method} {path} "
        f"after retrying: {detail}"
    )
