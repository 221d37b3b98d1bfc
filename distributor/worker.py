"""`jobmon worker`: runs one task instance on a cluster node and reports to the server.

A cluster job starts this in a fresh interpreter for every task, so its imports are paid
once per task on the node's CPUs. The job script runs ``python -m jobmon.distributor.worker``
(``main`` below), which skips the `jobmon` command's click and CLI modules; ``jobmon worker``
does the same work for people who type it.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from typing import Any

import msgspec

from jobmon import endpoints, wire
from jobmon import settings as settings_module
from jobmon import wire_results as wr
from jobmon.distributor import execution, process_tree
from jobmon.distributor.execution import Finished, InstancePaths, Started
from jobmon.distributor.oom import OomCounter
from jobmon.distributor.plugins import log_dir
from jobmon.errors import JobmonError
from jobmon.settings import Settings
from jobmon.status import TaskInstanceStatus
from jobmon.sync_requester import SyncRequester

log = logging.getLogger(__name__)
TIS = TaskInstanceStatus

# Instances in these statuses may start; anything else was killed or finished meanwhile.
_STARTABLE = {str(TIS.INSTANTIATED), str(TIS.LAUNCHED)}
# How long a command asked to stop may take after SIGTERM before it gets SIGKILL.
TERM_GRACE = 2.0


def cluster_job_id() -> str | None:
    """This job's id as the cluster knows it ("123", or "123_4" for an array task)."""
    array_job = os.environ.get("SLURM_ARRAY_JOB_ID")
    array_task = os.environ.get("SLURM_ARRAY_TASK_ID")
    if array_job and array_task:
        return f"{array_job}_{array_task}"
    return os.environ.get("SLURM_JOB_ID")


def _post(requester: SyncRequester, update: wire.InstanceUpdate) -> str:
    answer = requester.call(
        endpoints.TRANSITIONS,
        wire.TransitionsRequest(source="worker", updates=[update]),
    )
    return answer.results[0]


