"""Fuzz every route of the OpenAPI document with schemathesis, on a real server and database.

No request may get a 5xx or a traceback; every 4xx carries ``{"error": {"code", "message"}}``;
answers match their documented status codes, content types and schemas, and data that
breaks the schema is rejected. About half the generated ids (in paths, bodies and queries)
are swapped for ids of seeded workflows, runs, tasks and instances, so routes work on data
that exists instead of only answering 404.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.seed import Seeded, seeded_server
from tests.support import ServerThread

# Examples per operation in the random (fuzzing) phase; the coverage phase adds the
# boundary values of each schema and unexpected methods. About 4,000 requests in all,
# under a minute on 2 cores.
MAX_EXAMPLES = 30
# One request slower than this is a finding (a long-poll that ignores its bound, a hang).
DEADLINE = timedelta(seconds=10)
SETTINGS = hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=DEADLINE, derandomize=True,
                               database=None, suppress_health_check=list(hypothesis.HealthCheck))
# Long-polls wait up to `wait` seconds for work; the fuzzer makes them wait at most this.
LONGEST_WAIT = 0.2
# Routes that delete what the other routes read; they run last, in their own test.
DELETE_ROUTES = r"^/api/v1/workflows/\{workflow_id\}(/prune)?$"
CLUSTERS = ["local", "sequential", "dummy", "slurm", "no-such-cluster"]
# body and query fields holding ids, and the path parameter whose seeded ids they take
ID_FIELDS = {
    "workflow_id": "workflow_id", "workflow_run_id": "workflow_run_id",
    "task_id": "task_id", "task_ids": "task_id",
    "upstream_task_id": "task_id", "downstream_task_id": "task_id",
    "task_instance_id": "task_instance_id", "task_instance_ids": "task_instance_id",
    "array_id": "array_id", "tool_version_id": "tool_version_id",
    "task_template_version_id": "task_template_version_id",
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]

# the last test checks what the others reached, so under pytest-xdist all run in one worker
pytestmark = pytest.mark.xdist_group("fuzz")

EXAMPLES: Counter[str] = Counter()
ANSWERS: Counter[tuple[str, int]] = Counter()


class ServerErrors(logging.Handler):
    """The server's error log (with tracebacks), to show beside the answer that caused it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


SERVER_ERRORS = ServerErrors()


@pytest.fixture(scope="module")
def fuzz_server(pg_server_dsn: str, template_db: str,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerThread, Seeded]]:
    server_log = logging.getLogger("jobmon.server")
    server_log.addHandler(SERVER_ERRORS)
    try:
        with seeded_server(pg_server_dsn, template_db,
                           tmp_path_factory.mktemp("fuzz")) as running:
            yield running
    finally:
        server_log.removeHandler(SERVER_ERRORS)


@pytest.fixture(scope="module")
def api_schema(fuzz_server: tuple[ServerThread, Seeded]) -> schemathesis.BaseSchema:
    server, _ = fuzz_server
    schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
    schema.config.update(base_url=server.url)
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True,
                                    database="none")
    return schema


