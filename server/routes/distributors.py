"""Distributor daemons: one per cluster through a lease, and the instances a new one adopts."""

from __future__ import annotations

from aiohttp import web

from jobmon import endpoints, wire
from jobmon.server.auth import Access
from jobmon.server.http import path_name
from jobmon.server.routes import API
from jobmon.server.state import state_of
from jobmon.server.store import distributors, runs


def _cluster(request: web.Request) -> str:
    return path_name(request, "cluster_name")


@API.route(endpoints.LEASE, access=Access.ADMIN,
           summary="Take or renew the cluster's daemon lease; 409 while another daemon "
                   "holds it", tag="distributor")
async def take_lease(request: web.Request, body: wire.LeaseRequest) -> wire.DistributorStatus:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await distributors.acquire_lease(connection, _cluster(request), body,
                                                state.clock.now())


@API.route(endpoints.RELEASE, access=Access.ADMIN,
           summary="A stopping daemon gives its lease back", tag="distributor")
async def release_lease(request: web.Request, body: wire.LeaseRelease) -> wire.DistributorStatus:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await distributors.release_lease(connection, _cluster(request), body,
                                                state.clock.now())


@API.route(endpoints.DISTRIBUTOR,
           summary="Whether a daemon serves the cluster (clients then start no distributor "
                   "of their own)", tag="distributor")
async def lease_status(request: web.Request) -> wire.DistributorStatus:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await distributors.lease_status(connection, _cluster(request), state.clock.now())


@API.route(endpoints.LIVE_INSTANCES, access=Access.CLAIM,
           summary="Launched instances of the cluster that are not over, for a distributor "
                   "to adopt after a restart", tag="distributor")
async def live_instances(
    request: web.Request, query: wire.LiveInstancesQuery
) -> wire.LiveInstances:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        workflow_id: int | None = None
        if query.workflow_run_id is not None:
            workflow_id = (await runs.run_state(connection, query.workflow_run_id))["workflow_id"]
        return await distributors.live_instances(connection, _cluster(request), workflow_id,
                                                 query)
