"""The HTTP client of the client, the distributor and the CLI (asyncio), with the one retry
policy. ``jobmon worker`` on a cluster node uses the blocking one in ``sync_requester``."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Protocol, TypeVar

import aiohttp
import anyio
import yarl

from jobmon import answers, wire
from jobmon.answers import TransientHTTPError
from jobmon.endpoints import Endpoint
from jobmon.retry import RetryPolicy
from jobmon.settings import Settings

T = TypeVar("T")


class Page(Protocol):
    """An answer that comes in pages: the next one starts after this id (None: the last)."""

    @property
    def next_after_id(self) -> int | None: ...


P = TypeVar("P", bound=Page)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    asyncio.TimeoutError,
    TransientHTTPError,
)
# A server that refuses connections is asked about again at most this often.
RECOVER_EVERY = 1.0

# Given the URL that refused a connection, the URL to use from now on (None: the same).
Recover = Callable[[str], Awaitable[str | None]]


class Requester:
    """JSON over HTTP to the Jobmon server: typed answers, errors as exceptions, retries."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        recover: Recover | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._retry = retry or RetryPolicy(transient=TRANSIENT_ERRORS)
        self._session: aiohttp.ClientSession | None = None
        # called when the server refuses connections (a local server this client started
        # may have died: it is started again), between retries
        self.recover = recover
        self._recovering = anyio.Lock()
        self._recovered_at = -RECOVER_EVERY

    async def _recover(self, refused_url: str) -> None:
        """Let ``recover`` bring the server back (once for concurrent failures)."""
        if self.recover is None:
            return
        async with self._recovering:
            if self.base_url != refused_url or \
                    time.monotonic() - self._recovered_at < RECOVER_EVERY:
                return  # another request just did
            url = await self.recover(refused_url)
            self._recovered_at = time.monotonic()
            if url:
                self.base_url = url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str | None = None) -> Requester:
        return cls(
            base_url or settings.http.service_url,
            token=settings.http.token,
            timeout=settings.http.request_timeout,
            retry=answers.retry_policy(settings, TRANSIENT_ERRORS),
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
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers=answers.auth_headers(self._token),
                connector=aiohttp.TCPConnector(limit=64),
            )
        return self._session

    async def call(
        self,
        endpoint: Endpoint[T],
        body: object = None,
        *,
        params: Mapping[str, Any] | None = None,
        extra_timeout: float = 0.0,
        **path: object,
    ) -> T:
        """Call one endpoint of ``jobmon.endpoints`` with its path parameters as keywords."""
        endpoint.check_body(body)
        return await self.request(endpoint.method, endpoint.path_for(**path), endpoint.response,
                                  body=body, params=params, extra_timeout=extra_timeout,
                                  quoted=True)

    async def pages(
        self,
        endpoint: Endpoint[P],
        params: Mapping[str, Any] | None = None,
        **path: object,
    ) -> AsyncGenerator[P, None]:
        """Every page of a paged GET, first to last: each asks for the ids after the
        previous page's ``next_after_id``, until a page has none."""
        target = endpoint.path_for(**path)
        after_id = 0
        while True:
            page = await self.request(endpoint.method, target, endpoint.response,
                                      params={**(params or {}), "after_id": after_id},
                                      quoted=True)
            yield page
            if page.next_after_id is None:
                return
            after_id = page.next_after_id

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
        quoted: bool = False,
    ) -> T:
        """Send one request, retrying transient failures; the request id stays the same.

        ``quoted``: the path is quoted already (``Endpoint.path_for``) and goes as it is;
        otherwise it is quoted here and its dot segments are resolved.
        """
        data = None if body is None else wire.encode(body)
        headers = answers.request_headers()
        query = answers.query_params(params)
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
                    base_url = self.base_url
                    try:
                        url = base_url + path
                        async with session.request(
                            method, yarl.URL(url, encoded=True) if quoted else url, data=sent,
                            params=query, headers=headers, timeout=timeout,
                        ) as response:
                            payload = await response.read()
                            return answers.decode(response.status, payload, response_type)
                    except aiohttp.ClientConnectorError:
                        await self._recover(base_url)
                        raise
        except TRANSIENT_ERRORS as error:
            raise answers.unavailable(self.base_url, method, path, error) from error
        raise AssertionError("unreachable")  # pragma: no cover

