"""Jobmon's self-service actions on a workflow: reset it, and the steps of a resume by id
(tell the old run to stop, see when it has, scale the resources of resource errors)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict

import asyncpg

from jobmon import errors, wire
from jobmon import resources as resource_rules
from jobmon import wire_operator as wo
from jobmon.server.counting import count_transitions
from jobmon.server.sql import QUERIES as Q
from jobmon.server.store import clusters, runs
from jobmon.server.store.errors import Conflict, NotFound
from jobmon.status import WORKFLOW, WorkflowRunStatus, WorkflowStatus

WRS = WorkflowRunStatus


async def _lock(connection: asyncpg.Connection, workflow_id: int) -> asyncpg.Record:
    workflow = await connection.fetchrow(Q["lock_workflow"], workflow_id)
    if workflow is None:
        raise NotFound(f"workflow {workflow_id}")
    return workflow


async def reset(connection: asyncpg.Connection, workflow_id: int, body: wo.ResetRequest,
                now: dt.datetime, user: str | None = None) -> wo.ResetResponse:
    """Jobmon's workflow_reset: allowed when the latest run ended in ERROR (E)."""
    async with connection.transaction():
        workflow = await _lock(connection, workflow_id)
        latest = await connection.fetchrow(Q["latest_run_of_workflow"], workflow_id)
        if latest is None or latest["status"] != WRS.ERROR:
            shown = ("it never ran" if latest is None else
                     f"its latest run {latest['id']} is {WRS(latest['status']).name} "
                     f"({latest['status']})")
            raise Conflict(
                errors.CODE_CONFLICT,
                f"workflow {workflow_id} was not reset: {shown}, and only a workflow whose "
                "latest run ended in ERROR (E) can be reset; to run tasks again, use "
                f"`jobmon update_task_status -w {workflow_id} -t ID ... -s G`",
            )
        context = {"request": "workflow reset", "partial": body.partial}
        count = await connection.fetchval(Q["reset_workflow_tasks"], workflow_id,
                                          body.partial, now, user, context)
        target = WorkflowStatus.REGISTERING
        moved = await connection.fetchval(Q["move_workflow_status"], workflow_id, str(target),
                                          now, WORKFLOW.allowed_from(target), "operator", user,
                                          "reset", {**context, "tasks": count})
        count_transitions("task", "G", count)
        if moved is None and count:
            await connection.execute(Q["record_workflow_action"], workflow_id, None, now,
                                     "operator", user, "reset", {**context, "tasks": count})
        else:
            count_transitions("workflow", str(target))
    return wo.ResetResponse(workflow_id=workflow_id, tasks_reset=count,
                            workflow_status=moved or workflow["status"])


async def _waiting_for(connection: asyncpg.Connection, workflow_id: int) -> list[wo.RunRef]:
    return [wo.RunRef(workflow_run_id=row["id"], status=row["status"], user=row["owner"])
            for row in await connection.fetch(Q["unfinished_runs"], workflow_id)]


async def signal_resume(connection: asyncpg.Connection, workflow_id: int,
                        body: wo.ResumeSignalRequest, now: dt.datetime,
                        user: str | None = None) -> wo.ResumeState:
    """Tell the workflow's live runs to stop (C: kill their instances; H: let them finish).

    The swarm of a run sees this at its next poll and ends the run (T); a swarm that is
    gone misses its heartbeat deadline and the reaper ends it.
    """
    takeover = WRS.COLD_RESUME if body.cold else WRS.HOT_RESUME
    async with connection.transaction():
        await _lock(connection, workflow_id)
        taken = await runs.take_over_runs(connection, workflow_id, takeover, now, "operator",
                                          user)
        context = {"request": "workflow resume", "cold": body.cold, "taken_over": taken}
        if body.cold:
            killed = await connection.fetch(Q["kill_workflow_instances"], workflow_id, now,
                                            "operator", now + runs.KILL_GRACE, user, context)
            count_transitions("task_instance", "K", len(killed))
            context["killed"] = len(killed)
        if taken or context.get("killed"):  # a retried signal changes nothing again
            await connection.execute(Q["record_workflow_action"], workflow_id, None, now,
                                     "operator", user, "resume", context)
        waiting = await _waiting_for(connection, workflow_id)
    return wo.ResumeState(workflow_id=workflow_id, resumable=not waiting, taken_over=taken,
                          waiting_for=waiting)


