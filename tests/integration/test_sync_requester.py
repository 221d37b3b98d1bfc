"""The worker's blocking HTTP client against a real HTTP server that is briefly unavailable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jobmon.errors import ServerUnavailable
from jobmon.retry import RetryPolicy
from jobmon.sync_requester import TRANSIENT_ERRORS, SyncRequester


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests, then a JSON body."""

    failures = 0
    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        failing = len(type(self).seen) <= type(self).failures
        body = b'{"error": {"code": "unavailable", "message": "restarting"}}' if failing \
            else b'{"answer": 42}'
        self.send_response(503 if failing else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def flaky() -> Iterator[type[_Flaky]]:
    handler = type("Flaky", (_Flaky,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def _requester(url: str, seconds: float) -> SyncRequester:
    return SyncRequester(url, timeout=5, retry=RetryPolicy(
        stop_after_seconds=seconds, max_wait=0.05, first_wait=0.01, transient=TRANSIENT_ERRORS))


def test_a_transient_failure_is_retried_until_the_answer(flaky: type[_Flaky]) -> None:
    flaky.failures = 2
    with _requester(flaky.url, 10) as requester:  # type: ignore[attr-defined]
        assert requester.get("/x", dict) == {"answer": 42}
    assert flaky.seen == ["/x", "/x", "/x"]


def test_a_server_that_stays_unavailable_is_given_up_on(flaky: type[_Flaky]) -> None:
    flaky.failures = 10_000
    with _requester(flaky.url, 0.3) as requester, \
            pytest.raises(ServerUnavailable, match="did not answer GET /x after retrying"):
        requester.get("/x", dict)
    assert len(flaky.seen) > 2  # retried, then gave up
