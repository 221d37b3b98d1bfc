"""/metrics after a real run, parsed with prometheus_client's own parser; and who may read it."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

import anyio
import pytest
from prometheus_client.parser import text_string_to_metric_families

from jobmon import settings as settings_module
from jobmon.clock import SystemClock
from jobmon.server.db import create_pool
from tests.integration.fault_helpers import children, ready_server
from tests.integration.helpers import ROOT, make_token, wait_until, workflow_with_instances
from tests.integration.workflows import sleepers
from tests.support import ServerThread, serving

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _scrape(server: ServerThread, token: str | None = None) -> Samples:
    status, text = _get(server.url + "/metrics", token)
    assert status == 200, text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def _claimed_instances(dsn: str, count: int) -> None:
    async def make() -> None:
        pool = await create_pool(dsn, min_size=1, max_size=2, statement_timeout=30)
        try:
            await workflow_with_instances(pool, SystemClock(), count)
        finally:
            await pool.close()

    anyio.run(make)


def test_metrics_count_a_real_run(server: ServerThread, tmp_path: Path) -> None:
    workflow = sleepers("metrics-run", tmp_path, count=3, seconds=0)
    assert workflow.run() == "D"
    assert _get(server.url + "/api/v1/tasks/999999/history")[0] == 404
    assert _get(server.url + "/no/such/path/12345")[0] == 404
    samples = _scrape(server)

    transitions = "jobmon_transitions_total"
    for kind, status, count in (("task", "Q", 4), ("task", "I", 4), ("task", "D", 4),
                                ("task_instance", "Q", 4), ("task_instance", "I", 4),
                                ("task_instance", "R", 4), ("task_instance", "D", 4),
                                ("workflow_run", "D", 1), ("workflow", "D", 1)):
        assert _value(samples, transitions, object=kind, status=status) == count, (kind, status)
    assert _value(samples, transitions, object="task", status="F") is None  # none failed
    assert _value(samples, "jobmon_claimed_instances_total", cluster="local") == 4
    assert (_value(samples, "jobmon_claims_total", cluster="local") or 0) >= 1

    # request durations by route pattern and code, never by raw path
    duration = "jobmon_http_request_duration_seconds_count"
    routes = {dict(labels)["route"] for name, labels in samples if name == duration}
    assert "/api/v1/task_instances/transitions" in routes
    assert "/api/v1/tasks/{task_id}/history" in routes and "unmatched" in routes
    assert not [route for route in routes if re.search(r"/\d+(/|$)", route)]
    assert _value(samples, duration, route="/api/v1/tasks/{task_id}/history", method="GET",
                  code="404") == 1
    assert (_value(samples, duration, route="/api/v1/task_instances/transitions",
                   method="POST", code="200") or 0) >= 1

    settings = settings_module.get()
    assert _value(samples, "jobmon_db_pool_connections", state="max") == \
        settings.db.pool_max_size
    assert (_value(samples, "jobmon_db_pool_connections", state="open") or 0) >= 1
    assert _value(samples, "jobmon_long_poll_waiters", channel="jobmon_work") is not None
    # nothing is live once the run is over
    assert not [name for name, _ in samples if name == "jobmon_task_instances"]

    # every metric the Grafana dashboard in deploy/ asks for is one this server serves
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "jobmon.json").read_text())
    wanted = {re.sub(r"_(total|bucket|count|sum)$", "", name)
              for panel in dashboard["panels"] for target in panel["targets"]
              for name in re.findall(r"jobmon_[a-z_]+", target["expr"])}
    served = {family.name for family in text_string_to_metric_families(
        _get(server.url + "/metrics")[1])}
    assert len(wanted) >= 10 and wanted <= served, wanted - served

    # three instances claimed and not launched (written past this server): live, by cluster
    # and status, read from the database at each scrape
    _claimed_instances(server.dsn, 3)
    samples = _scrape(server)
    assert _value(samples, "jobmon_task_instances", cluster="local", status="I") == 3


def test_metrics_ask_for_a_token_unless_made_public(
    token_server: ServerThread, db_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = token_server.url + "/metrics"
    assert _get(url)[0] == 401
    token = make_token(db_dsn, "prometheus")
    assert "jobmon_db_pool_connections" in _scrape(token_server, token).__repr__()
    monkeypatch.setenv("JOBMON__SERVER__METRICS_PUBLIC", "true")
    settings_module.reset_cache()
    with serving(db_dsn, monkeypatch) as public:
        status, text = _get(public.url + "/metrics")
        assert status == 200 and "jobmon_transitions" in text
        # the rest of the API still wants its token
        assert _get(public.url + "/api/v1/workflows")[0] == 401


def test_several_server_processes_answer_metrics_for_all_of_them(
    db_dsn: str, tmp_path: Path
) -> None:
    env = {name: text for name, text in os.environ.items() if not name.startswith("JOBMON__")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               JOBMON__DB__POOL_MAX_SIZE="3")
    folders = tmp_path / "data" / "jobmon" / "metrics"
    with ready_server(env, tmp_path / "ready.json", tmp_path / "server.log",
                      "--processes", "2", "--database-url", db_dsn) as (supervisor, url):
        wait_until(lambda: len(children(supervisor.pid)) == 2, 30, "two server processes")
        for _ in range(30):  # a connection each: the kernel spreads them over the processes
            assert _get(url + "/api/v1/workflows")[0] == 200
        route = ("jobmon_http_request_duration_seconds_count",
                 (("code", "200"), ("method", "GET"), ("route", "/api/v1/workflows")))
        # whichever process answers, it counts the requests both served, and both pools
        for _ in range(6):
            samples = _scrape(ServerThread(db_dsn, url=url))
            assert samples[route] == 30
            # each process records its pool after each request: both served some
            assert _value(samples, "jobmon_db_pool_connections", state="max") == 2 * 3
        assert len(list(folders.glob("server-*"))) == 1
    # the metrics folder goes with the server
    assert not list(folders.glob("server-*"))
