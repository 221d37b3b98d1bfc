"""Cluster queues and their limits, reported by distributors and read by swarms."""

from __future__ import annotations

import datetime as dt

import asyncpg

from jobmon import wire
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import Invalid

# clusters that run jobs as the calling user on the server's own machine: anyone may use them
PER_USER_CLUSTERS = frozenset({"local", "sequential", "dummy"})


async def replace_queues(connection: asyncpg.Connection, cluster_name: str, owner: str,
                         body: wire.ClusterQueues, now: dt.datetime) -> wire.ClusterQueues:
    """Replace the queues of a cluster: a shared one's (owner ''), or one user's own."""
    names = [queue.name for queue in body.queues]
    if len(set(names)) != len(names):
        raise Invalid("each queue may appear only once")
    if sum(queue.is_default for queue in body.queues) > 1:
        raise Invalid("at most one queue can be the default")
    async with connection.transaction():
        await connection.execute(Q["forget_queues"], cluster_name, owner)
        await connection.execute(
            Q["insert_queues"], cluster_name, names,
            [queue.max_cores for queue in body.queues],
            [queue.max_memory_mib for queue in body.queues],
            [queue.max_runtime_seconds for queue in body.queues],
            [queue.is_default for queue in body.queues],
            now, owner,
        )
    return body


async def queues(connection: asyncpg.Connection, cluster_name: str,
                 owner: str) -> wire.ClusterQueues:
    rows = await connection.fetch(Q["queues_of_cluster"], cluster_name, owner)
    return wire.ClusterQueues(queues=[
        wire.QueueInfo(name=row[0], max_cores=row[1], max_memory_mib=row[2],
                       max_runtime_seconds=row[3], is_default=row[4])
        for row in rows
    ])
