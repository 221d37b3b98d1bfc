"""Reaching the server: the configured URL, or a local server started on demand."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio

from jobmon import settings as settings_module
from jobmon.client.local_server import ensure_local_server
from jobmon.requester import Requester
from jobmon.settings import Settings


async def service_url(settings: Settings) -> str:
    if settings.http.service_url:
        return settings.http.service_url
    return await anyio.to_thread.run_sync(ensure_local_server, settings)


@contextlib.asynccontextmanager
async def open_requester(settings: Settings | None = None) -> AsyncIterator[Requester]:
    settings = settings or settings_module.get()
    requester = Requester.from_settings(settings, await service_url(settings))
    try:
        yield requester
    finally:
        await requester.close()
