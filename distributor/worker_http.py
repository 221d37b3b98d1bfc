"""The worker's HTTP: JSON over one kept-alive connection, on the standard library's socket.

Every cluster job starts `jobmon worker` in a fresh interpreter, so what it imports is paid
once per task on the node's CPUs. http.client (with email and ssl), msgspec and the wire
types cost ~50 ms of CPU there, more than the rest of a worker's run; the four requests a
worker makes when all goes well (read the instance, report RUNNING, heartbeats, report the
end) need none of them: a request line, four headers, a JSON body, and a JSON answer of a
known length.

Anything else goes to jobmon.sync_requester's client, the one every blocking client uses,
with the same request id (the server applies a request once however often it is sent): a
connection that fails, an answer this client does not read (not 200, no Content-Length),
an error. It retries transient failures by the configured policy and raises Jobmon's
errors with their messages, and only a worker that meets one pays for its imports.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from jobmon.sync_requester import SyncRequester

# A kept-alive connection idle this long may have been closed by the server: open anew
# (as jobmon.sync_requester does).
IDLE_SECONDS = 20.0
MAX_HEADER_LINES = 100


class NotUnderstood(Exception):
    """An answer this client does not read itself (the full client sends the request)."""


class WorkerHttp:
    """Blocking JSON requests to the server, by path; answers are plain JSON values."""

    def __init__(self, service_url: str, token: str, timeout: float,
                 full_client: Callable[[], SyncRequester]) -> None:
        parts = urllib.parse.urlsplit(service_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {service_url!r}")
        self._https = parts.scheme == "https"
        self._address = (parts.hostname, parts.port or (443 if self._https else 80))
        self._host_header = parts.netloc.rpartition("@")[2]
        self._prefix = parts.path
        self._authorization = f"Authorization: Bearer {token}\r\n" if token else ""
        self._timeout = timeout
        self._full_client = full_client
        self._full: SyncRequester | None = None
        self._socket: socket.socket | None = None
        self._reader: Any = None
        self._last_used = 0.0

    def __enter__(self) -> WorkerHttp:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._disconnect()
        if self._full is not None:
            self._full.close()

    def call(self, method: str, path: str, body: object = None) -> Any:
        """Send one request; its answer as JSON values (Jobmon's errors, as any client)."""
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        request_id = os.urandom(16).hex()
        if self._full is None:
            try:
                return self._attempt(method, path, data, request_id)
            except (OSError, NotUnderstood, ValueError):
                self._disconnect()  # a half-read answer must not be reused
        if self._full is None:
            self._full = self._full_client()
        from typing import Any as AnyAnswer

        return self._full.send(method, path, data, AnyAnswer, request_id=request_id)

    def _attempt(self, method: str, path: str, data: bytes | None, request_id: str) -> Any:
        if self._socket is not None and time.monotonic() - self._last_used > IDLE_SECONDS:
            self._disconnect()
        if self._socket is None:
            self._connect()
        assert self._socket is not None
        body = data or b""
        head = (f"{method} {self._prefix}{path} HTTP/1.1\r\nHost: {self._host_header}\r\n"
                f"{self._authorization}X-Request-Id: {request_id}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        try:
            self._socket.sendall(head.encode() + body)
            status, length, keep = self._read_head()
            payload = self._reader.read(length)
        finally:
            self._last_used = time.monotonic()
        if len(payload) != length:
            raise NotUnderstood("the connection closed in the middle of the answer")
        if not keep:
            self._disconnect()
        if status != 200:
            raise NotUnderstood(f"HTTP {status}")
        return json.loads(payload)

    def _read_head(self) -> tuple[int, int, bool]:
        """The status, the body's length, and whether the connection stays open."""
        status_line = self._reader.readline(65537)
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise NotUnderstood(f"not an HTTP answer: {status_line[:80]!r}")
        length: int | None = None
        keep = parts[0] == b"HTTP/1.1"
        for _ in range(MAX_HEADER_LINES):
            line = self._reader.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding":
                raise NotUnderstood("a chunked answer")
            elif name == b"connection":
                keep = value.strip().lower() == b"keep-alive"
        else:
            raise NotUnderstood("too many header lines")
        if length is None:
            raise NotUnderstood("an answer without Content-Length")
        return int(parts[1]), length, keep

    def _connect(self) -> None:
        sock = socket.create_connection(self._address, timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._https:
            import ssl  # (only a server behind TLS costs a worker this import)

            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self._address[0])
        self._socket = sock
        self._reader = sock.makefile("rb")

    def _disconnect(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
