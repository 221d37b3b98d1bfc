"""IHME Jobmon's ``jobmon.client.status_commands``: the functions behind its command line.

They return what Jobmon's return: pandas DataFrames with Jobmon's column names (or their
JSON text with ``json=True``), dictionaries and strings. Each is a blocking call to the
configured server. ``requester`` is accepted as Jobmon's functions accept it; the server
is always the one the configuration names (``jobmon config show``).
"""

from __future__ import annotations

import functools
import getpass
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from jobmon import errors
from jobmon import settings as settings_module
from jobmon.client import operator, status_tables, usage
from jobmon.client.blocking import call as _call
from jobmon.client.resume import ResumeOptions, resume_workflow
from jobmon.client.swarm.orchestrator import RunOutcome
from jobmon.status import TaskStatus, WorkflowStatus
from jobmon.status_groups import instance_statuses, task_statuses

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "concurrency_limit", "create_resource_yaml", "get_filepaths", "get_sub_task_tree",
    "get_task_dependencies", "resume_workflow_from_id", "task_status", "task_template_resources",
    "update_config_value", "update_task_status", "workflow_reset", "workflow_status",
    "workflow_tasks",
]
# Jobmon refuses to update more tasks than this at once
MAX_UPDATE = 10_000


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=list(columns))


def workflow_status(workflow_id: Iterable[int] | int | None = None,
                    user: Iterable[str] | str | None = None, json: bool = False,
                    limit: int | None = 5, requester: object = None) -> Any:
    """Tasks of workflows by status (PENDING, SCHEDULED, RUNNING, DONE, FATAL) with their
    share, newest workflow first: the given ones, else the newest ``limit`` of ``user``
    (default: you). A DataFrame, or its JSON text with ``json=True``."""
    ids = [workflow_id] if isinstance(workflow_id, int) else list(workflow_id or [])
    users = [user] if isinstance(user, str) else list(user or [])
    summaries = _call(_list_workflows, ids, users or [getpass.getuser()], limit or 5)
    frame = _frame(status_tables.workflow_rows(summaries), status_tables.WORKFLOW_COLUMNS)
    if frame.empty:
        return frame.to_json() if json else frame
    import pandas as pd

    created = pd.to_datetime(frame["CREATED_DATE"], utc=True).dt.tz_localize(None)
    if json:  # CREATED_DATE in milliseconds since the epoch, as Jobmon's JSON has it
        epoch_ms = (created - pd.Timestamp(0)) // pd.Timedelta(milliseconds=1)
        return frame.assign(CREATED_DATE=epoch_ms).to_json()
    return frame.assign(CREATED_DATE=created)


async def _list_workflows(settings: settings_module.Settings, ids: list[int], users: list[str],
                          limit: int) -> list[Any]:
    if ids:
        return await operator.list_workflows(settings, workflow_ids=ids)
    return await operator.list_workflows(settings, users=users, limit=limit)


def workflow_tasks(workflow_id: int, status: Iterable[str] | None = None, json: bool = False,
                   limit: int = 5, requester: object = None) -> Any:
    """The newest ``limit`` tasks of a workflow (optionally only in some of PENDING,
    SCHEDULED, RUNNING, DONE, FATAL): TASK_ID, TASK_NAME, STATUS, RETRIES."""
    letters = task_statuses(status or [])
    rows = _call(operator.workflow_tasks, int(workflow_id), letters, int(limit))
    frame = _frame(status_tables.task_rows(rows), status_tables.TASK_COLUMNS)
    return frame.to_json() if json else frame


def task_status(task_ids: Iterable[int], status: Iterable[str] | None = None,
                json: bool = False, requester: object = None) -> Any:
    """One row per instance of the tasks (optionally only instances in some of PENDING,
    RUNNING, DONE, FATAL): its status, job id, usage, log paths and error."""
    letters = instance_statuses(status or [])
    details = _call(operator.task_details, [int(task_id) for task_id in task_ids])
    frame = _frame(status_tables.instance_rows(details, letters),
                   status_tables.INSTANCE_COLUMNS)
    return frame.to_json() if json else frame


def task_template_resources(task_template_version: int, workflows: list[int] | None = None,
                            node_args: dict[str, Any] | None = None, ci: float | None = None,
                            requester: object = None) -> dict[str, Any]:
    """What the finished instances of a task template version used (optionally only in
    some workflows, or of tasks with some node arg values): Jobmon's dictionary of
    num_tasks, min/max/mean/median memory ("123B") and runtime (seconds), and ci_mem and
    ci_runtime at confidence ``ci``."""
    import json as json_module

    found = _call(usage.template_usage, int(task_template_version), workflows or [],
                  json_module.dumps(node_args) if node_args else "", ci)
    return usage.jobmon_stats(found)


def concurrency_limit(workflow_id: int, max_tasks: int, requester: object = None) -> str:
    """Change how many tasks of a (running) workflow may run at once."""
    answer = _call(operator.set_concurrency, int(workflow_id), int(max_tasks))
    return concurrency_message(answer.workflow_id, answer.max_concurrently_running)


