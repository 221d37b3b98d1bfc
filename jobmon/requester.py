"""The one HTTP client every part uses, with the one retry policy."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
import msgspec
import tenacity

from jobmon import wire
from jobmon.errors import CODE_INTERNAL, ServerError, ServerUnavailable
from jobmon.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# Status codes a server (or a proxy in front of it) uses for "try again soon".
TRANSIENT_STATUSES = frozenset({502, 503, 504})


class TransientHTTPError(Exception):
    """A 502, 503 or 504 answer: the server or its database is restarting."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    asyncio.TimeoutError,
    TransientHTTPError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how fast to retry a transient failure."""

    stop_after_seconds: float = 600.0
    max_wait: float = 10.0
    first_wait: float = 0.05
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS

    def retrying(self, what: str) -> tenacity.AsyncRetrying:
        def log_retry(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s failed (%s: %s); retry %d in %.2fs",
                what,
                type(error).__name__,
                error,
                state.attempt_number,
                state.next_action.sleep if state.next_action else 0.0,
            )

        return tenacity.AsyncRetrying(
            stop=tenacity.stop_after_delay(self.stop_after_seconds),
            wait=tenacity.wait_exponential(multiplier=self.first_wait, max=self.max_wait)
            + tenacity.wait_random(0, self.first_wait),
            retry=tenacity.retry_if_exception_type(self.transient),
            before_sleep=log_retry,
            reraise=True,
        )


class Requester:
    """JSON over HTTP to the Jobmon server: typed answers, errors as exceptions, retries."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._retry = retry or RetryPolicy()
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str | None = None) -> Requester:
        return cls(
            base_url or settings.http.service_url,
            token=settings.http.token,
            timeout=settings.http.request_timeout,
            retry=RetryPolicy(
                stop_after_seconds=settings.http.retry_seconds,
                max_wait=settings.http.retry_max_wait,
            ),
        )

    async def __aenter__(self) -> Requester:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers=headers,
                connector=aiohttp.TCPConnector(limit=64),
            )
        return self._session

    async def get(
        self,
        path: str,
        response_type: type[T],
        params: Mapping[str, Any] | None = None,
        *,
        extra_timeout: float = 0.0,
    ) -> T:
        return await self.request("GET", path, response_type, params=params,
                                  extra_timeout=extra_timeout)

    async def post(
        self,
        path: str,
        body: object,
        response_type: type[T],
        *,
        extra_timeout: float = 0.0,
    ) -> T:
        return await self.request("POST", path, response_type, body=body,
                                  extra_timeout=extra_timeout)

    async def delete(self, path: str, response_type: type[T]) -> T:
        return await self.request("DELETE", path, response_type)

    async def request(
        self,
        method: str,
        path: str,
        response_type: type[T],
        *,
        body: object = None,
        params: Mapping[str, Any] | None = None,
        extra_timeout: float = 0.0,
    ) -> T:
        """Send one request, retrying transient failures; the request id stays the same."""
        data = None if body is None else wire.encode(body)
        headers = {"X-Request-Id": uuid.uuid4().hex, "Content-Type": "application/json"}
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        url = self.base_url + path
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=self._timeout.sock_connect,
            sock_read=(self._timeout.sock_read or 30.0) + extra_timeout,
        )
        try:
            async for attempt in self._retry.retrying(f"{method} {path}"):
                with attempt:
                    session = self._get_session()
                    # a large body goes as a stream (a fresh one for each attempt), so that
                    # aiohttp writes it without blocking the event loop
                    sent = io.BytesIO(data) if data is not None and len(data) > 65536 else data
                    async with session.request(
                        method, url, data=sent, params=query, headers=headers, timeout=timeout
                    ) as response:
                        payload = await response.read()
                        if response.status in TRANSIENT_STATUSES:
                            raise TransientHTTPError(response.status, payload)
                        return _decode(response.status, payload, response_type)
        except TRANSIENT_ERRORS as error:
            detail: BaseException = error
            if isinstance(error, TransientHTTPError):
                detail = _server_error(error.status, error.body)
            raise ServerUnavailable(
                f"the Jobmon server at {self.base_url} did not answer {method} {path} "
                f"after retrying: {detail}"
            ) from error
        raise AssertionError("unreachable")  # pragma: no cover


def _server_error(status: int, payload: bytes) -> ServerError:
    try:
        body = msgspec.json.decode(payload, type=wire.ErrorResponse)
        return ServerError(status, body.error.code, body.error.message)
    except msgspec.DecodeError:
        text = payload[:200].decode(errors="replace")
        return ServerError(status, CODE_INTERNAL, f"HTTP {status}: {text}")


def _decode(status: int, payload: bytes, response_type: type[T]) -> T:
    if status >= 400:
        raise _server_error(status, payload)
    try:
        return msgspec.json.decode(payload, type=response_type)
    except msgspec.DecodeError as error:
        raise ServerError(
            status, CODE_INTERNAL, f"unexpected answer from server: {error}"
        ) from None
