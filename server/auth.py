"""Who is calling, and may they: API tokens, the local owner, and workflow ownership.

A caller is a ``Principal``: the user of a bearer token (stored only as a SHA-256 hash),
or, on a server in "local" mode, the operating-system user who runs the server, found
from the peer of a Unix socket or a loopback connection (Linux sock_diag, else
/proc/net/tcp) without any token; or the worker of one task instance, whose credential
(signed with the database's server key) lets it report on that instance and nothing else.
Each route declares an ``Access``; owner-only routes resolve the workflow they touch and
admit its owner and admins.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import hashlib
import hmac
import ipaddress
import os
import pwd
import secrets
import socket
import struct
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web

from jobmon import errors
from jobmon.server.guard import BrowserGuard
from jobmon.server.http import ApiError, parse_id
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.clusters import PER_USER_CLUSTERS
from jobmon.server.store.tokens import hash_token

WORKER_PREFIX = "jmw_"
TOKEN_TTL = 30.0  # seconds a token's user is cached
_CACHE_LIMIT = 100_000


class Access(enum.Enum):
    """What a route requires of its caller."""

    PUBLIC = "public"  # anyone (health, the OpenAPI document)
    READ = "read"  # any authenticated caller: status and shape, no commands or outputs
    USER = "user"  # any authenticated caller
    ADMIN = "admin"
    WORKFLOW = "workflow"  # the owner of the workflow in the path, or an admin
    RUN = "run"  # the owner of the workflow of the run in the path, or an admin
    TASK = "task"  # the owner of the workflow of the task in the path, or an admin
    INSTANCES = "instances"  # the owner of every instance named, or an admin
    CLAIM = "claim"  # a run's owner for its run; an admin for a whole cluster
    CLUSTER = "cluster"  # anyone for the per-user local clusters; admins otherwise


@dataclass(frozen=True)
class Principal:
    name: str
    admin: bool
    # a worker's credential: it may report on this one task instance, and do nothing else
    instance_id: int | None = None


# the caller of the request (None only on public routes)
PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("jobmon_principal")


def worker_credential(key: bytes, instance_id: int) -> str:
    """The credential of the worker of one task instance: it reports on that instance only."""
    digest = hmac.new(key, f"instance:{instance_id}".encode(), hashlib.sha256).digest()
    return f"{WORKER_PREFIX}{instance_id}_{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


def worker_principal(key: bytes, token: str) -> Principal | None:
    """The instance a worker credential was made for, or None if it is not one of ours."""
    number, _, _ = token[len(WORKER_PREFIX):].partition("_")
    instance_id = parse_id(number)
    if instance_id is None or not hmac.compare_digest(worker_credential(key, instance_id),
                                                      token):
        return None
    return Principal(f"worker of task instance {instance_id}", admin=False,
                     instance_id=instance_id)


async def server_key(connection: asyncpg.Connection) -> bytes:
    """The key that signs worker credentials: made by the first server on this database."""
    try:
        await connection.execute(Q["insert_server_key"], secrets.token_bytes(32))
    except asyncpg.UndefinedTableError:
        raise errors.ConfigError("the database schema is older than this Jobmon: run "
                                 "`jobmon db upgrade` (or start the server without "
                                 "--no-upgrade)") from None
    key: bytes = await connection.fetchval(Q["server_key"])
    return key


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, errors.CODE_UNAUTHORIZED, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, errors.CODE_FORBIDDEN, message)


TOKEN_HINT = ("set JOBMON__HTTP__TOKEN (an admin makes one with "
              "`jobmon token create --user NAME`)")
NO_TOKEN = f"this server needs an API token: {TOKEN_HINT}"


# sock_diag over netlink (Linux): the kernel looks one TCP socket up by its addresses
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
INET_DIAG_NOCOOKIE = 0xFFFFFFFF
_UID_OFFSET = 4 + 48 + 12  # in inet_diag_msg: family..retrans, sockid, expires..wqueue


def peer_uid_by_sock_diag(peer: tuple[str, int], local: tuple[str, int]) -> int | None:
    """The uid owning the client end (``peer``) of a TCP connection to ``local``, or None.

    Asks the kernel for exactly that socket (inet_diag_req_v2 by its four-tuple), so the
    cost does not grow with the number of sockets on the host, unlike /proc/net/tcp.
    """
    family = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
    try:
        source = socket.inet_pton(family, peer[0]).ljust(16, b"\0")
        destination = socket.inet_pton(family, local[0]).ljust(16, b"\0")
    except OSError:
        return None
    request = (
        struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF)
        + struct.pack("!HH", peer[1], local[1]) + source + destination
        + struct.pack("=III", 0, INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE)
    )
    header = NLMSG_HEADER.pack(NLMSG_HEADER.size + len(request), SOCK_DIAG_BY_FAMILY,
                               NLM_F_REQUEST, 1, 0)
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as link:
            link.settimeout(1.0)
            link.send(header + request)
            answer = link.recv(65536)
    except (OSError, AttributeError):  # no netlink here, or no sock_diag for TCP
        return None
    if len(answer) < NLMSG_HEADER.size + _UID_OFFSET + 4:
        return None  # an NLMSG_ERROR: no such socket
    _, kind, _, _, _ = NLMSG_HEADER.unpack_from(answer)
    if kind != SOCK_DIAG_BY_FAMILY:
        return None
    uid: int = struct.unpack_from("=I", answer, NLMSG_HEADER.size + _UID_OFFSET)[0]
    return uid


@dataclass(frozen=True)
class TcpTable:
    """One reading of /proc/net/tcp{,6}: who owns each connection end (Linux)."""

    # (local port, remote port) of a socket -> its owner's uid
    owners: dict[tuple[int, int], int]
    # inodes of every socket in the reading
    inodes: frozenset[int]

    @classmethod
    def read(cls) -> TcpTable:
        owners: dict[tuple[int, int], int] = {}
        inodes: set[int] = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as handle:
                    next(handle)
                    for line in handle:
                        fields = line.split(maxsplit=10)
                        ports = (int(fields[1].rpartition(":")[2], 16),
                                 int(fields[2].rpartition(":")[2], 16))
                        owners[ports] = int(fields[7])
                        inodes.add(int(fields[9]))
            except (OSError, StopIteration, IndexError, ValueError):
                continue
        return cls(owners, frozenset(inodes))


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def auth_mode(configured: str, host: str) -> str:
    """ "local" or "token": who may call without a token (see [server] auth)."""
    if configured not in ("auto", "local", "token"):
        raise ValueError(f"server.auth = {configured!r}: use auto, local or token")
    if configured != "auto":
        return configured
    return "local" if host in ("localhost", "") or _loopback(host) else "token"


class Authenticator:
    """Finds the principal of each request, with caches for tokens and owners."""

    def __init__(self, pool: asyncpg.Pool, mode: str, guard: BrowserGuard | None = None,
                 key: bytes = b"") -> None:
        self._pool = pool
        self.key = key  # signs worker credentials (empty: none are issued or accepted)
        self.mode = mode  # "local": the server's own user needs no token; "token": all do
        # in local mode: refuses what a web page in the owner's browser could send
        self.guard = guard
        self.owner_uid = os.geteuid()
        self.owner = Principal(pwd.getpwuid(self.owner_uid).pw_name, admin=True)
        # token hash -> (principal, when to look again): a revoked token stops working
        # within TOKEN_TTL seconds
        self._tokens: dict[str, tuple[Principal | None, float]] = {}
        self._owners: dict[tuple[str, int], str | None] = {}
        self._connections: weakref.WeakKeyDictionary[asyncio.BaseTransport, bool] = (
            weakref.WeakKeyDictionary())
        self._tcp = TcpTable({}, frozenset())

    async def principal(self, request: web.Request) -> Principal | None:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise _unauthorized("the Authorization header must be 'Bearer <token>'")
            return await self._token_principal(token.strip())
        if self.mode == "local" and self._peer_is_owner(request):
            return self.owner
        return None

    def _peer_is_owner(self, request: web.Request) -> bool:
        transport = request.transport
        if transport is None:
            return False
        known = self._connections.get(transport)
        if known is None:  # once per connection: keep-alive reuses the answer
            known = self._connections[transport] = self._owner_at_other_end(transport)
        return known

    def _owner_at_other_end(self, transport: asyncio.BaseTransport) -> bool:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family == socket.AF_UNIX:
            credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
            return int.from_bytes(credentials[4:8], "little") == self.owner_uid
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        if sock is None or not peer or not local or not _loopback(str(peer[0])):
            return False
        uid = peer_uid_by_sock_diag((str(peer[0]), peer[1]), (str(local[0]), local[1]))
        if uid is not None:
            return uid == self.owner_uid
        # Without sock_diag, /proc/net/tcp: slow with thousands of connections in TIME_WAIT
        # (its text is made for every read). One reading serves a burst of new connections.
        # It answers for this one only if it already lists our own end (by inode): then the
        # client end it lists with the same ports is this connection's, not an earlier
        # one's that used those ports.
        inode = os.fstat(sock.fileno()).st_ino
        if inode not in self._tcp.inodes:
            self._tcp = TcpTable.read()
        if inode not in self._tcp.inodes:
            return False
        return self._tcp.owners.get((peer[1], local[1])) == self.owner_uid

    async def _token_principal(self, token: str) -> Principal:
        if token.startswith(WORKER_PREFIX) and self.key:
            worker = worker_principal(self.key, token)
            if worker is None:
                raise _unauthorized("the worker credential is not valid")
            return worker
        digest = hash_token(token)
        cached = self._tokens.get(digest)
        if cached is None or cached[1] < time.monotonic():
            async with self._pool.acquire() as connection:
                row = await connection.fetchrow(Q["principal_of_token"], digest)
            cached = (Principal(row[0], row[1]) if row is not None else None,
                      time.monotonic() + TOKEN_TTL)
            self._remember(self._tokens, digest, cached)
        principal = cached[0]
        if principal is None:
            raise _unauthorized("the API token is not valid (unknown or revoked)")
        return principal

    @staticmethod
    def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = value

    async def owners(self, kind: str, ids: Iterable[int]) -> set[str | None]:
        """The owners of the workflows behind these ids (None: the thing does not exist)."""
        wanted = [i for i in set(ids) if (kind, i) not in self._owners]
        if wanted:
            async with self._pool.acquire() as connection:
                rows = await connection.fetch(Q[f"owners_of_{kind}"], wanted)
            found = dict(rows)
            for i in wanted:
                if i in found:  # a missing one is not cached: it may be created later
                    self._remember(self._owners, (kind, i), found[i])
        return {self._owners.get((kind, i)) for i in set(ids)}

    async def authenticate(self, request: web.Request, access: Access) -> Principal | None:
        """The caller; 401 when the route needs one and there is none (before any body)."""
        if access is Access.PUBLIC:
            return None
        principal = await self.principal(request)
        request[PRINCIPAL] = principal
        if principal is None:  # in local mode too: another OS user reads nothing untokened
            if self.mode == "local":
                raise _unauthorized(f"only {self.owner.name!r}, who runs this server, may call "
                                    f"it without an API token: {TOKEN_HINT}")
            raise _unauthorized(NO_TOKEN)
        return principal

    async def authorize(self, request: web.Request, access: Access,
                        principal: Principal | None, body: Any) -> None:
        """403 unless the caller may do this to what the request names."""
        if principal is not None and principal.instance_id is not None:
            self._require_own_instance(request, access, principal.instance_id, body)
            return
        if principal is None or principal.admin or access in (
                Access.PUBLIC, Access.READ, Access.USER):
            return
        if access is Access.CLUSTER:
            if request.match_info.get("cluster_name") in PER_USER_CLUSTERS:
                return
            access = Access.ADMIN
        if access is Access.CLAIM:
            run_id = getattr(body, "workflow_run_id", None)
            if run_id is None:
                run_id = parse_id(request.query.get("workflow_run_id", ""))
            if run_id is None:
                raise forbidden("only an admin can serve a whole cluster")
            await self._require_owner(principal, "run", [run_id])
            return
        if access is Access.ADMIN:
            raise forbidden(f"user {principal.name!r} is not an admin")
        kind, ids = _targets(request, access, body)
        await self._require_owner(principal, kind, ids)

    @staticmethod
    def _require_own_instance(request: web.Request, access: Access, instance_id: int,
                              body: Any) -> None:
        if access is Access.INSTANCES:
            _, ids = _targets(request, access, body)
            if ids and set(ids) == {instance_id}:
                return
        raise forbidden(f"a worker's credential reports on task instance {instance_id} only")

    async def _require_owner(self, principal: Principal, kind: str, ids: list[int]) -> None:
        owners = await self.owners(kind, ids)
        owners.discard(None)  # unknown ids: the route answers 404 itself
        strangers = owners - {principal.name}
        if strangers:
            raise forbidden(
                f"user {principal.name!r} may not change a workflow of "
                f"{', '.join(repr(s) for s in sorted(o or '' for o in strangers))}: only its "
                "owner or an admin may"
            )


def _path_int(request: web.Request, name: str) -> int:
    return parse_id(request.match_info.get(name, "")) or 0


def _targets(request: web.Request, access: Access, body: Any) -> tuple[str, list[int]]:
    if access is Access.WORKFLOW:
        return "workflow", [_path_int(request, "workflow_id")]
    if access is Access.RUN:
        return "run", [_path_int(request, "workflow_run_id")]
    if access is Access.TASK:
        return "task", [_path_int(request, "task_id")]
    if "task_instance_id" in request.match_info:
        return "instance", [_path_int(request, "task_instance_id")]
    if hasattr(body, "updates"):
        return "instance", [update.task_instance_id for update in body.updates]
    return "instance", list(getattr(body, "task_instance_ids", []))
