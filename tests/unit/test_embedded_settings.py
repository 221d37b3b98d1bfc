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
