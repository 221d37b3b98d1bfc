"""What ``Workflow.run()`` returns: the run's status letter, carrying Jobmon's result fields.

IHME Jobmon 3.6 documents both ``status == "D"`` (docsource/user_guide/workflows.rst,
'Checking Results') and ``result.final_status`` / ``result.done_count``
(docsource/advanced/advanced_usage.rst, 'Workflow Run Results and Exception Handling').
A ``str`` subclass serves both: it equals the letter and has the fields of Jobmon's
``OrchestratorResult``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any


class WorkflowRunResult(str):
    """The final status letter of a workflow run ("D", "E", "T", "S"), with its counts."""

    final_status: str
    done_count: int
    failed_count: int
    total_tasks: int
    elapsed_time: float
    num_previously_complete: int
    task_final_statuses: dict[int, str]
    workflow_id: int
    workflow_run_id: int
    message: str

    def __new__(
        cls,
        final_status: str,
        *,
        task_final_statuses: Mapping[int, str],
        elapsed_time: float,
        num_previously_complete: int,
        workflow_id: int,
        workflow_run_id: int,
        message: str = "",
    ) -> WorkflowRunResult:
        result = super().__new__(cls, str(final_status))
        result.final_status = str(final_status)
        # a dict is taken as it is (the runner makes one for the result): a million tasks'
        # statuses are not copied, and the sets of ids are made only when read
        result.task_final_statuses = (task_final_statuses if type(task_final_statuses) is dict
                                      else dict(task_final_statuses))
        counts = Counter(result.task_final_statuses.values())
        result.done_count = counts["D"]
        result.failed_count = counts["F"]
        result.total_tasks = len(result.task_final_statuses)
        result.elapsed_time = elapsed_time
        result.num_previously_complete = num_previously_complete
        result.workflow_id = workflow_id
        result.workflow_run_id = workflow_run_id
        result.message = message
        return result

    def __getnewargs_ex__(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (self.final_status,), {
            "task_final_statuses": self.task_final_statuses,
            "elapsed_time": self.elapsed_time,
            "num_previously_complete": self.num_previously_complete,
            "workflow_id": self.workflow_id,
            "workflow_run_id": self.workflow_run_id,
            "message": self.message,
        }

    def _ids_with(self, status: str) -> frozenset[int]:
        found: frozenset[int] | None = self.__dict__.get(f"_ids_{status}")
        if found is None:
            found = frozenset(task_id for task_id, each in self.task_final_statuses.items()
                              if each == status)
            self.__dict__[f"_ids_{status}"] = found
        return found

    @property
    def done_task_ids(self) -> frozenset[int]:
        """The ids of the tasks that are DONE."""
        return self._ids_with("D")

    @property
    def failed_task_ids(self) -> frozenset[int]:
        """The ids of the tasks that failed for good (ERROR_FATAL)."""
        return self._ids_with("F")

    @property
    def num_newly_completed(self) -> int:
        """Tasks this run finished (Jobmon's ``workflow._num_newly_completed``)."""
        return self.done_count - self.num_previously_complete
