"""`jobmon worker`: runs one task instance on a cluster node and reports to the server.

A cluster job starts this in a fresh interpreter for every task, so its imports are paid
once per task on the node's CPUs: it imports the standard library's lighter modules and
the rules it shares with the local distributor (jobmon.distributor.execution), no msgspec,
http.client, logging or threads (a run that meets an error loads what reports it). The job
script runs ``python -m jobmon.distributor.worker`` (``main`` below) with the settings the
worker needs on its command line (``WorkerSettings.arguments``), so it reads no
configuration; ``jobmon worker`` does the same work for people who type it.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
import types

from jobmon import worker_routes
from jobmon.distributor import execution, process_tree
from jobmon.distributor.execution import Finished, InstancePaths, Started
from jobmon.distributor.oom import OomCounter
from jobmon.distributor.worker_http import WorkerHttp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from jobmon.settings import Settings
    from jobmon.sync_requester import SyncRequester

# Statuses of jobmon.status.TaskInstanceStatus, written out: that module's imports (typing,
# dataclasses) would cost every job more than these letters (tests/unit/test_worker_settings
# holds them to it). Instances in STARTABLE may start (INSTANTIATED, LAUNCHED); anything
# else was killed or finished meanwhile.
STARTABLE = frozenset({"I", "O"})
RUNNING = "R"
ERROR_FATAL = "F"
RESOURCE_ERROR = "Z"
# How long a command asked to stop may take after SIGTERM before it gets SIGKILL.
TERM_GRACE = 2.0


def say(level: str, message: str) -> None:
    """One line on stderr (the job's error file), as the logging setup of `jobmon` writes."""
    sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {level} "
                     f"jobmon.distributor.worker: {message}\n")


class WorkerSettings:
    """What a worker needs of the configuration: given on its command line by the job
    script (the distributor's own, resolved), or read from it by ``from_settings``."""

    __slots__ = (
        "deadline",
        "heartbeat_interval",
        "log_dir",
        "request_timeout",
        "service_url",
        "token",
    )

    # (option, attribute): the job script's command line
    OPTIONS = (("--service-url", "service_url"),
               ("--request-timeout", "request_timeout"),
               ("--heartbeat-interval", "heartbeat_interval"),
               ("--report-deadline", "deadline"),
               ("--log-dir", "log_dir"))

    def __init__(self, service_url: str, token: str, request_timeout: float,
                 heartbeat_interval: float, deadline: float, log_dir: str) -> None:
        self.service_url = service_url
        self.token = token
        self.request_timeout = request_timeout
        self.heartbeat_interval = heartbeat_interval
        self.deadline = deadline  # seconds an instance may go without a report
        self.log_dir = log_dir

    @classmethod
    def from_settings(cls, settings: Settings,
                      log_dir: str | os.PathLike[str] | None = None) -> WorkerSettings:
        """The configuration's (``log_dir``: the distributor plugin's, when it has one)."""
        if log_dir is None:
            from jobmon.distributor.plugins import log_dir as configured_log_dir

            log_dir = configured_log_dir(settings)
        return cls(settings.http.service_url, settings.http.token,
                   settings.http.request_timeout, settings.heartbeat.task_instance_interval,
                   settings.heartbeat.instance_deadline, os.fspath(log_dir))

    def arguments(self) -> list[str]:
        """The command-line options that give these settings (not the token: the job
        script exports it, one per instance, as JOBMON__HTTP__TOKEN)."""
        return [part for option, attribute in self.OPTIONS
                for part in (option, str(getattr(self, attribute)))]


def full_client() -> SyncRequester:
    """The blocking client of jobmon.sync_requester, with the configured retries: the
    worker's requests go through it once one of them failed or was refused."""
    from jobmon import settings as settings_module
    from jobmon.sync_requester import SyncRequester

    return SyncRequester.from_settings(settings_module.get())


