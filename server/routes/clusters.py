"""Cluster queues: a distributor reports them, a swarm reads them to scale resources."""

from __future__ import annotations

from aiohttp import web

from jobmon import wire
from jobmon.server.auth import Access
from jobmon.server.http import path_name
from jobmon.server.routes import API
from jobmon.server.state import state_of
from jobmon.server.store import clusters

QUEUES = "/api/v1/clusters/{cluster_name}/queues"


@API.route("POST", QUEUES, access=Access.CLUSTER,
           request=wire.ClusterQueues, response=wire.ClusterQueues,
           summary="Replace the cluster's queues and their limits", tag="distributor")
async def replace_queues(request: web.Request, body: wire.ClusterQueues) -> wire.ClusterQueues:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await clusters.replace_queues(connection, path_name(request, "cluster_name"),
                                             body, state.clock.now())


@API.route("GET", QUEUES, response=wire.ClusterQueues,
           summary="The cluster's queues and their limits, the default first", tag="run")
async def queues(request: web.Request) -> wire.ClusterQueues:
    async with state_of(request).pool.acquire() as connection:
        return await clusters.queues(connection, path_name(request, "cluster_name"))