def _known(value: Any, ids: list[int]) -> Any:
    """An odd positive id becomes a seeded one; anything else stays (invalid stays invalid)."""
    if isinstance(value, list):
        return [_known(item, ids) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and value > 0 and value % 2:
        return ids[value % len(ids)]
    return value


def _use_known_ids(values: Any, seeded: Seeded) -> None:
    if isinstance(values, list):
        for item in values:
            _use_known_ids(item, seeded)
    if not isinstance(values, dict):
        return
    for key, value in values.items():
        if key in ID_FIELDS:
            values[key] = _known(value, seeded.ids(ID_FIELDS[key]))
        elif key == "cluster_name" and isinstance(value, str) and len(value) % 2:
            values[key] = CLUSTERS[len(value) % len(CLUSTERS)]
        else:
            _use_known_ids(value, seeded)


def _shorten_waits(case: schemathesis.Case) -> None:
    for values in (case.body, case.query):
        if not isinstance(values, dict) or isinstance(values.get("wait"), bool):
            continue
        try:
            wait = float(values.get("wait"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if LONGEST_WAIT < wait <= 300:
            values["wait"] = LONGEST_WAIT


def assert_error_contract(status: int, content_type: str, text: str, logged: str = "") -> None:
    """What a caller of any route relies on, whatever it sent."""
    assert status < 500, f"{text[:2000]}\nthe server logged:\n{logged}"
    assert "Traceback" not in text and 'File "' not in text, text
    if status >= 400:
        assert content_type.startswith("application/json"), (status, content_type, text)
        body = json.loads(text)
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["code"], body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], body


def _fuzz(case: schemathesis.Case, seeded: Seeded) -> None:
    for values in (case.path_parameters, case.query, case.body):
        _use_known_ids(values, seeded)
    _shorten_waits(case)
    hypothesis.note(case.as_curl_command())
    logged = len(SERVER_ERRORS.lines)
    response = case.call(timeout=DEADLINE.total_seconds() * 2)
    EXAMPLES[case.operation.label] += 1
    ANSWERS[(case.operation.label, response.status_code)] += 1
    assert_error_contract(response.status_code, response.headers.get("content-type", [""])[0],
                          response.text, "\n".join(SERVER_ERRORS.lines[logged:]))
    case.validate_response(response, checks=CHECKS)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.timeout(600)
@schema.exclude(path_regex=DELETE_ROUTES, method=["DELETE"]).exclude(
    path_regex=r"/prune$").parametrize()
@SETTINGS
def test_no_input_breaks_a_route(case: schemathesis.Case,
                                 fuzz_server: tuple[ServerThread, Seeded]) -> None:
    _fuzz(case, fuzz_server[1])


@pytest.mark.timeout(300)
@schema.include(path_regex=DELETE_ROUTES, method=["DELETE"]).include(
    path_regex=r"/prune$").parametrize()
@SETTINGS
def test_no_input_breaks_a_delete(case: schemathesis.Case,
                                  fuzz_server: tuple[ServerThread, Seeded]) -> None:
    _fuzz(case, fuzz_server[1])


def test_the_fuzzing_reached_every_route_and_existing_data(
        api_schema: schemathesis.BaseSchema) -> None:
    if not EXAMPLES:
        pytest.skip("the fuzz tests did not run in this session")
    print(f"fuzzed {sum(EXAMPLES.values())} requests over {len(EXAMPLES)} operations")
    for label in sorted(EXAMPLES):
        statuses = {status: n for (name, status), n in sorted(ANSWERS.items()) if name == label}
        print(f"{EXAMPLES[label]:5d} {label} {statuses}")
    operations = {result.ok().label for result in api_schema.get_all_operations()}
    assert set(EXAMPLES) == operations
    # seeded ids make routes work on things that exist, not only answer 404
    succeeded = {label for (label, status) in ANSWERS if status == 200}
    for label in ("GET /api/v1/workflows/{workflow_id}", "GET /api/v1/tasks/{task_id}",
                  "GET /api/v1/task_instances/{task_instance_id}",
                  "GET /api/v1/workflow_runs/{workflow_run_id}/changes",
                  "POST /api/v1/task_instances/transitions",
                  "POST /api/v1/workflows/{workflow_id}/task_status"):
        assert label in succeeded, (label, sorted(ANSWERS.items()))


def test_the_served_document_is_valid_openapi_3_1(
        fuzz_server: tuple[ServerThread, Seeded]) -> None:
    server, _ = fuzz_server
    with urllib.request.urlopen(server.url + "/api/v1/openapi.json", timeout=30) as answer:
        document = json.loads(answer.read())
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on anything that is not OpenAPI 3.1
    operations = [(path, method) for path, methods in document["paths"].items()
                  for method in methods]
    ids = [document["paths"][path][method]["operationId"] for path, method in operations]
    assert len(set(ids)) == len(ids) == len(operations) >= 40
    loaded = schemathesis.openapi.from_dict(document)
    assert len([result.ok() for result in loaded.get_all_operations()]) == len(operations)
