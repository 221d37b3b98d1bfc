"""Distributor daemons: the server's one-per-cluster lease, and a daemon serving every run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from jobmon import wire
from jobmon.client.tool import Tool
from jobmon.errors import ServerError
from jobmon.requester import Requester
from tests.integration.helpers import ROOT, wait_until
from tests.support import ServerThread

TOKEN_A = "a" * 32
TOKEN_B = "b" * 32


def _lease(token: str, pid: int, seconds: float = 30.0, takeover: int | None = None,
           host: str = "node-1") -> wire.LeaseRequest:
    return wire.LeaseRequest(token=token, hostname=host, process_id=pid, lease_seconds=seconds,
                             takeover_process_id=takeover)


def test_one_daemon_per_cluster_through_the_lease(server: ServerThread) -> None:
    async def scenario() -> None:
        async with Requester(server.url) as requester:
            path = "/api/v1/distributors/slurm"
            assert not (await requester.get(path, wire.DistributorStatus)).live
            taken = await requester.post(path + "/lease", _lease(TOKEN_A, 100),
                                         wire.DistributorStatus)
            assert taken.live and taken.process_id == 100 and taken.seconds_left > 25
            # renewals by the holder are fine; anyone else gets a 409 that names the holder
            await requester.post(path + "/lease", _lease(TOKEN_A, 100), wire.DistributorStatus)
            with pytest.raises(ServerError) as refused:
                await requester.post(path + "/lease", _lease(TOKEN_B, 200),
                                     wire.DistributorStatus)
            assert refused.value.status == 409
            assert "already has a distributor daemon: pid 100 on host node-1" in str(refused.value)
            # other clusters are independent
            await requester.post("/api/v1/distributors/local/lease", _lease(TOKEN_B, 200),
                                 wire.DistributorStatus)
            # a takeover names the dead holder; naming another process changes nothing
            with pytest.raises(ServerError):
                await requester.post(path + "/lease", _lease(TOKEN_B, 200, takeover=999),
                                     wire.DistributorStatus)
            moved = await requester.post(path + "/lease", _lease(TOKEN_B, 200, takeover=100),
                                         wire.DistributorStatus)
            assert moved.process_id == 200
            # the old holder's renewal now fails: it must stop
            with pytest.raises(ServerError):
                await requester.post(path + "/lease", _lease(TOKEN_A, 100),
                                     wire.DistributorStatus)
            # only the holder can release
            await requester.post(path + "/release", wire.LeaseRelease(token=TOKEN_A),
                                 wire.DistributorStatus)
            assert (await requester.get(path, wire.DistributorStatus)).live
            released = await requester.post(path + "/release", wire.LeaseRelease(token=TOKEN_B),
                                            wire.DistributorStatus)
            assert not released.live
            # an expired lease is free
            await requester.post(path + "/lease", _lease(TOKEN_A, 100, seconds=0.2),
                                 wire.DistributorStatus)
            await anyio.sleep(0.4)
            assert not (await requester.get(path, wire.DistributorStatus)).live
            await requester.post(path + "/lease", _lease(TOKEN_B, 300), wire.DistributorStatus)

    anyio.run(scenario)


def test_live_instances_are_listed_for_adoption_page_by_page(server: ServerThread) -> None:
    async def scenario() -> None:
        async with Requester(server.url) as requester:
            empty = await requester.get("/api/v1/distributors/slurm/instances",
                                        wire.LiveInstances, {"limit": 2})
            assert empty.task_instance_id == [] and empty.next_after_id is None
            with pytest.raises(ServerError) as missing:
                await requester.get("/api/v1/distributors/slurm/instances", wire.LiveInstances,
                                    {"workflow_run_id": 12345})
            assert missing.value.status == 404

    anyio.run(scenario)


def _daemon(log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "jobmon", "--log-level", "INFO", "distributor", "--cluster",
             "dummy"], cwd=ROOT, stdout=output, stderr=output, stdin=subprocess.DEVNULL,
            start_new_session=True)


def _live(server: ServerThread) -> bool:
    async def ask() -> bool:
        async with Requester(server.url) as requester:
            return (await requester.get("/api/v1/distributors/dummy",
                                        wire.DistributorStatus)).live

    return anyio.run(ask)


@pytest.mark.timeout(120)
def test_a_daemon_serves_runs_and_a_second_one_is_refused(
    server: ServerThread, tmp_path: Path
) -> None:
    first = _daemon(tmp_path / "daemon.log")
    try:
        wait_until(lambda: _live(server), 30, "the daemon's lease")
        tool = Tool(name="daemon")
        template = tool.get_task_template(template_name="t", command_template="true {n}",
                                          node_args=["n"], default_cluster_name="dummy")
        workflow = tool.create_workflow(name="daemon", workflow_args="daemon-1",
                                        default_cluster_name="dummy")
        workflow.add_tasks(template.create_tasks(n=list(range(20))))
        assert workflow.run(show_progress=False, seconds_until_timeout=60) == "D"
        # the run started no distributor of its own: the daemon claimed everything
        assert list((tmp_path / "data").rglob("distributor-*.log")) == []
        assert "stopped" not in (tmp_path / "daemon.log").read_text()

        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "jobmon", "distributor", "--cluster", "dummy"], cwd=ROOT,
            capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 1
        assert f"already has a distributor daemon: pid {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        assert time.monotonic() - started < 30
        assert first.poll() is None

        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
        assert not _live(server)  # released on the way out
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(30)
