"""The production shape on one machine: PostgreSQL, two `jobmon server` processes behind
Debian's nginx (running deploy/production's own proxy settings), a distributor daemon, and
a 500-task workflow whose every client talks to nginx. One server is killed with SIGKILL
mid-run and started again; the workflow ends D, every task ran exactly once, and no client
saw an error: nginx answered no request with a 5xx, and no client had to retry one."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.fault_helpers import (
    assert_each_done_once,
    distributors_of,
    done_count,
    free_port,
    stop_process,
)
from tests.integration.helpers import ROOT, fetch, healthy, make_token, swarm_process, wait_until

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(150)]

NGINX_DIR = ROOT / "deploy" / "production" / "nginx"
TASKS = 500
# the upstream servers as deploy/production/nginx/jobmon.conf lists them
SHIPPED_SERVERS = ("127.0.0.1:8071", "127.0.0.1:8072")


def _nginx() -> str:
    found = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if found is None:
        reason = "nginx is not installed (Debian: apt-get install nginx)"
        if os.environ.get("JOBMON_REQUIRE_NGINX") == "1":
            pytest.fail(f"{reason}, and JOBMON_REQUIRE_NGINX=1 says this test must run")
        pytest.skip(reason)
    return found


def nginx_config(base: Path, listen_port: int, server_ports: list[int]) -> str:
    """nginx.conf for a private nginx: the shipped upstream block (with these ports) and
    the shipped proxy settings, included as they are."""
    site = (NGINX_DIR / "jobmon.conf").read_text()
    found = re.search(r"^upstream jobmon_servers \{.*?^\}", site, re.S | re.M)
    assert found, "no upstream block in deploy/production/nginx/jobmon.conf"
    upstream = found.group(0)
    for shipped, port in zip(SHIPPED_SERVERS, server_ports, strict=True):
        assert shipped in upstream, f"{shipped} is not in the shipped upstream block"
        upstream = upstream.replace(shipped, f"127.0.0.1:{port}")
    temp_paths = "\n".join(f"    {kind}_temp_path {base}/{kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # as root, nginx's workers would run as nobody, who cannot enter the test's directory
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""{user}
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log info;
events {{ worker_connections 1024; }}
http {{
    log_format jobmon '$msec $request_method $uri $status [$upstream_addr] [$upstream_status]';
    access_log {base}/access.log jobmon;
{temp_paths}
{upstream}
    server {{
        listen 127.0.0.1:{listen_port};
        location / {{
            include {NGINX_DIR}/jobmon-proxy.conf;
        }}
    }}
}}
"""


