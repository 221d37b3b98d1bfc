"""Listening sockets that survive running out of file descriptors, and connection timeouts.

asyncio's own accept loop (Python 3.11), on EMFILE, logs a traceback and schedules a
retry for each of up to ``backlog`` accept calls in the same tick, and again every second:
thousands of tracebacks a second while the limit lasts. Here the server stops accepting a
little before its open-file limit (connections wait in the kernel's backlog), leaving
descriptors for its database pool and files, backs off if accept fails for want of
resources anyway, and says so in the log once a minute. A sweeper closes connections whose
answer the client stopped reading. (Idle and slow-sending connections are closed by
aiohttp's keep-alive timeout, which also runs from the moment a connection opens.)
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import resource
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# descriptors kept free for the database pool, the notifier, log files, peer lookups
RESERVED_FILES = 64
ACCEPT_PAUSE = 0.1  # seconds between tries while out of descriptors or connections
ACCEPT_BATCH = 256  # connections taken per wake-up of the listening socket
REPORT_EVERY = 60.0  # seconds between two log lines about the same shortage
SWEEP_EVERY = 1.0


def raise_open_file_limit(wanted: int) -> int:
    """Raise the soft open-file limit towards ``wanted`` (never above the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as error:
            log.warning("could not raise the open-file limit from %d to %d: %s",
                        soft, target, error)
        else:
            soft = target
    if soft != resource.RLIM_INFINITY and soft < 4 * RESERVED_FILES:
        log.warning("the open-file limit is only %d: few clients can connect at once", soft)
    return soft if soft != resource.RLIM_INFINITY else 2**20


@dataclass
class ShortageLog:
    """A shortage in the log at most once a minute, however often it comes and goes."""

    what: str
    every: float = REPORT_EVERY
    _since: float | None = None  # when the current shortage began
    _last: float | None = None  # when the log last said so
    _count: int = 0  # shortages met since then
    _reported: bool = False  # the log said so, and not yet that it is over

    def hit(self, detail: str) -> None:
        now = time.monotonic()
        self._count += 1
        if self._since is None:
            self._since = now
        if self._last is None or now - self._last >= self.every:
            again = f"; {self._count} times in {now - self._last:.0f} s" if self._last else ""
            log.error("%s (%s%s): new connections wait until some close", self.what, detail,
                      again)
            self._last, self._count, self._reported = now, 0, True

    def cleared(self) -> None:
        if self._since is None:
            return
        if self._reported:
            log.warning("%s: over after %.1f s", self.what, time.monotonic() - self._since)
            self._reported = False
        self._since = None


def _bind(host: str, port: int, backlog: int, reuse_port: bool = False) -> list[socket.socket]:
    """Listening sockets for every address of ``host`` (all on one port, even port 0).

    With ``reuse_port``, several processes listen on the same port (SO_REUSEPORT) and the
    kernel spreads new connections over them.
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    skipped: list[OSError] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(
                (info[0], info[1], info[2], info[3], info[4]) for info in infos):
            if sockets and port == 0:
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            try:
                listener = socket.socket(family, kind, proto)
            except OSError as error:  # no IPv6 here, say
                skipped.append(error)
                continue
            sockets.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                listener.bind(address)
            except OSError as error:
                if error.errno not in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    raise OSError(error.errno, f"cannot listen on {host or '*'} port "
                                               f"{port}: {error.strerror}") from None
                sockets.pop().close()  # an address this host does not have (::1 without IPv6)
                skipped.append(error)
                continue
            listener.listen(backlog)
            listener.setblocking(False)
        if not sockets:
            raise skipped[0] if skipped else OSError(f"{host!r} has no address to listen on")
    except OSError:
        for listener in sockets:
            listener.close()
        raise
    return sockets


@dataclass
class _Listening:
    """What aiohttp's runner reads of a started site: its sockets, and how to close it."""

    sockets: list[socket.socket]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for listener in self.sockets:
            listener.close()


class ListenerSite(web.BaseSite):
    """A TCP site with bounded connections, resource-error backoff and a send timeout."""

    __slots__ = (
        "_busy",
        "_files",
        "_host",
        "_max_connections",
        "_port",
        "_reuse_port",
        "_send_timeout",
        "_starting",
    )

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, backlog: int,
                 max_connections: int, send_timeout: float, reuse_port: bool = False) -> None:
        super().__init__(runner, backlog=backlog)
        self._reuse_port = reuse_port
        self._host = host
        self._port = port
        self._max_connections = max_connections
        self._send_timeout = send_timeout
        self._files = ShortageLog("out of file descriptors")
        self._busy = ShortageLog(f"at the limit of {max_connections} open connections")
        self._starting = 0  # accepted, but aiohttp does not list them yet

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        listening = _Listening(_bind(self._host, self._port, self._backlog, self._reuse_port))
        self._server = listening  # type: ignore[assignment]  # what runner.addresses reads
        loop = asyncio.get_running_loop()
        listening.tasks = [loop.create_task(self._accept(listener))
                           for listener in listening.sockets]
        listening.tasks.append(loop.create_task(self._sweep()))

    def _connections(self) -> list[Any]:
        server = self._runner.server
        return server.connections if server is not None else []

    def _full(self) -> bool:
        return len(self._connections()) + self._starting >= self._max_connections

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._full():
                self._busy.hit(f"{len(self._connections()) + self._starting} open")
                await asyncio.sleep(ACCEPT_PAUSE)
                continue
            self._busy.cleared()
            try:
                connection, _ = await loop.sock_accept(listener)
            except OSError as error:
                if error.errno not in RESOURCE_ERRORS:
                    raise
                self._files.hit(f"accept: {error.strerror}")
                await asyncio.sleep(ACCEPT_PAUSE)
                continue
            self._files.cleared()
            self._serve(loop, connection)
            for _ in range(ACCEPT_BATCH):  # the rest of a burst, without a trip to the loop
                if self._full():
                    break
                try:
                    connection, _ = listener.accept()
                except OSError:  # nothing waiting, or out of resources: the loop above says
                    break
                self._serve(loop, connection)

    def _serve(self, loop: asyncio.AbstractEventLoop, connection: socket.socket) -> None:
        connection.setblocking(False)
        server = self._runner.server
        assert server is not None
        task = loop.create_task(loop.connect_accepted_socket(server, connection))
        self._starting += 1

        def started(done: asyncio.Task[Any]) -> None:
            self._starting -= 1
            if done.cancelled() or done.exception() is not None:
                connection.close()

        task.add_done_callback(started)

    async def _sweep(self) -> None:
        """Close connections whose client has read none of a pending answer for too long."""
        stuck: dict[Any, tuple[int, float]] = {}
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            now = time.monotonic()
            seen: dict[Any, tuple[int, float]] = {}
            for handler in self._connections():
                transport = handler.transport
                if transport is None:
                    continue
                with contextlib.suppress(AttributeError, RuntimeError):
                    pending = transport.get_write_buffer_size()
                    if pending == 0:
                        continue
                    size, since = stuck.get(handler, (pending, now))
                    if pending < size:  # the client reads: start over
                        since = now
                    if now - since > self._send_timeout:
                        log.info("closing a connection whose client read nothing of its "
                                 "answer for %.0f s", now - since)
                        transport.abort()
                        continue
                    seen[handler] = (pending, since)
            stuck = seen
