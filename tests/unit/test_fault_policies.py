"""How long to wait after faults (pure): the reaper after an election, distributor restarts."""

from __future__ import annotations

import msgspec
import pytest

from jobmon import settings as settings_module
from jobmon.client.swarm.distributors import RestartPolicy
from jobmon.server.reaper import holdoff_seconds


def _settings(task_instance: float, workflow_run: float, retry_max_wait: float,
              ) -> settings_module.Settings:
    loaded = settings_module.load({"JOBMON__CONFIG_FILE": "/dev/null"}).settings
    return msgspec.structs.replace(
        loaded,
        heartbeat=msgspec.structs.replace(loaded.heartbeat,
                                          task_instance_interval=task_instance,
                                          workflow_run_interval=workflow_run),
        http=msgspec.structs.replace(loaded.http, retry_max_wait=retry_max_wait),
    )


@pytest.mark.parametrize(("intervals", "retry_max_wait", "expected"), [
    ((30.0, 10.0), 10.0, 93.0),  # the defaults: one deadline is longer than the backoff
    ((3.0, 3.0), 10.0, 23.0),  # short heartbeats: an interval and two backoff waits
    ((1.0, 0.5), 10.0, 21.0),
])
def test_a_new_reaper_waits_out_the_clients_backoff(intervals: tuple[float, float],
                                                    retry_max_wait: float,
                                                    expected: float) -> None:
    settings = _settings(*intervals, retry_max_wait)
    assert holdoff_seconds(settings) == pytest.approx(expected)
    # a client whose next attempt comes one backoff wait after the server is back, and
    # whose heartbeat loop was asleep for an interval, is heard before the first pass
    assert holdoff_seconds(settings) > max(intervals) + retry_max_wait


def test_restarts_back_off_and_give_up_only_after_the_window() -> None:
    policy = RestartPolicy(max_wait=10.0, window=600.0)
    assert [policy.delay(deaths) for deaths in range(1, 9)] == \
        [0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    assert not policy.gives_up(deaths=1, streak_seconds=10_000)  # a first death: restart
    assert not policy.gives_up(deaths=50, streak_seconds=599)
    assert policy.gives_up(deaths=50, streak_seconds=601)
