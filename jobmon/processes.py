"""Whether a process exists on this host: the one check the client, server and distributor
share (a PID file's owner, a lease holder, a supervised child, an embedded PostgreSQL)."""

from __future__ import annotations

import os


def process_exists(pid: int) -> bool:
    """Whether a process with this id exists on this host (another user's counts too).

    A zombie exists until it is reaped: callers that started the process reap it first.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
