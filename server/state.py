"""What every request handler reaches through the app: pool, notifier, clock, settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import asyncpg
from aiohttp import web

from jobmon.clock import Clock
from jobmon.server.auth import PRINCIPAL, Authenticator
from jobmon.server.db import Notifier
from jobmon.server.heartbeats import HeartbeatBatcher
from jobmon.server.metrics import Metrics
from jobmon.settings import Settings


@dataclass
class ServerState:
    pool: asyncpg.Pool
    notifier: Notifier
    clock: Clock
    settings: Settings
    schema_version: int
    database: str
    heartbeats: HeartbeatBatcher
    auth: Authenticator
    last_request: float = 0.0
    # this app's Prometheus registry (tests run several servers in one process)
    metrics: Metrics = field(default_factory=Metrics)
    # run id -> workflow id, for the swarm's long-polls (a run never changes workflow)
    run_workflows: dict[int, int] = field(default_factory=dict)

    def report_by(self, seconds: float) -> dt.datetime:
        return self.clock.now() + dt.timedelta(seconds=seconds)


STATE = web.AppKey("jobmon_state", ServerState)


def state_of(request: web.Request) -> ServerState:
    return request.app[STATE]


def user_of(request: web.Request) -> str | None:
    """The name of the user who made the request, for the history (None: nobody known)."""
    principal = request.get(PRINCIPAL)
    return principal.name if principal is not None else None