def concurrency_message(workflow_id: int, limit: int) -> str:
    return f"Workflow ID {workflow_id} max concurrently running updated to {limit}"


def update_task_status(task_ids: list[int], workflow_id: int, new_status: str,
                       force: bool = False, recursive: bool = False,
                       requester: object = None) -> dict[str, Any]:
    """Mark tasks DONE ("D"; with ``recursive`` everything upstream too), or set them and
    everything downstream to REGISTERING ("G") so that a resume runs them again. The
    workflow must not be running. ``force`` is accepted as Jobmon accepts it."""
    if new_status not in (TaskStatus.DONE, TaskStatus.REGISTERING):
        raise ValueError(f"new_status must be 'D' (DONE) or 'G' (REGISTERING), not "
                         f"{new_status!r}")
    ids = sorted({int(task_id) for task_id in task_ids})
    if len(ids) > MAX_UPDATE:
        raise ValueError(f"There are too many tasks ({len(ids)}) requested for the update "
                         f"(at most {MAX_UPDATE}). Request denied.")
    answer = _call(operator.update_tasks, int(workflow_id), ids, new_status, False, recursive)
    return {"message": f"updated to status {new_status}", "task_ids": answer.task_ids,
            "workflow_status": answer.workflow_status}


def get_sub_task_tree(task_ids: list[int], task_status: list[str] | None = None,
                      requester: object = None) -> dict[str, list[str]]:
    """The tasks and everything downstream of them (only those in ``task_status`` letters,
    if given): {"task_id": [status, name]}."""
    tree = _call(operator.task_subtree, [int(task_id) for task_id in task_ids],
                 task_status or [])
    return {str(task_id): [status, name]
            for task_id, status, name in zip(tree.task_id, tree.status, tree.name, strict=True)}


def get_task_dependencies(task_id: int, requester: object = None) -> dict[str, Any]:
    """{"up": [[{"id", "status", "name"}], ...], "down": [...]}: the task's neighbours."""
    return status_tables.dependencies(_call(operator.task_dependencies, int(task_id)))


def workflow_reset(workflow_id: int, partial_reset: bool = False,
                   requester: object = None) -> str:
    """Every task back to REGISTERING (DONE ones kept with ``partial_reset``), when the
    workflow's latest run ended in ERROR; the answer says whether it was reset and why."""
    try:
        _call(operator.reset_workflow, int(workflow_id), partial_reset)
    except errors.ServerError as error:
        if error.status != 409:
            raise
        return error.message
    return reset_message(int(workflow_id))


def reset_message(workflow_id: int) -> str:
    return f"Workflow {workflow_id} has been reset."


def create_resource_yaml(wfid: int | None, tid: int | None, v_mem: str = "avg",
                         v_core: str = "avg", v_runtime: str = "max",
                         clusters: list[str] | None = None,
                         requester: object = None) -> str:
    """Suggested requests for the templates of workflow ``wfid`` (or of task ``tid``), from
    what their finished instances used: memory (avg, min or max), cores, runtime, queue."""
    if (wfid is None) == (tid is None):
        raise ValueError("Please provide a value for either -w or -t but not both.")
    found = _call(functools.partial(
        usage.template_resources, workflow_ids=[wfid] if wfid is not None else [],
        task_id=tid))
    return usage.resource_yaml(found, clusters if clusters is not None else ["slurm"],
                               v_mem, v_core, v_runtime)


def get_filepaths(workflow_id: int, array_name: str = "", job_name: str = "", limit: int = 5,
                  requester: object = None) -> list[dict[str, Any]]:
    """Where the instances of a workflow's tasks wrote stdout (OUTPUT_PATH) and stderr
    (ERROR_PATH), optionally of one array or one task name."""
    paths = _call(operator.file_paths, int(workflow_id), array_name, job_name, int(limit))
    return status_tables.path_rows(paths)


def resume_workflow_from_id(workflow_id: int, cluster_name: str,
                            reset_if_running: bool = True, log: bool = True,
                            timeout: int = 180, seconds_until_timeout: int = 36000,
                            increase_resource: bool = True) -> None:
    """Resume a workflow from the database; raises WorkflowRunStateError unless the resumed
    run ends DONE."""
    outcome: RunOutcome = _call(resume_workflow, int(workflow_id), ResumeOptions(
        cluster_name=cluster_name, cold=reset_if_running, timeout=float(timeout),
        seconds_until_timeout=float(seconds_until_timeout),
        increase_resource=increase_resource, show_progress=log))
    if outcome.status != WorkflowStatus.DONE:
        raise errors.WorkflowRunStateError(
            f"Workflow {workflow_id} did not resume to completion: it is "
            f"{WorkflowStatus(outcome.status).name} ({outcome.message})")
    print(f"Workflow {workflow_id} has successfully resumed to completion.")  # noqa: T201


def update_config_value(key: str, value: str, config_file: str | None = None) -> str:
    """Set ``section.key`` in the configuration file (Jobmon's names are mapped onto ours
    where one exists); ValueError for a key that does not exist here."""
    from jobmon.config_file import update_setting

    return update_setting(key, value, config_file)
