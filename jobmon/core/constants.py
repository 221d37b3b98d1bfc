"""IHME Jobmon 3.6's ``jobmon.core.constants``, on this Jobmon's own vocabulary.

The four status enums are the ones ``jobmon.status`` defines (StrEnums: ``TaskStatus.DONE ==
"D"``); Jobmon's other public constants are defined here with Jobmon's values.
"""

from __future__ import annotations

import enum

from jobmon.status import TaskInstanceStatus, TaskStatus, WorkflowRunStatus, WorkflowStatus

__all__ = [
    "ArgType",
    "Direction",
    "ExecludeTTVs",
    "MaxConcurrentlyRunning",
    "SpecialChars",
    "TaskInstanceStatus",
    "TaskResourcesType",
    "TaskStatus",
    "WorkflowRunStatus",
    "WorkflowStatus",
]


class ArgType:
    """The three kinds of template argument."""

    NODE_ARG = 1
    TASK_ARG = 2
    OP_ARG = 3


class TaskResourcesType:
    """How a task's resources came to be: as asked, validated, or adjusted after an error."""

    ORIGINAL = "O"
    VALIDATED = "V"
    ADJUSTED = "A"


class Direction(enum.Enum):
    """Up or down the DAG."""

    UP = "up"
    DOWN = "down"


class SpecialChars:
    """Characters a task name may not contain (``Task.is_valid_job_name``)."""

    ILLEGAL_SPECIAL_CHARACTERS = r"/\\'\" "


class ExecludeTTVs:
    """Template versions Jobmon excludes from resource-usage queries (spelling as Jobmon's)."""

    EXECLUDE_TTVS: frozenset[int] = frozenset()


class MaxConcurrentlyRunning:
    """The largest concurrency limit the database holds (a signed 32-bit integer)."""

    MAXCONCURRENTLYRUNNING = 2_147_483_647