def _daemon_live(url: str, token: str) -> bool:
    request = urllib.request.Request(url + "/api/v1/distributors/local",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return bool(json.loads(response.read())["live"])


def _started(stack: contextlib.ExitStack, command: list[str], env: dict[str, str],
             log: Path) -> subprocess.Popen[bytes]:
    """A process in its own session, stopped by PID when ``stack`` closes."""
    with open(log, "ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=output, start_new_session=True)
    stack.callback(stop_process, process)
    return process


def _server(stack: contextlib.ExitStack, dsn: str, port: int, env: dict[str, str],
            log: Path) -> subprocess.Popen[bytes]:
    process = _started(stack, [sys.executable, "-m", "jobmon", "server", "--database-url", dsn,
                               "--host", "127.0.0.1", "--port", str(port), "--no-upgrade"],
                       env, log)
    wait_until(lambda: healthy(f"http://127.0.0.1:{port}"), 60,
               f"the server on port {port} (see {log})")
    return process


@contextlib.contextmanager
def _nginx_in_front(base: Path, server_ports: list[int]) -> Iterator[str]:
    nginx = _nginx()
    base.mkdir()
    port = free_port()
    (base / "nginx.conf").write_text(nginx_config(base, port, server_ports))
    with contextlib.ExitStack() as stack:
        process = _started(stack, [nginx, "-p", str(base), "-e", str(base / "error.log"),
                                   "-c", str(base / "nginx.conf"), "-g", "daemon off;"],
                           dict(os.environ), base / "stderr.log")
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: healthy(url) or process.poll() is not None, 30, "nginx")
        assert process.poll() is None, (base / "error.log").read_text()[-3000:]
        yield url


def _access_log(base: Path) -> list[tuple[float, str, str, int, str]]:
    """(time, method, path, status, upstream addresses) of each request nginx answered."""
    rows = []
    for line in (base / "access.log").read_text().splitlines():
        stamp, method, path, status, upstream = line.split(" ", 4)
        rows.append((float(stamp), method, path, int(status), upstream))
    return rows


def test_a_server_killed_behind_nginx_is_not_noticed_by_any_client(
    db_dsn: str, jobmon_env: Path, tmp_path: Path
) -> None:
    ports = [free_port(), free_port()]
    admin, user = make_token(db_dsn, "operator", admin=True), make_token(db_dsn, "alice")
    base_env = {**os.environ, "JOBMON__SERVER__AUTH": "token"}
    out = tmp_path / "out"
    out.mkdir()
    with contextlib.ExitStack() as stack:
        servers = [_server(stack, db_dsn, port, base_env, tmp_path / f"server-{port}.log")
                   for port in ports]
        url = stack.enter_context(_nginx_in_front(tmp_path / "nginx", ports))
        daemon_log = tmp_path / "daemon.log"
        _started(stack, [sys.executable, "-m", "jobmon", "--log-level", "INFO", "distributor",
                         "--cluster", "local"],
                 {**base_env, "JOBMON__HTTP__SERVICE_URL": url, "JOBMON__HTTP__TOKEN": admin,
                  "JOBMON__LOCAL__MAX_PARALLEL": "8"}, daemon_log)
        wait_until(lambda: _daemon_live(url, admin), 60, f"the daemon's lease (see {daemon_log})")
        swarm = stack.enter_context(swarm_process(
            "five_hundred", f"production-{time.time_ns()}", str(out),
            env={"JOBMON__HTTP__SERVICE_URL": url, "JOBMON__HTTP__TOKEN": user,
                 "JOBMON_TEST_SLEEP": "0.2"}))

        wait_until(lambda: done_count(out) >= 100, 60, "100 tasks done")
        assert distributors_of(swarm.pid) == [], "the daemon serves this run"
        servers[0].send_signal(signal.SIGKILL)
        servers[0].wait(10)
        killed_at = time.time()
        wait_until(lambda: done_count(out) >= 150, 60, "150 tasks done on one server")
        _server(stack, db_dsn, ports[0], base_env, tmp_path / f"server-{ports[0]}.log")
        restarted_at = time.time()
        swarm_out, swarm_err = swarm.communicate(timeout=90)

    assert "status=D" in swarm_out, swarm_err[-3000:]
    assert_each_done_once(out, tasks=TASKS)
    instances = fetch(db_dsn, "SELECT count(*) AS n, count(DISTINCT task_id) AS tasks, "
                              "array_agg(DISTINCT status) AS statuses FROM task_instance")[0]
    assert (instances["n"], instances["tasks"], instances["statuses"]) == (TASKS, TASKS, ["D"])

    requests = _access_log(tmp_path / "nginx")
    failed = [row for row in requests if row[3] >= 500]
    assert not failed, f"nginx answered {len(failed)} requests with an error: {failed[:5]}"
    for name, text in (("swarm", swarm_err), ("daemon", daemon_log.read_text())):
        retried = [line for line in text.splitlines() if "; retry " in line]
        assert not retried, f"the {name} had to retry: {retried[:5]}"
    # the kill was felt: requests that met the dead server went on to the other one
    first = f"127.0.0.1:{ports[0]}"
    failed_over = [row for row in requests if row[0] >= killed_at and "," in row[4]]
    assert failed_over, "no request met the killed server"
    # and the restarted server took its share again
    assert any(row[0] > restarted_at and first in row[4] for row in requests), \
        "the restarted server got no requests"


def test_the_shipped_site_configuration_is_valid_as_it_is(tmp_path: Path) -> None:
    """`nginx -t` on nginx/jobmon.conf with TLS, changed only where it names this host's
    paths and ports (a self-signed certificate stands in for the real one)."""
    nginx = _nginx()
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed to make a test certificate")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=jobmon.example.org", "-keyout", str(tmp_path / "privkey.pem"),
                    "-out", str(tmp_path / "fullchain.pem")],
                   capture_output=True, timeout=60, check=True)
    site = (NGINX_DIR / "jobmon.conf").read_text()
    for shipped, here in (("/etc/ssl/jobmon", str(tmp_path)),
                          ("/etc/nginx/jobmon-proxy.conf", str(NGINX_DIR / "jobmon-proxy.conf")),
                          ("listen 80;", f"listen 127.0.0.1:{free_port()};"),
                          ("listen 443 ssl;", f"listen 127.0.0.1:{free_port()} ssl;")):
        assert shipped in site, shipped
        site = site.replace(shipped, here)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (tmp_path / "site.conf").write_text(site)
    temp_paths = " ".join(f"{kind}_temp_path {tmp_path}/{kind};"
                          for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ access_log off; {temp_paths} include {tmp_path}/site.conf; }}\n")
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                              "-c", str(tmp_path / "nginx.conf")],
                             capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
