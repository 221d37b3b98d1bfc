"""The Python API: Tool, TaskTemplate, Task, Array, Workflow, WorkflowStatus."""

from __future__ import annotations

from jobmon import __version__  # as Jobmon's jobmon.client exports it
from jobmon.client.status import WorkflowStatus
from jobmon.client.task import Array, Task
from jobmon.client.task_template import TaskTemplate
from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow

__all__ = ["Array", "Task", "TaskTemplate", "Tool", "Workflow", "WorkflowStatus", "__version__"]
