"""Prometheus metrics: one registry per app, low-cardinality labels only.

Counters are counted where things happen: status changes by the store (through
``jobmon.server.counting.count_transitions``, which finds the metrics of the app serving the
request, or of the reaper, in a context variable), requests by a middleware, reaper passes by
the reaper.
Gauges of the present (live instances by cluster and status, queue depth, the database
pool, long-poll waiters) are read when /metrics is scraped.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from jobmon.server.counting import counting
from jobmon.server.sql import QUERIES as Q

# Request durations: most answers take milliseconds; long polls wait up to a minute.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0, 30.0, 60.0)
# One label value for every path no route matched: raw paths would make a series each.
UNMATCHED = "unmatched"
# `jobmon server --processes N` gives its processes one folder for their metrics
# (prometheus_client's multiprocess mode): any of them answers /metrics for all of them.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The metrics of one server app, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_DIR))
        self.transitions = Counter(
            "jobmon_transitions", "Status changes applied, by object and the status entered",
            ["object", "status"], registry=registry)
        self.requests = Histogram(
            "jobmon_http_request_duration_seconds",
            "HTTP request durations by route pattern, method and status code",
            ["route", "method", "code"], buckets=DURATION_BUCKETS, registry=registry)
        self.reaper_passes = Counter(
            "jobmon_reaper_passes", "Reaper passes made by this server", registry=registry)
        self.reaped = Counter(
            "jobmon_reaped", "Overdue instances and runs the reaper moved, by the status "
            "they entered", ["object", "status"], registry=registry)
        self.claims = Counter(
            "jobmon_claims", "Claim requests from distributors, by cluster", ["cluster"],
            registry=registry)
        self.claimed = Counter(
            "jobmon_claimed_instances", "Task instances distributors claimed, by cluster",
            ["cluster"], registry=registry)
        # read from the database at a scrape: the same whichever process reads them
        self.instances = Gauge(
            "jobmon_task_instances", "Live task instances by cluster and status (at scrape)",
            ["cluster", "status"], registry=registry, multiprocess_mode="mostrecent")
        self.queue_depth = Gauge(
            "jobmon_queue_depth", "Queued task instances no distributor claimed yet, by "
            "cluster", ["cluster"], registry=registry, multiprocess_mode="mostrecent")
        # each process's own: summed over the live processes
        self.pool_size = Gauge(
            "jobmon_db_pool_connections", "Database pool connections: open, idle, and the "
            "most it may open", ["state"], registry=registry, multiprocess_mode="livesum")
        self.waiters = Gauge(
            "jobmon_long_poll_waiters", "Requests waiting for a change (swarm polls on "
            "jobmon_task, distributor claims on jobmon_work)", ["channel"], registry=registry,
            multiprocess_mode="livesum")

    def count(self, kind: str, status: str, number: int = 1) -> None:
        if number:
            self.transitions.labels(kind, status).inc(number)

    async def render(self, pool: asyncpg.Pool, waiters: dict[str, int]) -> bytes:
        """The text exposition, with the gauges of the present read now."""
        async with pool.acquire() as connection:
            rows = await connection.fetch(Q["live_instances_by_cluster"])
        self.instances.clear()
        self.queue_depth.clear()
        for row in rows:
            self.instances.labels(row["cluster_name"], row["status"]).set(row["count"])
            if row["status"] == "Q":
                self.queue_depth.labels(row["cluster_name"]).set(row["count"])
        self.sample_process(pool, waiters)
        if self.multiprocess:
            every_process = CollectorRegistry()
            MultiProcessCollector(every_process)  # type: ignore[no-untyped-call]
            return generate_latest(every_process)
        return generate_latest(self.registry)

    def sample_process(self, pool: asyncpg.Pool, waiters: dict[str, int]) -> None:
        """This process's pool and long-poll waiters, now."""
        self.pool_size.labels("open").set(pool.get_size())
        self.pool_size.labels("idle").set(pool.get_idle_size())
        self.pool_size.labels("max").set(pool.get_max_size())
        for channel in ("jobmon_task", "jobmon_work"):
            self.waiters.labels(channel).set(waiters.get(channel, 0))

    async def scrape(self, request: web.Request) -> web.Response:
        """GET /metrics (the app installs it with its own access check)."""
        from jobmon.server.state import state_of

        state = state_of(request)
        body = await self.render(state.pool, state.notifier.waiting())
        response = web.Response(body=body)
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        response.charset = "utf-8"
        return response


def route_label(request: web.Request) -> str:
    """The route pattern (``/tasks/{task_id}`` under the API prefix), never the raw path."""
    match = request.match_info
    resource = match.route.resource
    if resource is None or getattr(match, "http_exception", None) is not None:  # 404, 405
        return UNMATCHED
    return resource.canonical


def middleware(metrics: Metrics, clock: Callable[[], float],
               sample: Callable[[], None]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Time every request by route and code, and count its status changes for ``metrics``.

    With several server processes, ``sample`` records this process's pool and waiters after
    each request, so that whichever process answers /metrics shows them as of then.
    """

    @web.middleware
    async def measure(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        start = clock()
        code = 500
        try:
            with counting(metrics):
                response = await handler(request)
            code = response.status
            return response
        except web.HTTPException as error:
            code = error.status
            raise
        finally:
            metrics.requests.labels(route_label(request), request.method, str(code)).observe(
                clock() - start)
            if metrics.multiprocess:
                sample()

    return measure
