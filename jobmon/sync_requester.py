"""A blocking HTTP client on the standard library, for ``jobmon worker``.

A cluster job starts a fresh interpreter for every task, so what the worker imports is
paid once per task, on the node's CPUs: this client costs a fraction of aiohttp's import.
It speaks to the same routes with the same retry policy, request ids and answers as
``jobmon.requester.Requester``. Each thread gets its own keep-alive connection.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar

from jobmon import answers, wire
from jobmon.answers import TransientHTTPError
from jobmon.endpoints import Endpoint
from jobmon.retry import RetryPolicy
from jobmon.settings import Settings, split_http_url

T = TypeVar("T")

# Connection failures (OSError covers refused, reset and timed out) and broken answers.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    http.client.HTTPException,
    TransientHTTPError,
)
# A kept-alive connection idle this long may have been closed by the server: open anew.
IDLE_SECONDS = 20.0


class SyncRequester:
    """JSON over HTTP to the Jobmon server, blocking: typed answers, errors, retries."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        parts = split_http_url(self.base_url)
        if parts is None or parts.hostname is None:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path
        self._headers = answers.auth_headers(token)
        self._timeout = timeout
        self._retry = retry or RetryPolicy(transient=TRANSIENT_ERRORS)
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SyncRequester:
        return cls(
            settings.http.service_url,
            token=settings.http.token,
            timeout=settings.http.request_timeout,
            retry=answers.retry_policy(settings, TRANSIENT_ERRORS),
        )

    def __enter__(self) -> SyncRequester:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        last_used: float = getattr(self._local, "last_used", 0.0)
        if connection is not None and time.monotonic() - last_used > IDLE_SECONDS:
            connection.close()  # reconnects on the next request
        if connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = kind(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def call(self, endpoint: Endpoint[T], body: object = None, *,
             params: Mapping[str, Any] | None = None, **path: object) -> T:
        """Call one endpoint of ``jobmon.endpoints`` with its path parameters as keywords."""
        endpoint.check_body(body)
        return self.request(endpoint.method, endpoint.path_for(**path), endpoint.response,
                            body=body, params=params)

    def get(self, path: str, response_type: type[T],
            params: Mapping[str, Any] | None = None) -> T:
        return self.request("GET", path, response_type, params=params)

    def post(self, path: str, body: object, response_type: type[T]) -> T:
        return self.request("POST", path, response_type, body=body)

    def request(
        self,
        method: str,
        path: str,
        response_type: type[T],
        *,
        body: object = None,
        params: Mapping[str, Any] | None = None,
    ) -> T:
        """Send one request, retrying transient failures; the request id stays the same."""
        data = None if body is None else wire.encode(body)
        return self.send(method, path, data, response_type, params=params)

    def send(self, method: str, path: str, data: bytes | None, response_type: type[T], *,
             params: Mapping[str, Any] | None = None, request_id: str | None = None) -> T:
        """``request`` with the body already JSON; ``request_id`` is an earlier attempt's
        (the worker's own client's, jobmon.distributor.worker_http), so that the server
        applies the request once."""
        headers = {**self._headers, **answers.request_headers(request_id)}
        query = answers.query_params(params)
        target = self._prefix + path + ("?" + urllib.parse.urlencode(query) if query else "")
        try:
            # The first attempt outside the retry policy: a worker's requests usually succeed,
            # and it then never imports tenacity. A failure becomes the policy's first attempt,
            # so that what follows (log, wait, retry, give up) is the policy's as before.
            try:
                return self._attempt(method, target, data, headers, response_type)
            except TRANSIENT_ERRORS as error:
                first_failure: BaseException = error
            for number, attempt in enumerate(self._retry.retrying_sync(f"{method} {path}")):
                with attempt:
                    if number == 0:
                        raise first_failure
                    return self._attempt(method, target, data, headers, response_type)
        except TRANSIENT_ERRORS as error:
            raise answers.unavailable(self.base_url, method, path, error) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, method: str, target: str, data: bytes | None,
                 headers: dict[str, str], response_type: type[T]) -> T:
        connection = self._connection()
        try:
            connection.request(method, target, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except BaseException:
            connection.close()  # a half-read answer must not be reused
            raise
        finally:
            self._local.last_used = time.monotonic()
        return answers.decode(response.status, payload, response_type)
