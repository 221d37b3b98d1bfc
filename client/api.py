"""IHME Jobmon 3.6's ``jobmon.client.api``: the names a Jobmon script imports from it.

``from jobmon.client.api import Tool`` is how Jobmon's examples start. The status functions
(``workflow_status``, ``workflow_tasks``, ``task_status``) come from
``jobmon.client.status_commands`` and ``add_task_attributes`` from
``jobmon.client.attributes``; they are looked up when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from jobmon.client.array import Array
from jobmon.client.task import Task
from jobmon.client.task_template import TaskTemplate
from jobmon.client.tool import Tool
from jobmon.client.watch import WorkflowStatus
from jobmon.client.workflow import Workflow

__all__ = [
    "Array",
    "Task",
    "TaskTemplate",
    "Tool",
    "Workflow",
    "WorkflowStatus",
    "add_task_attributes",  # noqa: F822 - resolved by __getattr__
    "task_status",  # noqa: F822 - resolved by __getattr__
    "workflow_status",  # noqa: F822 - resolved by __getattr__
    "workflow_tasks",  # noqa: F822 - resolved by __getattr__
]

# name -> the module that defines it (imported on first use: they talk to the server)
_LATER = {
    "add_task_attributes": "jobmon.client.attributes",
    "task_status": "jobmon.client.status_commands",
    "workflow_status": "jobmon.client.status_commands",
    "workflow_tasks": "jobmon.client.status_commands",
}


def __getattr__(name: str) -> Any:
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module 'jobmon.client.api' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
