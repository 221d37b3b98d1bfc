"""Cluster queues: a distributor reports them, a swarm reads them to scale resources."""

from __future__ import annotations

from aiohttp import web

from jobmon import endpoints, wire
from jobmon.server.auth import PRINCIPAL, Access, Principal
from jobmon.server.http import path_name
from jobmon.server.routes import API
from jobmon.server.state import state_of
from jobmon.server.store import clusters
from jobmon.server.store.clusters import PER_USER_CLUSTERS


def _owner(request: web.Request, cluster_name: str) -> str:
    """Whose queues: the caller's own on a per-user cluster (its own machine), else shared."""
    principal: Principal | None = request.get(PRINCIPAL)
    if cluster_name in PER_USER_CLUSTERS and principal is not None:
        return principal.name
    return ""


@API.route(endpoints.SET_QUEUES, access=Access.CLUSTER,
           summary="Replace the cluster's queues and their limits (a per-user cluster's: "
                   "the caller's own)", tag="distributor")
async def replace_queues(request: web.Request, body: wire.ClusterQueues) -> wire.ClusterQueues:
    state = state_of(request)
    cluster_name = path_name(request, "cluster_name")
    async with state.pool.acquire() as connection:
        return await clusters.replace_queues(connection, cluster_name,
                                             _owner(request, cluster_name), body,
                                             state.clock.now())


@API.route(endpoints.QUEUES, summary="The cluster's queues and their limits, the default first",
           tag="run")
async def queues(request: web.Request) -> wire.ClusterQueues:
    cluster_name = path_name(request, "cluster_name")
    async with state_of(request).pool.acquire() as connection:
        return await clusters.queues(connection, cluster_name, _owner(request, cluster_name))