def _inputs(requester: SyncRequester, info: wire.InstanceInfo
            ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The outputs of the instance's upstream tasks by name, and the finished runs its
    workflow takes as input, in one request (its credential reads no other instance's);
    (None, None) when it has neither."""
    if not info.has_upstream and not info.has_runs:
        return None, None
    answer = requester.call(endpoints.INPUTS,
                            wr.InputsRequest(task_instance_ids=[info.task_instance_id]))
    inputs = answer.instances[0].inputs if answer.instances else {}
    return (inputs if info.has_upstream else None), answer.runs.get(info.workflow_id, {})


def _heartbeat(requester: SyncRequester, settings: Settings, command: Started,
               done: threading.Event) -> None:
    """Until ``done``: push the deadline out; stop the command if the server says so."""
    heartbeat = settings.heartbeat
    instance_id = command.instance.task_instance_id
    while not done.wait(heartbeat.task_instance_interval):
        try:
            answer = requester.call(
                endpoints.INSTANCE_HEARTBEAT,
                wire.InstanceHeartbeatRequest(
                    task_instance_ids=[instance_id],
                    next_report_seconds=heartbeat.instance_deadline,
                ),
            )
        except Exception:  # the command goes on; the reaper judges a silent instance
            log.exception("heartbeat of instance %d failed", instance_id)
            continue
        if instance_id in answer.kill and not done.is_set():
            log.warning("the server asked this instance to stop: killing the command")
            command.kill_status = str(TIS.ERROR_FATAL)
            command.kill_reason = "killed on request"
            _stop(command)
            return


def _stop(command: Started) -> None:
    """SIGTERM to the command's group now, SIGKILL after the grace (without waiting here)."""
    execution.kill_group(command.pid, signal.SIGTERM)
    follow_up = threading.Timer(TERM_GRACE, execution.kill_group,
                                (command.pid, signal.SIGKILL))
    follow_up.daemon = True
    follow_up.start()


class _Termination:
    """A signal asking this worker to stop, passed on to the command's own session.

    The command runs in a session of its own, so a cluster that signals only the job's
    process group (proctrack/pgid) or a Ctrl-C would otherwise leave it running. The worker
    reports nothing after such a signal: the cluster knows why it sent it (a time limit, a
    cancel), and the distributor reads that from the cluster; a worker without a cluster is
    judged by the reaper.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

    def __init__(self, command: Started) -> None:
        self.command = command
        self.received: int | None = None

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.received is not None:
            return
        self.received = signum
        log.warning("received %s: stopping the command", signal.Signals(signum).name)
        _stop(self.command)


def run_worker(settings: Settings, task_instance_id: int) -> int:
    """Run one instance: start its command, report RUNNING, heartbeat, report the end."""
    with SyncRequester.from_settings(settings) as requester:
        info = requester.call(endpoints.INSTANCE, task_instance_id=task_instance_id)
        if info.status not in _STARTABLE:
            log.warning("instance %d is %s: not starting it", task_instance_id, info.status)
            return 0
        root = log_dir(settings)
        paths = execution.with_logs(InstancePaths.under(root, info.workflow_id, task_instance_id),
                                    info, cluster_job_id() or str(task_instance_id), root)
        inputs, runs = _inputs(requester, info)
        oom = OomCounter.for_this_process()
        # what the command leaves running when it exits comes to us, to end with it
        process_tree.become_subreaper()
        command = execution.spawn(info, paths, info.launch_token, inputs, runs)
        termination = _Termination(command)
        termination.install()
        heartbeat = settings.heartbeat
        result = _post(requester, wire.InstanceUpdate(
            task_instance_id=task_instance_id,
            status=str(TIS.RUNNING),
            distributor_id=cluster_job_id(),
            nodename=execution.NODENAME,
            process_id=command.pid,
            stdout_path=str(paths.stdout),
            stderr_path=str(paths.stderr),
            next_report_seconds=heartbeat.instance_deadline,
        ))
        if result == "rejected":
            log.warning("instance %d may not run any more: killing the command",
                        task_instance_id)
            execution.kill_group(command.pid, signal.SIGKILL)
            execution.wait(command)
            return 0
        done = threading.Event()
        beating = threading.Thread(target=_heartbeat, args=(requester, settings, command, done),
                                   name="heartbeat", daemon=True)
        beating.start()
        try:
            finished = execution.wait(command)  # what is left in its group is killed
        finally:
            done.set()
        _end_left_behind()
        if termination.received is not None:
            return 128 + termination.received
        update = execution.outcome_update(command, finished)
        if command.kill_status is None and _failed(finished) and oom.fired():
            update = msgspec.structs.replace(
                update, status=str(TIS.RESOURCE_ERROR),
                error_message="out of memory: the kernel killed a process of the command for "
                              "exceeding its memory limit",
            )
        _post(requester, update)
        if finished.exit_code is not None:
            return finished.exit_code
        return 128 + (finished.signal or 0)


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



USAGE = "usage: python -m jobmon.distributor.worker --task-instance-id ID"
# Failures that are one line on stderr and exit code 1, never a traceback (as `jobmon`).
EXPECTED = (JobmonError, OSError, ValueError)


def parse_instance_id(argv: list[str]) -> int:
    """The id from ``--task-instance-id ID`` (or ``=ID``, or IHME's underscores)."""
    names = ("--task-instance-id", "--task_instance_id")
    for position, argument in enumerate(argv):
        name, equals, value = argument.partition("=")
        if name in names:
            if not equals:
                value = argv[position + 1] if position + 1 < len(argv) else ""
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"--task-instance-id: {value!r} is not an integer; "
                                 f"{USAGE}") from None
    raise ValueError(f"missing --task-instance-id; {USAGE}")


def main(argv: list[str] | None = None) -> int:
    """The job script's entry point: what `jobmon worker` does, without the CLI's imports."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        task_instance_id = parse_instance_id(sys.argv[1:] if argv is None else argv)
        return run_worker(settings_module.get(), task_instance_id)
    except EXPECTED as error:
        lines = str(error).strip().splitlines()
        sys.stderr.write(f"Error: {lines[0] if lines else type(error).__name__}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
