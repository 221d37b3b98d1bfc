"""The errors of a workflow's tasks, in the shapes of Jobmon's ``get_errors``, and the
report a failed run prints (which tasks failed, why, and what to run next)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jobmon import endpoints, wire
from jobmon.requester import Requester

# Jobmon's Task.get_errors(): {"task_instance_id": ..., "error_log": [{...}]}
TaskErrorLog = dict[str, Any]
REPORTED_TASKS = 5  # a failed run names this many failed tasks, then "and N more"


@dataclass(frozen=True)
class TaskError:
    """The latest failed instance of one task."""

    task_id: int
    task_name: str
    task_status: str
    task_instance_id: int
    error_log_id: int | None
    error_time: str
    exit_code: int | None
    error_message: str | None
    stderr_tail: str | None

    @property
    def description(self) -> str:
        """What went wrong, as Jobmon's error log describes it: mostly the task's stderr."""
        parts = []
        if self.exit_code not in (None, 0):
            parts.append(f"exit code {self.exit_code}")
        if self.error_message:
            parts.append(self.error_message)
        if self.stderr_tail and self.stderr_tail.strip():
            parts.append(self.stderr_tail.rstrip())
        return "\n".join(parts)

    @property
    def last_line(self) -> str:
        """The last line of stderr, or else the error message: one line for a report."""
        if self.stderr_tail and self.stderr_tail.strip():
            return self.stderr_tail.strip().splitlines()[-1]
        return self.error_message or (f"exit code {self.exit_code}" if self.exit_code
                                      else "no error output")

    def as_jobmon(self) -> TaskErrorLog:
        return {
            "task_instance_id": self.task_instance_id,
            "error_log": [{
                "task_instance_error_log_id": self.error_log_id or self.task_instance_id,
                "error_time": self.error_time,
                "description": self.description,
            }],
        }


def _rows(answer: wire.TaskErrors) -> Iterator[TaskError]:
    for i, task_id in enumerate(answer.task_id):
        yield TaskError(
            task_id=task_id,
            task_name=answer.task_name[i],
            task_status=answer.task_status[i],
            task_instance_id=answer.task_instance_id[i],
            error_log_id=answer.error_log_id[i],
            error_time=answer.error_time[i],
            exit_code=answer.exit_code[i],
            error_message=answer.error_message[i],
            stderr_tail=answer.stderr_tail[i],
        )


async def workflow_errors(requester: Requester, workflow_id: int, limit: int | None = 1000,
                          fatal_only: bool = False) -> list[TaskError]:
    """The latest failed instance of each task of the workflow that has one."""
    answer = await requester.call(
        endpoints.WORKFLOW_ERRORS,
        params={"limit": wire.ALL_ERRORS if limit is None else limit,
                "fatal_only": str(fatal_only).lower()},
        workflow_id=workflow_id,
    )
    return list(_rows(answer))


async def task_error(requester: Requester, task_id: int) -> TaskError | None:
    answer = await requester.call(endpoints.TASK_ERRORS, task_id=task_id)
    return next(_rows(answer), None)


def failure_report(workflow_id: int, errors: list[TaskError], failed_count: int,
                   clusters: list[str]) -> list[str]:
    """Lines for a run that ended with failed tasks: why, and the commands to run next."""
    lines = [f"workflow {workflow_id}: {failed_count} task(s) failed; the last error of each:"]
    for error in errors[:REPORTED_TASKS]:
        lines.append(f"  task {error.task_id} ({error.task_name}): {error.last_line}")
    more = failed_count - min(len(errors), REPORTED_TASKS)
    if more > 0:
        lines.append(f"  ... and {more} more")
    cluster = clusters[0] if len(clusters) == 1 else "CLUSTER"
    lines.append(f"  all failed tasks: jobmon workflow_tasks -w {workflow_id} -s FATAL; "
                 "one task's errors: jobmon task_status -t TASK_ID")
    lines.append(f"  after fixing the cause, resume: run the script again with "
                 f"resume=True, or jobmon workflow_resume -w {workflow_id} -c {cluster}")
    return lines
