"""`jobmon worker`: runs one task instance on a cluster node and reports to the server."""

from __future__ import annotations

import logging
import os
import signal

import anyio
import msgspec

from jobmon import wire
from jobmon.distributor import execution
from jobmon.distributor.execution import Finished, InstancePaths, Running
from jobmon.distributor.oom import OomCounter
from jobmon.distributor.plugins import log_dir
from jobmon.requester import Requester
from jobmon.settings import Settings
from jobmon.status import TaskInstanceStatus

log = logging.getLogger(__name__)
TI = TaskInstanceStatus

# Instances in these statuses may start; anything else was killed or finished meanwhile.
_STARTABLE = {str(TI.INSTANTIATED), str(TI.LAUNCHED)}


def cluster_job_id() -> str | None:
    """This job's id as the cluster knows it ("123", or "123_4" for an array task)."""
    array_job = os.environ.get("SLURM_ARRAY_JOB_ID")
    array_task = os.environ.get("SLURM_ARRAY_TASK_ID")
    if array_job and array_task:
        return f"{array_job}_{array_task}"
    return os.environ.get("SLURM_JOB_ID")


async def _post(requester: Requester, update: wire.InstanceUpdate) -> str:
    answer = await requester.post(
        "/api/v1/task_instances/transitions",
        wire.TransitionsRequest(source="worker", updates=[update]),
        wire.TransitionsResponse,
    )
    return answer.results[0]


async def _heartbeat(requester: Requester, settings: Settings, running: Running) -> None:
    heartbeat = settings.heartbeat
    while True:
        await anyio.sleep(heartbeat.task_instance_interval)
        answer = await requester.post(
            "/api/v1/task_instances/heartbeat",
            wire.InstanceHeartbeatRequest(
                task_instance_ids=[running.instance.task_instance_id],
                next_report_seconds=heartbeat.task_instance_interval * heartbeat.report_by_buffer,
            ),
            wire.InstanceHeartbeatResponse,
        )
        if running.instance.task_instance_id in answer.kill:
            log.warning("the server asked this instance to stop: killing the command")
            running.kill_status = str(TI.ERROR_FATAL)
            running.kill_reason = "killed on request"
            execution.kill_group(running.pid, signal.SIGTERM)
            await anyio.sleep(2)
            execution.kill_group(running.pid, signal.SIGKILL)
            return


async def work(settings: Settings, task_instance_id: int) -> int:
    async with Requester.from_settings(settings) as requester:
        info = await requester.get(f"/api/v1/task_instances/{task_instance_id}",
                                   wire.InstanceInfo)
        if info.status not in _STARTABLE:
            log.warning("instance %d is %s: not starting it", task_instance_id, info.status)
            return 0
        paths = InstancePaths.under(log_dir(settings), info.workflow_id, task_instance_id)
        oom = OomCounter.for_this_process()
        running = execution.start(info, paths)
        heartbeat = settings.heartbeat
        result = await _post(requester, wire.InstanceUpdate(
            task_instance_id=task_instance_id,
            status=str(TI.RUNNING),
            distributor_id=cluster_job_id(),
            nodename=execution.NODENAME,
            process_id=running.pid,
            stdout_path=str(paths.stdout),
            stderr_path=str(paths.stderr),
            next_report_seconds=heartbeat.task_instance_interval * heartbeat.report_by_buffer,
        ))
        if result == "rejected":
            log.warning("instance %d may not run any more: killing the command",
                        task_instance_id)
            execution.kill_group(running.pid, signal.SIGKILL)
            await running.finished
            return 0
        async with anyio.create_task_group() as group:
            group.start_soon(_heartbeat, requester, settings, running)
            finished = await running.finished
            group.cancel_scope.cancel()
        update = execution.outcome_update(running, finished)
        if running.kill_status is None and _failed(finished) and oom.fired():
            update = msgspec.structs.replace(
                update, status=str(TI.RESOURCE_ERROR),
                error_message="out of memory: the kernel killed a process of the command for "
                              "exceeding its memory limit",
            )
        await _post(requester, update)
        if finished.exit_code is not None:
            return finished.exit_code
        return 128 + (finished.signal or 0)


def _failed(finished: Finished) -> bool:
    return finished.exit_code != 0 or finished.signal is not None


def run_worker(settings: Settings, task_instance_id: int) -> int:
    return anyio.run(work, settings, task_instance_id)
