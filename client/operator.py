"""Operator actions by workflow id: change limits, stop."""

from __future__ import annotations

from jobmon import wire
from jobmon.client.connection import open_requester
from jobmon.settings import Settings


async def set_concurrency(settings: Settings, workflow_id: int,
                          limit: int) -> wire.ConcurrencyResponse:
    async with open_requester(settings) as requester:
        return await requester.post(
            f"/api/v1/workflows/{workflow_id}/concurrency",
            wire.ConcurrencyRequest(max_concurrently_running=limit),
            wire.ConcurrencyResponse,
        )


async def stop_workflow(settings: Settings, workflow_id: int) -> wire.StopResponse:
    async with open_requester(settings) as requester:
        return await requester.post(f"/api/v1/workflows/{workflow_id}/stop", None,
                                    wire.StopResponse)
