"""A resource shortage is logged once a minute however often it comes and goes (issue 13
item 6: 400,000 "Too many open files" tracebacks in 20 s)."""

from __future__ import annotations

import logging

import pytest

from jobmon.server.listener import ShortageLog


def test_a_shortage_is_logged_once_however_often_it_comes_and_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="jobmon.server.listener")
    shortage = ShortageLog("out of file descriptors")
    for _ in range(10_000):
        shortage.hit("accept: Too many open files")
        shortage.cleared()
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines  # it began, and it is over
    assert "new connections wait" in lines[0] and "over after" in lines[1]
    assert not any(record.exc_info for record in caplog.records)  # no tracebacks
