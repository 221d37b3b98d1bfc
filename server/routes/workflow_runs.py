"""Workflow runs: status, heartbeat, the swarm's schedule writes, and its change feed."""

from __future__ import annotations

import anyio
from aiohttp import web

from jobmon import endpoints, wire
from jobmon.server.auth import Access
from jobmon.server.db import wait_for
from jobmon.server.http import path_id
from jobmon.server.routes import API
from jobmon.server.state import ServerState, state_of, user_of
from jobmon.server.store import runs

_IN_FLIGHT = frozenset("QIOR")
_LIVE = frozenset("BIOR")


@API.route(endpoints.RUN_STATUS, access=Access.RUN,
           summary="Move the run to a status the transition table allows (409 otherwise)",
           tag="run")
async def set_status(request: web.Request, body: wire.RunStatusRequest) -> wire.RunStatusResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await runs.set_run_status(
            connection, path_id(request, "workflow_run_id"), body, state.clock.now(), "swarm",
            user_of(request),
        )


@API.route(endpoints.START_RUN, access=Access.RUN,
           summary="The swarm is built and its distributors are up: the run goes B to I, O "
                   "and R at once (a replay finds it RUNNING; 409 once ended)", tag="run")
async def start(request: web.Request) -> wire.RunStatusResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await runs.start_run(connection, path_id(request, "workflow_run_id"),
                                    state.clock.now(), "swarm", user_of(request))


@API.route(endpoints.RUN_HEARTBEAT, access=Access.RUN,
           summary="The swarm is alive; the answer carries the run's status", tag="run")
async def heartbeat(
    request: web.Request, body: wire.RunHeartbeatRequest
) -> wire.RunHeartbeatResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await runs.heartbeat(
            connection,
            path_id(request, "workflow_run_id"),
            state.clock.now(),
            state.report_by(body.next_report_seconds),
        )


@API.route(endpoints.RUN_SCHEDULE, access=Access.RUN,
           summary="One swarm tick: fatal tasks, resource adjustments, queueing", tag="run")
async def schedule(request: web.Request, body: wire.ScheduleRequest) -> wire.ScheduleResponse:
    state = state_of(request)
    async with state.pool.acquire() as connection:
        return await runs.schedule(
            connection, path_id(request, "workflow_run_id"), body, state.clock.now(),
            user_of(request),
        )


@API.route(endpoints.RUN_CHANGES, access=Access.RUN,
           summary="Task status changes since a cursor; waits up to `wait` seconds for one",
           tag="run")
async def changes(request: web.Request, query: wire.ChangesQuery) -> wire.ChangesResponse:
    state = state_of(request)
    run_id = path_id(request, "workflow_run_id")
    if not query.cursor or query.wait <= 0:
        async with state.pool.acquire() as connection:
            return await runs.changes(connection, run_id, query.cursor)
    workflow_id = await _workflow_of(state, run_id)
    # listening before the first read, so that a change committed meanwhile is not missed
    # (one read, not a read, then another once listening: a hop's every wake-up pays for it)
    with state.notifier.subscribe("jobmon_task", str(workflow_id)) as event:
        async with state.pool.acquire() as connection:
            answer = await runs.changes(connection, run_id, query.cursor)
        if _actionable(answer):
            return answer
        if await wait_for(event, query.wait) and query.gather > 0:
            # more changes usually follow the first: answer them together, unless none
            # can come (the last instance in flight ended: its swarm waits for this one)
            async with state.pool.acquire() as connection:
                live = await runs.has_live_instances(connection, run_id)
            if live:
                await anyio.sleep(query.gather)
    async with state.pool.acquire() as connection:
        return await runs.changes(connection, run_id, query.cursor)


async def _workflow_of(state: ServerState, run_id: int) -> int:
    """The workflow of a run (which never changes: remembered for the run's long-polls)."""
    found = state.run_workflows.get(run_id)
    if found is None:
        async with state.pool.acquire() as connection:
            found = int((await runs.run_state(connection, run_id))["workflow_id"])
        if len(state.run_workflows) >= RUN_WORKFLOWS_KEPT:
            state.run_workflows.clear()
        state.run_workflows[run_id] = found
    return found


RUN_WORKFLOWS_KEPT = 10_000


def _actionable(answer: wire.ChangesResponse) -> bool:
    """Worth waking the swarm for: a task ended or was reset, or the run itself changed.

    Moves between Q, I, O and R need no action (the swarm counts them all as active);
    they are answered with the next change that does.
    """
    return answer.run_status not in _LIVE or any(
        status not in _IN_FLIGHT for status in answer.tasks.status
    )
