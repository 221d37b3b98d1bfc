"""Rows with the columns of Jobmon's status commands, from the server's answers (pure).

The command line prints them and ``jobmon.client.status_commands`` turns them into
DataFrames, so both show the same columns: WF_ID, WF_STATUS, PENDING "2 (100.0%)", ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from jobmon import wire
from jobmon import wire_operator as wo
from jobmon.client.operator import TaskRow
from jobmon.status import TaskInstanceStatus, WorkflowStatus
from jobmon.status_groups import TASK_GROUPS, group_counts, group_of

WORKFLOW_COLUMNS = ("WF_ID", "WF_NAME", "WF_STATUS", "CREATED_DATE", "TASKS",
                    *TASK_GROUPS, "RETRIES")
TASK_COLUMNS = ("TASK_ID", "TASK_NAME", "STATUS", "RETRIES")
INSTANCE_COLUMNS = ("TASK_ID", "task_status", "TASK_INSTANCE_ID", "DISTRIBUTOR_ID", "STATUS",
                    "RESOURCE_USAGE", "STDOUT", "STDERR", "ERROR_TRACE")
PATH_COLUMNS = ("TASK_ID", "TASK_NAME", "ARRAY_NAME", "TASK_INSTANCE_ID", "OUTPUT_PATH",
                "ERROR_PATH")


def with_percent(part: int, whole: int) -> str:
    """As Jobmon shows a share of the tasks: "2 (66.7%)"."""
    share = round(100.0 * part / whole, 1) if whole else 0.0
    return f"{part} ({share}%)"


def retries(num_attempts: int) -> int:
    return max(num_attempts - 1, 0)


def workflow_rows(summaries: Iterable[wire.WorkflowSummary]) -> list[dict[str, Any]]:
    rows = []
    for summary in summaries:
        groups = group_counts(summary.counts)
        rows.append({
            "WF_ID": summary.workflow_id,
            "WF_NAME": summary.name,
            "WF_STATUS": WorkflowStatus(summary.status).name,
            "CREATED_DATE": dt.datetime.fromisoformat(summary.created_at),
            "TASKS": summary.num_tasks,
            **{group: with_percent(count, summary.num_tasks) for group, count in groups.items()},
            "RETRIES": summary.retries,
        })
    return rows


def task_rows(tasks: Iterable[TaskRow]) -> list[dict[str, Any]]:
    return [{"TASK_ID": task.task_id, "TASK_NAME": task.name, "STATUS": group_of(task.status),
             "RETRIES": retries(task.num_attempts)} for task in tasks]


def usage_text(instance: wire.InstanceDetail) -> str | None:
    """What an instance used: "wallclock=12.3s maxrss=123456789B"."""
    parts = []
    if instance.wallclock is not None:
        parts.append(f"wallclock={instance.wallclock:g}s")
    if instance.maxrss is not None:
        parts.append(f"maxrss={instance.maxrss}B")
    return " ".join(parts) or None


def instance_rows(details: Iterable[wire.TaskDetail],
                  letters: Iterable[str] = ()) -> list[dict[str, Any]]:
    """One row per instance of the tasks (only instances in ``letters``, if any)."""
    wanted = set(letters)
    return [
        {
            "TASK_ID": detail.task_id,
            "task_status": detail.status,
            "TASK_INSTANCE_ID": instance.task_instance_id,
            "DISTRIBUTOR_ID": instance.distributor_id,
            "STATUS": TaskInstanceStatus(instance.status).name,
            "RESOURCE_USAGE": usage_text(instance),
            "STDOUT": instance.stdout_path,
            "STDERR": instance.stderr_path,
            "ERROR_TRACE": instance.stderr_tail or instance.error_message,
        }
        for detail in details
        for instance in detail.instances
        if not wanted or instance.status in wanted
    ]


def path_rows(paths: wo.FilePaths) -> list[dict[str, Any]]:
    return [{"TASK_ID": path.task_id, "TASK_NAME": path.task_name,
             "ARRAY_NAME": path.array_name, "TASK_INSTANCE_ID": path.task_instance_id,
             "OUTPUT_PATH": path.stdout_path, "ERROR_PATH": path.stderr_path}
            for path in paths.paths]


def dependencies(answer: wire.TaskDependencies) -> dict[str, list[list[dict[str, Any]]]]:
    """Jobmon's shape: {"up": [[{"id", "status", "name"}], ...], "down": [...]}."""
    def listed(refs: list[wire.TaskRef]) -> list[list[dict[str, Any]]]:
        return [[{"id": ref.task_id, "status": ref.status, "name": ref.name}] for ref in refs]

    return {"up": listed(answer.upstream), "down": listed(answer.downstream)}