def _inputs(http: WorkerHttp, info: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The outputs of the instance's upstream tasks by name, and the finished runs its
    workflow takes as input, in one request (its credential reads no other instance's);
    (None, None) when it has neither."""
    if not info.has_upstream and not info.has_runs:
        return None, None
    answer = http.call("POST", worker_routes.INPUTS,
                       {"task_instance_ids": [info.task_instance_id]})
    instances = answer.get("instances") or []
    inputs = (instances[0].get("inputs") or {}) if instances else {}
    runs = (answer.get("runs") or {}).get(str(info.workflow_id), {})
    return (inputs if info.has_upstream else None), runs


def _report(http: WorkerHttp, update: dict[str, Any]) -> str:
    answer = http.call("POST", worker_routes.TRANSITIONS,
                       {"source": "worker", "updates": [update]})
    return str(answer["results"][0])


class _Command:
    """The running command, watched without a thread: its pidfd, the heartbeat's times and
    the signals this worker received all wake one ``poll``."""

    def __init__(self, started: Started) -> None:
        self.started = started
        self.received: int | None = None  # a signal asking this worker to stop
        self.kill_at: float | None = None  # when SIGKILL follows a SIGTERM
        self._wakeup_read, self._wakeup_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def stop(self) -> None:
        """SIGTERM to the command's group now, SIGKILL after the grace."""
        execution.kill_group(self.started.pid, signal.SIGTERM)
        if self.kill_at is None:
            self.kill_at = time.monotonic() + TERM_GRACE

    def install_signals(self) -> None:
        """A signal asking this worker to stop is passed on to the command's own session.

        The command runs in a session of its own, so a cluster that signals only the job's
        process group (proctrack/pgid) or a Ctrl-C would otherwise leave it running. The
        worker reports nothing after such a signal: the cluster knows why it sent it (a
        time limit, a cancel), and the distributor reads that from the cluster; a worker
        without a cluster is judged by the reaper.
        """
        try:
            signal.set_wakeup_fd(self._wakeup_write, warn_on_full_buffer=False)
        except ValueError:  # not the main thread (a worker run from a test's thread)
            return
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.received is None:
            self.received = signum
            say("WARNING", f"received {signal.Signals(signum).name}: stopping the command")
            self.stop()

    def wait(self, http: WorkerHttp, settings: WorkerSettings) -> Finished:
        """Until the command exits: heartbeats, and a stop when the server asks for one."""
        instance_id = self.started.instance.task_instance_id
        poller = select.poll()
        poller.register(self._wakeup_read, select.POLLIN)
        pidfd: int | None = None
        try:
            pidfd = os.pidfd_open(self.started.pid)
            poller.register(pidfd, select.POLLIN)
        except (AttributeError, OSError):  # (not Linux): the exit is polled for below
            pass
        next_beat = time.monotonic() + settings.heartbeat_interval
        try:
            while True:
                now = time.monotonic()
                if self.kill_at is not None and now >= self.kill_at:
                    execution.kill_group(self.started.pid, signal.SIGKILL)
                    self.kill_at = float("inf")
                if now >= next_beat:
                    next_beat = now + settings.heartbeat_interval
                    self._beat(http, settings, instance_id)
                wake = min(next_beat, self.kill_at or next_beat)
                timeout = max(0.0, wake - time.monotonic())
                if pidfd is None:
                    timeout = min(timeout, 0.1)
                ready = poller.poll(timeout * 1000)
                for fd, _ in ready:
                    if fd == self._wakeup_read:
                        os.read(self._wakeup_read, 512)
                if self._ended(pidfd, ready):
                    return execution.wait(self.started)  # its group is killed, it is reaped
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _ended(self, pidfd: int | None, ready: list[tuple[int, int]]) -> bool:
        if pidfd is not None:
            return any(fd == pidfd for fd, _ in ready)
        return os.waitid(os.P_PID, self.started.pid,
                         os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

    def _beat(self, http: WorkerHttp, settings: WorkerSettings, instance_id: int) -> None:
        """Push the deadline out; stop the command if the server says so."""
        try:
            answer = http.call("POST", worker_routes.INSTANCE_HEARTBEAT, {
                "task_instance_ids": [instance_id],
                "next_report_seconds": settings.deadline,
            })
        except Exception as error:  # the command goes on; the reaper judges a silent one
            say("ERROR", f"heartbeat of instance {instance_id} failed: {error}")
            return
        if instance_id in answer.get("kill", ()) and self.kill_at is None:
            say("WARNING", "the server asked this instance to stop: killing the command")
            self.started.kill_status = ERROR_FATAL
            self.started.kill_reason = "killed on request"
            self.stop()


def run_worker(settings: Settings | WorkerSettings, task_instance_id: int) -> int:
    """Run one instance: start its command, report RUNNING, heartbeat, report the end."""
    if not isinstance(settings, WorkerSettings):
        settings = WorkerSettings.from_settings(settings)
    with WorkerHttp(settings.service_url, settings.token, settings.request_timeout,
                    full_client) as http:
        info = types.SimpleNamespace(**http.call(
            "GET", worker_routes.INSTANCE.format(task_instance_id=task_instance_id)))
        if info.status not in STARTABLE:
            say("WARNING", f"instance {task_instance_id} is {info.status}: not starting it")
            return 0
        job_id = cluster_job_id()
        paths = execution.with_logs(
            InstancePaths.under(settings.log_dir, info.workflow_id, task_instance_id),
            info, job_id or str(task_instance_id), settings.log_dir)
        inputs, runs = _inputs(http, info)
        oom = OomCounter.for_this_process()
        # what the command leaves running when it exits comes to us, to end with it
        process_tree.become_subreaper()
        started = execution.spawn(info, paths, info.launch_token, inputs, runs)
        command = _Command(started)
        command.install_signals()
        result = _report(http, {
            "task_instance_id": task_instance_id, "status": RUNNING, "distributor_id": job_id,
            "nodename": execution.NODENAME, "process_id": started.pid,
            "stdout_path": paths.stdout, "stderr_path": paths.stderr,
            "next_report_seconds": settings.deadline,
        })
        if result == "rejected":
            say("WARNING", f"instance {task_instance_id} may not run any more: "
                           "killing the command")
            execution.kill_group(started.pid, signal.SIGKILL)
            execution.wait(started)
            return 0
        finished = command.wait(http, settings)
        _end_left_behind()
        if command.received is not None:
            return 128 + command.received
        update = execution.outcome(started, finished)
        if started.kill_status is None and _failed(finished) and oom.fired():
            update.update(status=RESOURCE_ERROR, error_message=(
                "out of memory: the kernel killed a process of the command for exceeding "
                "its memory limit"))
        _report(http, update)
        if finished.exit_code is not None:
            return finished.exit_code
        return 128 + (finished.signal or 0)


def cluster_job_id() -> str | None:
    """This job's id as the cluster knows it ("123", or "123_4" for an array task)."""
    array_job = os.environ.get("SLURM_ARRAY_JOB_ID")
    array_task = os.environ.get("SLURM_ARRAY_TASK_ID")
    if array_job and array_task:
        return f"{array_job}_{array_task}"
    return os.environ.get("SLURM_JOB_ID")


def _end_left_behind() -> None:
    """End what the command left running in sessions of its own: it came to us (a
    subreaper) when its parent exited, as a cluster ends every process of a job."""
    left = process_tree.children(os.getpid())
    for pid in left:
        process_tree.kill_tree(pid)
    for _ in range(100):  # SIGKILL takes effect within moments (unless it may not kill)
        process_tree.reap(left)
        left = process_tree.children(os.getpid())
        if not left:
            return
        time.sleep(0.02)


def _failed(finished: Finished) -> bool:
    return finished.exit_code != 0 or finished.signal is not None


USAGE = "usage: python -m jobmon.distributor.worker --task-instance-id ID [settings]"


def parse_arguments(argv: list[str]) -> tuple[int, dict[str, str]]:
    """The id from ``--task-instance-id ID`` (or ``=ID``, or IHME's underscores), and the
    settings the job script gives (``WorkerSettings.OPTIONS``) by option."""
    given: dict[str, str] = {}
    position = 0
    while position < len(argv):
        name, equals, value = argv[position].partition("=")
        if not equals:
            value = argv[position + 1] if position + 1 < len(argv) else ""
            position += 1
        position += 1
        given[name.replace("_", "-")] = value
    if "--task-instance-id" not in given:
        raise ValueError(f"missing --task-instance-id; {USAGE}")
    known = {"--task-instance-id", *(option for option, _ in WorkerSettings.OPTIONS)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown option {unknown[0]}; {USAGE}")
    value = given.pop("--task-instance-id")
    try:
        return int(value), given
    except ValueError:
        raise ValueError(f"--task-instance-id: {value!r} is not an integer; {USAGE}") from None


def _settings(given: dict[str, str]) -> WorkerSettings:
    """The job script's settings, or (without them: a worker started by hand) the
    configuration's."""
    if not given:
        from jobmon import settings as settings_module

        return WorkerSettings.from_settings(settings_module.get())
    missing = [option for option, _ in WorkerSettings.OPTIONS if option not in given]
    if missing:
        raise ValueError(f"missing {missing[0]} (the job script gives every setting or none); "
                         f"{USAGE}")

    def number(option: str) -> float:
        try:
            return float(given[option])
        except ValueError:
            raise ValueError(f"{option}: {given[option]!r} is not a number") from None

    return WorkerSettings(
        given["--service-url"], os.environ.get("JOBMON__HTTP__TOKEN", ""),
        number("--request-timeout"), number("--heartbeat-interval"),
        number("--report-deadline"), given["--log-dir"])


def main(argv: list[str] | None = None) -> int:
    """The job script's entry point: what `jobmon worker` does, without the CLI's imports."""
    try:
        task_instance_id, given = parse_arguments(sys.argv[1:] if argv is None else argv)
        return run_worker(_settings(given), task_instance_id)
    except Exception as error:
        from jobmon.errors import JobmonError

        # failures that are one line on stderr and exit code 1, never a traceback (as `jobmon`)
        if not isinstance(error, (JobmonError, OSError, ValueError)):
            raise
        lines = str(error).strip().splitlines()
        sys.stderr.write(f"Error: {lines[0] if lines else type(error).__name__}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
