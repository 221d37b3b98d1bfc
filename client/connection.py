"""Reaching the server: the configured URL, or a local server started on demand."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import anyio

from jobmon import settings as settings_module
from jobmon.client.local_server import ensure_local_server, restart_local_server
from jobmon.errors import ServerUnavailable
from jobmon.requester import Requester
from jobmon.settings import Settings

log = logging.getLogger(__name__)


async def service_url(settings: Settings) -> str:
    if settings.http.service_url:
        return settings.http.service_url
    return await anyio.to_thread.run_sync(ensure_local_server, settings)


class LocalServerKeeper:
    """Starts the local server again when it stopped answering (a Requester's ``recover``)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def __call__(self, refused_url: str) -> str | None:
        try:
            return await anyio.to_thread.run_sync(restart_local_server, self._settings,
                                                  refused_url)
        except (ServerUnavailable, OSError) as error:
            log.warning("could not start the local server again: %s", error)
            return None


@contextlib.asynccontextmanager
async def open_requester(settings: Settings | None = None) -> AsyncIterator[Requester]:
    settings = settings or settings_module.get()
    requester = Requester.from_settings(settings, await service_url(settings))
    if not settings.http.service_url:
        requester.recover = LocalServerKeeper(settings)
    try:
        yield requester
    finally:
        await requester.close()
