"""IHME Jobmon 3.6's ``jobmon.core.task_generator``: tasks from a Python function.

Both of Jobmon's imports work: ``from jobmon.core import task_generator`` (then
``@task_generator.task_generator(...)``) and
``from jobmon.core.task_generator import task_generator``.
"""

from __future__ import annotations

from jobmon.client.task_generator import (
    TASK_RUNNER_NAME,
    TASK_RUNNER_SUB_COMMAND,
    TaskGenerator,
    get_tasks_by_node_args,
    main,
    task_generator,
)

__all__ = [
    "TASK_RUNNER_NAME",
    "TASK_RUNNER_SUB_COMMAND",
    "TaskGenerator",
    "get_tasks_by_node_args",
    "main",
    "task_generator",
]
