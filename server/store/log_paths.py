"""Only paths that jobmon.logs names for an instance are recorded as its logs."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg
import msgspec

from jobmon import logs, wire
from jobmon.server.sql import QUERIES as Q

log = logging.getLogger(__name__)


async def own_log_paths(connection: asyncpg.Connection,
                        updates: Sequence[wire.InstanceUpdate]) -> list[wire.InstanceUpdate]:
    """``updates`` less any stdout or stderr path that is not the instance's own log.

    A client may say where it wrote, but only within the rule: a path elsewhere (another
    user's file, /etc/shadow) is dropped here, so nothing downstream is pointed at it.
    """
    reported = [u for u in updates if u.stdout_path is not None or u.stderr_path is not None]
    if not reported:
        return list(updates)
    rows = {row["id"]: row for row in await connection.fetch(
        Q["log_rule_inputs"], sorted({u.task_instance_id for u in reported}))}
    checked: list[wire.InstanceUpdate] = []
    dropped = 0
    for update in updates:
        row = rows.get(update.task_instance_id)
        if row is None or (update.stdout_path is None and update.stderr_path is None):
            checked.append(update)
            continue
        job_ids = [str(update.task_instance_id), update.distributor_id or "",
                   row["distributor_id"] or ""]
        kept = {}
        for stream in logs.STREAMS:
            path = getattr(update, f"{stream}_path")
            own = path is None or logs.is_instance_log(
                path, stream, row["name"], job_ids, row["compute_resources"] or {},
                row["workflow_id"])
            kept[f"{stream}_path"] = path if own else None
            dropped += not own
        checked.append(msgspec.structs.replace(update, **kept))
    if dropped:
        log.warning("dropped %d reported log paths that are not their instance's own logs",
                    dropped)
    return checked
