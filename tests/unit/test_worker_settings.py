"""The job script's worker: its command line, the statuses it writes out, and its HTTP
client's hand-over to the full client (a loopback socket server, not a mock)."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from jobmon.distributor import worker
from jobmon.distributor.plugins.slurm_submit import job_script
from jobmon.distributor.worker_http import WorkerHttp
from jobmon.status import TaskInstanceStatus as TIS
from jobmon.sync_requester import SyncRequester


def test_the_statuses_written_out_are_jobmons() -> None:
    assert {TIS.INSTANTIATED, TIS.LAUNCHED} == worker.STARTABLE
    assert (worker.RUNNING, worker.ERROR_FATAL, worker.RESOURCE_ERROR) == (
        TIS.RUNNING, TIS.ERROR_FATAL, TIS.RESOURCE_ERROR)


def test_the_job_scripts_settings_reach_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = worker.WorkerSettings("http://node-1:8080/jobmon", "", 30.0, 45.5, 136.5,
                                     "/shared/logs dir")
    script = job_script("/usr/bin/python3", [7, 8], [], settings.arguments())
    command = script.rstrip("\n").splitlines()[-1]
    assert command.startswith("exec /usr/bin/python3 -m jobmon.distributor.worker "
                              '--task-instance-id "$id" --service-url')
    assert "'/shared/logs dir'" in command  # quoted for bash
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", "secret-of-instance-7")
    instance_id, given = worker.parse_arguments(["--task-instance-id=7",
                                                 *settings.arguments()])
    parsed = worker._settings(given)
    assert instance_id == 7
    assert (parsed.service_url, parsed.token, parsed.request_timeout,
            parsed.heartbeat_interval, parsed.deadline, parsed.log_dir) == (
        "http://node-1:8080/jobmon", "secret-of-instance-7", 30.0, 45.5, 136.5,
        "/shared/logs dir")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--task_instance_id", "3", "--colour", "red"], "unknown option --colour"),
    (["--task-instance-id", "3", "--service-url", "http://x"], "missing --request-timeout"),
    (["--task-instance-id", "3", "--service-url", "http://x", "--request-timeout", "soon",
      "--heartbeat-interval", "1", "--report-deadline", "3", "--log-dir", "/l"],
     "--request-timeout: 'soon' is not a number"),
])
def test_a_bad_command_line_says_what_is_wrong(arguments: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _, given = worker.parse_arguments(arguments)
        worker._settings(given)


class _Answers:
    """A loopback HTTP server that answers each request with the next of ``answers`` (raw
    bytes; after one that ends with ``CLOSE`` it closes the connection) and records the
    requests' X-Request-Id headers."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.request_ids: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.answers:
            connection, _ = self.listener.accept()
            with connection, connection.makefile("rb") as reader:
                while self.answers:
                    head = [reader.readline()]
                    if not head[0]:
                        break  # the client closed this connection
                    while head[-1] not in (b"\r\n", b""):
                        head.append(reader.readline())
                    length = 0
                    for line in head[1:]:
                        name, _, value = line.decode().partition(":")
                        if name.lower() == "x-request-id":
                            self.request_ids.append(value.strip())
                        if name.lower() == "content-length":
                            length = int(value)
                    reader.read(length)
                    answer = self.answers.pop(0)
                    connection.sendall(answer.removesuffix(CLOSE))
                    if answer.endswith(CLOSE):
                        break

    def close(self) -> None:
        self.listener.close()


CLOSE = b"<close>"


def _json_answer(value: object) -> bytes:
    body = json.dumps(value).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


@pytest.mark.parametrize("first", [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n",
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
    b"garbage\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"cut\": " + CLOSE,
], ids=["chunked", "503", "garbage", "cut short"])
def test_an_answer_it_does_not_read_goes_to_the_full_client_with_the_same_id(
        first: bytes) -> None:
    """The full client sends the request again, with the id of the first attempt (so the
    server applies it once), and answers it."""
    server = _Answers([first, _json_answer({"results": ["ok"]})])
    made: list[SyncRequester] = []

    def full_client() -> SyncRequester:
        made.append(SyncRequester(server.url, timeout=5))
        return made[0]

    try:
        with WorkerHttp(server.url, "", 5.0, full_client) as http:
            answer = http.call("POST", "/api/v1/task_instances/transitions", {"x": 1})
    finally:
        server.close()
    assert answer == {"results": ["ok"]}
    assert len(made) == 1
    assert len(server.request_ids) == 2 and server.request_ids[0] == server.request_ids[1]


def test_answers_come_over_one_kept_connection() -> None:
    server = _Answers([_json_answer({"n": n}) for n in range(3)])

    def full_client() -> SyncRequester:
        raise AssertionError("no request failed")

    try:
        with WorkerHttp(server.url, "token", 5.0, full_client) as http:
            got = [http.call("GET", f"/api/v1/task_instances/{n}") for n in range(3)]
    finally:
        server.close()
    assert got == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert len(set(server.request_ids)) == 3


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        WorkerHttp("ftp://host/", "", 1.0, lambda: SyncRequester("http://x"))
