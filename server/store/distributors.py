"""Distributor daemons: the one-per-cluster lease, and the live instances a daemon adopts."""

from __future__ import annotations

import datetime as dt

import asyncpg

from jobmon import errors, wire
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store.errors import Conflict


def _status(
    cluster_name: str, row: asyncpg.Record | None, now: dt.datetime
) -> wire.DistributorStatus:
    if row is None:
        return wire.DistributorStatus(cluster_name=cluster_name, live=False)
    left = (row["expires_at"] - now).total_seconds()
    return wire.DistributorStatus(
        cluster_name=cluster_name,
        live=left > 0,
        hostname=row["hostname"],
        process_id=row["process_id"],
        started_at=row["started_at"].isoformat(),
        heartbeat_date=row["heartbeat_date"].isoformat(),
        seconds_left=round(max(0.0, left), 3),
    )


def _held_message(holder: wire.DistributorStatus, now: dt.datetime) -> str:
    renewed = (now - dt.datetime.fromisoformat(holder.heartbeat_date)).total_seconds()
    return (
        f"cluster {holder.cluster_name!r} already has a distributor daemon: pid "
        f"{holder.process_id} on host {holder.hostname}, running since {holder.started_at} "
        f"(lease renewed {renewed:.1f} s ago, expires in {holder.seconds_left:.1f} s). "
        "Stop it first, or wait until its lease expires."
    )


async def acquire_lease(
    connection: asyncpg.Connection, cluster_name: str, body: wire.LeaseRequest,
    now: dt.datetime,
) -> wire.DistributorStatus:
    """Take or renew the cluster's lease; 409 while another live daemon holds it."""
    expires = now + dt.timedelta(seconds=body.lease_seconds)
    async with connection.transaction():
        row = await connection.fetchrow(
            Q["acquire_distributor_lease"], cluster_name, body.token, body.hostname,
            body.process_id, now, expires, body.takeover_process_id,
        )
        if row is not None:
            return _status(cluster_name, row, now)
        holder = _status(cluster_name,
                         await connection.fetchrow(Q["distributor_lease"], cluster_name), now)
    raise Conflict(errors.CODE_CONFLICT, _held_message(holder, now))


async def release_lease(
    connection: asyncpg.Connection, cluster_name: str, body: wire.LeaseRelease,
    now: dt.datetime,
) -> wire.DistributorStatus:
    await connection.fetchval(Q["release_distributor_lease"], cluster_name, body.token)
    return await lease_status(connection, cluster_name, now)


async def lease_status(
    connection: asyncpg.Connection, cluster_name: str, now: dt.datetime
) -> wire.DistributorStatus:
    row = await connection.fetchrow(Q["distributor_lease"], cluster_name)
    return _status(cluster_name, row, now)


async def live_instances(
    connection: asyncpg.Connection, cluster_name: str, workflow_id: int | None,
    query: wire.LiveInstancesQuery,
) -> wire.LiveInstances:
    rows = await connection.fetch(Q["live_instances_of_cluster"], cluster_name, workflow_id,
                                  query.after_id, query.limit)
    return wire.LiveInstances(
        task_instance_id=[row["id"] for row in rows],
        distributor_id=[row["distributor_id"] for row in rows],
        status=[row["status"] for row in rows],
        next_after_id=rows[-1]["id"] if len(rows) == query.limit else None,
        workflow_id=[row["workflow_id"] for row in rows],
        workflow_run_id=[row["workflow_run_id"] for row in rows],
        for_run=query.workflow_run_id,
        launch_token=[row["launch_token"] for row in rows],
    )
