"""Task instances: claims by distributors, status reports, heartbeats."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from aiohttp import web

from jobmon import endpoints, wire
from jobmon.server.auth import Access, worker_credential
from jobmon.server.db import wait_for
from jobmon.server.http import path_id, request_id
from jobmon.server.routes import API
from jobmon.server.state import state_of, user_of
from jobmon.server.store import instances, log_paths, results, runs
from jobmon.server.store.clusters import PER_USER_CLUSTERS
from jobmon.server.store.errors import NotFound

# an instance in any other status (or unknown) is told to stop
_LIVE = frozenset("IORT")


@API.route(endpoints.CLAIM, access=Access.CLAIM,
           summary="Claim queued instances of a cluster and collect kill orders; "
                   "waits up to `wait` seconds for work", tag="distributor")
async def claim(request: web.Request, body: wire.ClaimRequest) -> wire.ClaimResponse:
    answer = await _claim(request, body)
    metrics = state_of(request).metrics
    metrics.claims.labels(body.cluster_name).inc()
    metrics.claimed.labels(body.cluster_name).inc(len(answer.instances))
    return answer


async def _claim(request: web.Request, body: wire.ClaimRequest) -> wire.ClaimResponse:
    state = state_of(request)
    run_id = body.workflow_run_id
    if run_id is not None:
        async with state.pool.acquire() as connection:
            await runs.run_state(connection, run_id)  # 404 for an unknown run

    async def collect() -> wire.ClaimResponse:
        async with state.pool.acquire() as connection:
            claimed = await instances.claim(connection, body, run_id, state.clock.now(),
                                            request_id(request), user_of(request))
            kill = await instances.kill_orders(connection, body.cluster_name, run_id)
            runs: dict[int, dict[str, Any]] = {}
            if body.with_inputs:
                claimed = await _with_inputs(connection, claimed)
                with_runs = sorted({i.workflow_id for i in claimed if i.has_runs})
                if with_runs:
                    runs = await results.input_runs(connection, with_runs)
        if body.cluster_name not in PER_USER_CLUSTERS and state.auth.key:
            # a shared cluster runs `jobmon worker`, which reports with its own credential
            claimed = [msgspec.structs.replace(
                instance, credential=worker_credential(state.auth.key, instance.task_instance_id))
                for instance in claimed]
        return wire.ClaimResponse(instances=claimed, kill=kill, runs=runs)

    if body.wait <= 0:
        return await collect()
    # listening before the first claim, so that work queued meanwhile is not missed (one
    # claim, not a claim, then another once listening: every hop of a chain pays for it)
    with state.notifier.subscribe("jobmon_work", body.cluster_name) as event:
        answer = await collect()
        if answer.instances or answer.kill:
            return answer
        # No pause to gather more: a swarm queues a tick's tasks in one transaction, and its
        # notification comes at the commit, when all of them can be claimed at once.
        await wait_for(event, body.wait)
    return await collect()


async def _with_inputs(connection: asyncpg.Connection,
                       claimed: list[wire.ClaimedInstance]) -> list[wire.ClaimedInstance]:
    """The instances with the upstream outputs of those with upstream tasks."""
    wanted = [instance.task_instance_id for instance in claimed if instance.has_upstream]
    if not wanted:
        return claimed
    found = await results.inputs(connection, wanted)
    inputs = {entry.task_instance_id: entry.inputs for entry in found.instances}
    return [msgspec.structs.replace(instance, inputs=inputs[instance.task_instance_id])
            if instance.task_instance_id in inputs else instance for instance in claimed]


@API.route(endpoints.TRANSITIONS, access=Access.INSTANCES,
           summary="Report instance statuses in a batch; each is applied, ignored or rejected",
           tag="distributor")
async def transitions(
    request: web.Request, body: wire.TransitionsRequest
) -> wire.TransitionsResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        updates = await log_paths.own_log_paths(connection, body.updates)
        return await instances.apply_transitions(
            connection, updates, body.source, state.clock.now(), user_of(request)
        )


@API.route(endpoints.INSTANCE_HEARTBEAT, access=Access.INSTANCES,
           summary="Heartbeats of many instances; the answer lists those that must stop",
           tag="distributor")
async def heartbeat(
    request: web.Request, body: wire.InstanceHeartbeatRequest
) -> wire.InstanceHeartbeatResponse:
    state = state_of(request)
    statuses = await state.heartbeats.beat(body.task_instance_ids, body.next_report_seconds)
    return wire.InstanceHeartbeatResponse(
        kill=sorted({i for i in body.task_instance_ids if statuses.get(i) not in _LIVE})
    )


@API.route(endpoints.INSTANCE, access=Access.INSTANCES,
           summary="One instance with its command, for the worker", tag="distributor")
async def get_instance(request: web.Request) -> wire.InstanceInfo:
    instance_id = path_id(request, "task_instance_id")
    async with state_of(request).pool.acquire() as connection:
        info = await instances.info(connection, instance_id)
    if info is None:
        raise NotFound(f"task instance {instance_id}")
    return info
