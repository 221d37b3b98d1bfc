"""The embedded PostgreSQL's memory follows the machine's (pure)."""

from __future__ import annotations

import pytest

from jobmon.server.embedded import shared_buffers_mib

GIB = 2**30


@pytest.mark.parametrize(("memory", "expected"), [
    (512 * 2**20, 128),  # a small VM keeps PostgreSQL's default
    (4 * GIB, 512),
    (24 * GIB, 1024),  # a big machine: capped
])
def test_shared_buffers_is_an_eighth_of_memory_within_bounds(memory: int, expected: int) -> None:
    assert shared_buffers_mib(memory) == expected


def test_the_database_follows_xdg_data_home_as_root_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """One rule for the data directory: server.json, the logs and the database move together."""
    from pathlib import Path

    from jobmon import settings

    monkeypatch.setattr("os.geteuid", lambda: 0)
    loaded = settings.load({"JOBMON__CONFIG_FILE": "/dev/null"}).settings
    moved = {"XDG_DATA_HOME": "/srv/alice"}
    assert settings.embedded_data_dir(loaded, moved) == Path("/srv/alice/jobmon/pgdata")
    assert settings.embedded_data_dir(loaded, moved).parent == settings.default_data_home(moved)
    assert settings.embedded_data_dir(loaded, {}) == Path("/var/lib/jobmon/pgdata")
