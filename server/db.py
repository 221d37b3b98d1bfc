"""The asyncpg pool and the LISTEN connection that wakes long-polling requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import asyncpg
import msgspec
from anyio.abc import TaskStatus

from jobmon.retry import RetryPolicy

log = logging.getLogger(__name__)

CHANNELS = ("jobmon_task", "jobmon_work")

_X = asyncpg.exceptions
# Database states that pass: a request that met one is answered 503, which clients retry.
# A statement timeout (504) and a full disk (507) are answered on their own, before these.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    _X.PostgresConnectionError,  # 08: the connection broke or could not be made
    _X.ObjectNotInPrerequisiteStateError,  # 55000: ALLOW_CONNECTIONS false; 55P03, 55006
    _X.InsufficientResourcesError,  # 53: too many connections, out of memory
    _X.CannotConnectNowError,  # 57P03: starting up, shutting down, in recovery
    _X.AdminShutdownError,  # 57P01
    _X.CrashShutdownError,  # 57P02
    _X.IdleSessionTimeoutError,  # 57P05: a pooled connection the server closed
    _X.TransactionRollbackError,  # 40: serialization failures and deadlocks
    _X.ReadOnlySQLTransactionError,  # 25006: a failover to a new primary under way
    _X.IdleInTransactionSessionTimeoutError,  # 25P03
    _X.InterfaceError,  # asyncpg: the connection was closed under it
    # a pooled connection whose backend died mid-answer ("another operation is in
    # progress") until asyncpg sees the socket close and drops it: the retry gets another
    _X.InternalClientError,
    ConnectionError,
    OSError,
)


_JSONB_VERSION = b"\x01"  # the binary jsonb format: a version byte, then the JSON text


def _encode_jsonb(value: Any) -> bytes:
    return _JSONB_VERSION + msgspec.json.encode(value)


def _decode_jsonb(data: bytes) -> Any:
    return msgspec.json.decode(data[1:])


# Array types the named queries take. asyncpg looks a type up in the catalog the first
# time a connection meets it, one query each, in the middle of a request; a new pooled
# connection learns them all at once instead.
_ARRAY_TYPES = ("bigint[]", "integer[]", "text[]", "boolean[]", "double precision[]",
                "timestamptz[]", "jsonb[]")
_LEARN_TYPES = "SELECT " + ", ".join(
    f"${n}::{name}" for n, name in enumerate(_ARRAY_TYPES, start=1))


async def _init_connection(connection: asyncpg.Connection) -> None:
    # binary codecs: they also serve COPY, which bulk writes use
    await connection.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog",
        format="binary",
    )
    await connection.set_type_codec(
        "json", encoder=msgspec.json.encode, decoder=msgspec.json.decode, schema="pg_catalog",
        format="binary",
    )


async def _init_pooled(connection: asyncpg.Connection) -> None:
    """A pooled connection: the codecs, and the array types its requests will use."""
    await _init_connection(connection)
    with contextlib.suppress(asyncpg.QueryCanceledError):  # a tiny statement_timeout
        await connection.prepare(_LEARN_TYPES)  # (else each is learned where first used)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skip asyncpg's default reset (a round trip per release) of session state.

    Pooled connections never hold session state: advisory locks are transaction-scoped
    (``pg_advisory_xact_lock``), LISTEN and the reaper's session lock live on their own
    connections, and settings are fixed at connect. asyncpg still rolls back a transaction
    left open before it calls this.
    """


async def create_pool(
    dsn: str, *, min_size: int, max_size: int, statement_timeout: float
) -> asyncpg.Pool:
    """A pool whose connections speak JSON through msgspec and time out long statements."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_pooled,
        reset=_keep_session,
        server_settings={
            "application_name": "jobmon-server",
            "statement_timeout": str(int(statement_timeout * 1000)),
            "idle_in_transaction_session_timeout": "60000",
        },
    )


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection with the pool's JSON codecs."""
    connection = await asyncpg.connect(dsn)
    await _init_connection(connection)
    return connection


class Notifier:
    """One LISTEN connection; wakes waiters subscribed to (channel, payload).

    If the connection drops, every waiter is woken (so it re-reads the database) and the
    listener reconnects with backoff. Waiters always bound their wait, so a lost
    notification costs at most one wait period.
    """

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._waiters: dict[tuple[str, str], set[asyncio.Event]] = defaultdict(set)
        self._retry = RetryPolicy(stop_after_seconds=10**9, max_wait=5.0, first_wait=0.1,
                                  transient=(OSError, asyncpg.PostgresError,
                                             asyncpg.InterfaceError, ConnectionError))

    @contextlib.contextmanager
    def subscribe(self, channel: str, payload: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        key = (channel, payload)
        self._waiters[key].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[key]

    def _on_notification(
        self, connection: object, pid: int, channel: str, payload: str
    ) -> None:
        for event in self._waiters.get((channel, payload), ()):
            event.set()

    def waiting(self) -> dict[str, int]:
        """How many requests wait on each channel now (for /metrics)."""
        counts: dict[str, int] = defaultdict(int)
        for (channel, _), waiters in self._waiters.items():
            counts[channel] += len(waiters)
        return dict(counts)

    def wake_all(self) -> None:
        for waiters in self._waiters.values():
            for event in waiters:
                event.set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        started = False
        async for attempt in self._retry.retrying("LISTEN connection"):
            with attempt:
                async with self._listening() as lost:
                    if not started:
                        started = True
                        task_status.started()
                    self.wake_all()  # whatever was missed while disconnected
                    await lost.wait()
                raise ConnectionError("LISTEN connection lost")

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[asyncio.Event]:
        lost = asyncio.Event()
        connection = await asyncpg.connect(self._dsn)
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            for channel in CHANNELS:
                await connection.add_listener(channel, self._on_notification)
            yield lost
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await connection.close(timeout=2)


async def wait_for(event: asyncio.Event, seconds: float) -> bool:
    """Wait for ``event`` at most ``seconds``; True if it was set."""
    with anyio.move_on_after(seconds):
        await event.wait()
        return True
    return False
