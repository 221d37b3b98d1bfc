"""What run() returns and how errors leave the client (pure parts)."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from jobmon.client.boundary import most_relevant, plain_errors
from jobmon.client.swarm.result import WorkflowRunResult
from jobmon.core.constants import WorkflowRunStatus
from jobmon.errors import WorkflowAlreadyExists


def _result() -> WorkflowRunResult:
    return WorkflowRunResult("E", task_final_statuses={1: "D", 2: "F", 3: "G", 4: "D"},
                             elapsed_time=2.5, num_previously_complete=1, workflow_id=7,
                             workflow_run_id=9, message="1 task(s) failed for good")


def test_the_result_is_the_status_letter_with_jobmon_fields() -> None:
    result = _result()
    assert result == "E" and result == WorkflowRunStatus.ERROR and result != "D"
    assert isinstance(result, str) and str(result) == "E" and json.dumps(result) == '"E"'
    assert result.final_status == "E"
    assert (result.done_count, result.failed_count, result.total_tasks) == (2, 1, 4)
    assert result.done_task_ids == frozenset({1, 4}) and result.failed_task_ids == {2}
    assert result.num_newly_completed == 1
    for clone in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):
        assert clone == "E" and clone.task_final_statuses == result.task_final_statuses
        assert clone.message == result.message and clone.workflow_run_id == 9


def test_a_group_leaves_as_its_most_relevant_exception() -> None:
    timeout = RuntimeError("timeout")
    exists = WorkflowAlreadyExists("ran before")
    group = BaseExceptionGroup("outer", [ValueError("x"),
                                         BaseExceptionGroup("inner", [exists, timeout])])
    assert most_relevant(group) is exists
    assert most_relevant(BaseExceptionGroup("g", [exists, KeyboardInterrupt()])).__class__ \
        is KeyboardInterrupt
    with pytest.raises(WorkflowAlreadyExists) as raised, plain_errors():
        raise group
    assert raised.value is exists and raised.value.__suppress_context__
