"""The supervisor's restart budget: a child that keeps dying is not started forever."""

from __future__ import annotations

from jobmon.server.supervisor import RestartBudget


def test_restarts_beyond_the_limit_within_the_window_are_refused() -> None:
    budget = RestartBudget(limit=3, window=60.0)
    assert [budget.allow(now) for now in (0.0, 1.0, 2.0)] == [True, True, True]
    assert budget.allow(3.0) is False
    assert budget.allow(59.0) is False


def test_old_restarts_leave_the_window() -> None:
    budget = RestartBudget(limit=2, window=10.0)
    assert budget.allow(0.0) and budget.allow(5.0)
    assert not budget.allow(9.0)
    assert budget.allow(10.5)  # the one at 0 s is older than the window now
    assert not budget.allow(11.0)
    assert budget.allow(15.5)
