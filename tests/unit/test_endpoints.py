"""One table of endpoints (jobmon/endpoints.py): the server serves exactly its routes, with
its structs, and no other source file writes an API path of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobmon import endpoints, wire

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("jobmon", "client", "server", "distributor", "bench", "scripts", "examples",
               "deploy")
TABLE = ROOT / "jobmon" / "endpoints.py"
# the worker's four paths, which the table takes from there (jobmon/worker_routes.py says why)
WORKER_ROUTES = ROOT / "jobmon" / "worker_routes.py"


def served() -> dict[tuple[str, str], tuple[object, object, object]]:
    import jobmon.server.app  # noqa: F401  (registers every route)
    from jobmon.server.routes import API

    routes = {(route.method, route.path): (route.request, route.response, route.query)
              for route in API.routes}
    assert len(routes) == len(API.routes), "a route is registered twice"
    return routes


def test_the_server_serves_every_endpoint_of_the_table_and_nothing_else() -> None:
    table = {(e.method, e.path): (e.request, e.response, e.query)
             for e in endpoints.ENDPOINTS}
    assert len(table) == len(endpoints.ENDPOINTS), "an endpoint is in the table twice"
    routes = served()
    assert sorted(set(table) - set(routes)) == [], "in the table, not served"
    assert sorted(set(routes) - set(table)) == [], "served, not in the table"
    assert routes == table  # and with the same body, answer and query structs
    assert len(table) > 60


def test_the_table_names_every_endpoint_once() -> None:
    named = [value for value in vars(endpoints).values()
             if isinstance(value, endpoints.Endpoint)]
    assert sorted(map(id, named)) == sorted(map(id, endpoints.ENDPOINTS))


def test_path_parameters_are_quoted_whole() -> None:
    assert endpoints.LIVE_INSTANCES.path_for(cluster_name="a/b c?#%") == \
        "/api/v1/distributors/a%2Fb%20c%3F%23%25/instances"
    assert endpoints.RUN_STATUS.path_for(workflow_run_id=7) == "/api/v1/workflow_runs/7/status"
    assert endpoints.QUEUES.path_for(cluster_name="ü") == "/api/v1/clusters/%C3%BC/queues"
    assert endpoints.CLAIM.path_for() == "/api/v1/distributor/claim"


def test_a_missing_or_unknown_path_parameter_is_refused() -> None:
    with pytest.raises(TypeError, match="workflow_id"):
        endpoints.WORKFLOW.path_for()
    with pytest.raises(TypeError, match="workflow_run_id"):
        endpoints.WORKFLOW.path_for(workflow_id=1, workflow_run_id=2)
    with pytest.raises(TypeError):
        endpoints.CLAIM.path_for(cluster_name="local")


def test_no_source_file_writes_an_api_path_outside_the_table() -> None:
    found: list[Path] = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or path.suffix in (".md", ".pyc"):
                continue  # documents may cite paths (docs/architecture.md's are checked)
            # The dashboard is JavaScript run by the browser: it cannot import the table.
            if path.parent == ROOT / "server" / "static" and path.suffix == ".js":
                continue
            if b"/api/v1/" in path.read_bytes():
                found.append(path)
    assert TABLE in found  # the search sees what it looks for
    assert [str(path.relative_to(ROOT)) for path in found
            if path not in (TABLE, WORKER_ROUTES)] == [], \
        "use jobmon.endpoints (Requester.call, Endpoint.path_for) instead of writing a path"


def test_a_body_of_another_struct_is_refused_before_it_is_sent() -> None:
    endpoints.RUN_STATUS.check_body(wire.RunStatusRequest(status="R"))
    endpoints.STOP_WORKFLOW.check_body(None)
    with pytest.raises(TypeError, match="RunStatusRequest, not RunHeartbeatRequest"):
        endpoints.RUN_STATUS.check_body(wire.RunHeartbeatRequest(next_report_seconds=30))
    with pytest.raises(TypeError, match="takes no body"):
        endpoints.STOP_WORKFLOW.check_body(wire.RunStatusRequest(status="R"))
    with pytest.raises(TypeError):
        endpoints.CLAIM.check_body(None)
