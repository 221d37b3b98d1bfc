"""The Python API: Tool, TaskTemplate, Task, Array, Workflow, WorkflowStatus.

IHME Jobmon 3.6's names work here too: ``jobmon.client.__version__`` and, from
``jobmon.client.api``, everything Jobmon's ``api`` module exports.
"""

from __future__ import annotations

from typing import Any

from jobmon.client.array import Array
from jobmon.client.task import Task
from jobmon.client.task_template import TaskTemplate
from jobmon.client.tool import Tool
from jobmon.client.watch import WorkflowStatus
from jobmon.client.workflow import Workflow

__all__ = ["Array", "Task", "TaskTemplate", "Tool", "Workflow", "WorkflowStatus"]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read on demand: importlib.metadata costs ~20 ms
        import jobmon

        return jobmon.__version__
    if name in ("add_task_attributes", "task_status", "workflow_status", "workflow_tasks"):
        from jobmon.client import api

        return getattr(api, name)
    raise AttributeError(f"module 'jobmon.client' has no attribute {name!r}")