async def resume_state(connection: asyncpg.Connection, workflow_id: int) -> wo.ResumeState:
    if await connection.fetchval(Q["workflow_exists"], workflow_id) is None:
        raise NotFound(f"workflow {workflow_id}")
    waiting = await _waiting_for(connection, workflow_id)
    return wo.ResumeState(workflow_id=workflow_id, resumable=not waiting, taken_over=[],
                          waiting_for=waiting)


def _config_hash(config: wire.TaskConfig) -> str:
    # the hash binding gives shared settings (server/store/bind.py)
    return hashlib.sha256(wire.encode(config)).hexdigest()


async def increase_resources(connection: asyncpg.Connection,
                             workflow_id: int) -> wo.IncreasedResources:
    """Scale the resources of tasks whose last attempt hit a resource error, by their
    resource_scales, within their cluster's queues (a fallback queue when they outgrow
    theirs); the next attempt asks for them."""
    async with connection.transaction():
        workflow = await _lock(connection, workflow_id)
        rows = await connection.fetch(Q["resource_error_tasks"], workflow_id)
        queue_sets: dict[str, resource_rules.QueueSet] = {}
        configs: dict[str, wire.TaskConfig] = {}
        tasks_of: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            cluster = row["cluster_name"]
            if cluster not in queue_sets:
                # a per-user cluster's queues are those of the machine of the workflow's owner
                owner = workflow["owner"] if cluster in clusters.PER_USER_CLUSTERS else ""
                queue_sets[cluster] = _queue_set(await clusters.queues(connection, cluster,
                                                                       owner))
            queue_set = queue_sets[cluster]
            fallback = list(row["fallback_queues"])
            scaled = resource_rules.scale_resources(
                row["used_resources"], row["resource_scales"], max(1, row["resource_errors"]),
                queue_set.limits, fallback, queue_set.default)
            config = wire.TaskConfig(cluster_name=cluster, compute_resources=scaled,
                                     resource_scales=row["resource_scales"],
                                     fallback_queues=fallback, max_attempts=row["max_attempts"])
            key = _config_hash(config)
            configs[key] = config
            tasks_of[key].append(row["id"])
        if configs:
            hashes = list(configs)
            ids = dict(await connection.fetch(
                Q["upsert_configs"], workflow_id, hashes,
                [configs[key].cluster_name for key in hashes],
                [configs[key].compute_resources for key in hashes],
                [configs[key].resource_scales for key in hashes],
                [json.dumps(configs[key].fallback_queues) for key in hashes],
                [configs[key].max_attempts for key in hashes],
            ))
            task_ids = [task_id for key in hashes for task_id in tasks_of[key]]
            config_ids = [ids[key] for key in hashes for _ in tasks_of[key]]
            await connection.execute(Q["set_task_configs"], workflow_id, task_ids, config_ids)
    return wo.IncreasedResources(workflow_id=workflow_id,
                                 task_ids=sorted(row["id"] for row in rows))


def _queue_set(answer: wire.ClusterQueues) -> resource_rules.QueueSet:
    limits = {
        queue.name: resource_rules.QueueLimits(queue.name, queue.max_cores,
                                               queue.max_memory_mib, queue.max_runtime_seconds)
        for queue in answer.queues
    }
    default = next((queue.name for queue in answer.queues if queue.is_default), None)
    return resource_rules.QueueSet(limits, default)
