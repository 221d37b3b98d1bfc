"""Jobmon's constants and exceptions, under Jobmon's module names (``jobmon.core.*``)."""

from __future__ import annotations

import ast
import enum
from pathlib import Path

import pytest

from jobmon import errors, status
from jobmon.core import constants, exceptions

REFERENCE = Path("/work/jobmon-ref/jobmon_core/src/jobmon/core")


def _class_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


# Jobmon 3.6's exception names (jobmon_core/src/jobmon/core/exceptions.py), written out so
# the test runs without the reference copy.
JOBMON_EXCEPTIONS = [
    "ReturnCodes", "InvalidResponse", "InvalidRequest", "RemoteExitInfoNotAvailable",
    "CallableReturnedInvalidObject", "WorkflowAlreadyExists", "WorkflowAlreadyComplete",
    "WorkflowNotResumable", "EmptyWorkflowError", "DistributorStartupTimeout",
    "DistributorNotAlive", "DistributorUnexpected", "WorkflowRunStateError", "ResumeSet",
    "NodeDependencyNotExistError", "DuplicateNodeArgsError", "InvalidMemoryFormat",
    "InvalidMemoryUnit", "ConfigError", "InvalidStateTransition", "TransitionError",
    "WorkflowTestError", "DistributorInterruptedError", "CyclicGraphError",
]


def test_every_jobmon_exception_name_is_exported_and_is_ours() -> None:
    """Follows jobmon_core/src/jobmon/core/exceptions.py: each name imports, and (but for the
    ReturnCodes constants) is the class this Jobmon raises."""
    if REFERENCE.exists():
        assert sorted(_class_names(REFERENCE / "exceptions.py")) == sorted(JOBMON_EXCEPTIONS)
    for name in JOBMON_EXCEPTIONS:
        value = getattr(exceptions, name)
        if name == "ReturnCodes":
            assert value.WORKER_NODE_CLI_FAILURE == 199
            continue
        assert value is getattr(errors, name)
        assert issubclass(value, errors.JobmonError)


def test_exception_hierarchy_keeps_jobmons_catch_clauses_working() -> None:
    """Follows tests/integration/client/test_workflow.py: an empty workflow raises a
    RuntimeError, a bad DAG a ValueError; advanced_usage.rst: a timeout is a RuntimeError."""
    assert issubclass(exceptions.EmptyWorkflowError, RuntimeError)
    assert issubclass(exceptions.EmptyWorkflowError, ValueError)
    for name in ("CyclicGraphError", "NodeDependencyNotExistError", "DuplicateNodeArgsError",
                 "InvalidMemoryFormat"):
        assert issubclass(getattr(exceptions, name), ValueError)
    assert issubclass(errors.WorkflowRunTimeout, RuntimeError)
    assert issubclass(errors.MissingUpstreamError, exceptions.NodeDependencyNotExistError)
    assert issubclass(errors.DuplicateTaskError, exceptions.DuplicateNodeArgsError)
    assert issubclass(errors.ServerUnavailable, exceptions.InvalidResponse)
    rejected = errors.server_error(404, errors.CODE_NOT_FOUND, "no workflow 7")
    assert isinstance(rejected, exceptions.InvalidRequest)
    assert isinstance(rejected, exceptions.InvalidResponse)
    assert not isinstance(errors.server_error(500, errors.CODE_INTERNAL, "x"),
                          exceptions.InvalidRequest)
    transition = exceptions.InvalidStateTransition("Task", 5, "D", "R")
    assert "Cannot transition Task id: 5 from D to R" in str(transition)


def test_status_constants_are_our_enums_with_jobmons_extras() -> None:
    """Follows jobmon_core/src/jobmon/core/constants.py and docsource/user_guide/workflows.rst
    ('Checking Results': ``status == WorkflowRunStatus.DONE``)."""
    assert constants.TaskStatus is status.TaskStatus
    assert constants.WorkflowRunStatus is status.WorkflowRunStatus
    assert constants.WorkflowStatus is status.WorkflowStatus
    assert constants.TaskInstanceStatus is status.TaskInstanceStatus
    assert constants.WorkflowRunStatus.DONE == "D"
    assert constants.TaskStatus.ERROR_FATAL == "F"
    assert constants.TaskStatus.LABEL_DICT["A"] == "ADJUSTING_RESOURCES"
    assert {str(s): s.name for s in status.TaskStatus} == constants.TaskStatus.LABEL_DICT
    # Jobmon's batch letter is there as a value, not as a member our code iterates over
    assert constants.TaskInstanceStatus.SUBMITTED_TO_BATCH_DISTRIBUTOR == "B"
    assert "B" not in {str(s) for s in status.TaskInstanceStatus}
    assert len(list(status.TaskStatus)) == 9


@pytest.mark.parametrize(
    ("cls", "name", "value"),
    [
        ("ArgType", "NODE_ARG", 1), ("ArgType", "OP_ARG", 3),
        ("TaskResourcesType", "ADJUSTED", "A"),
        ("SpecialChars", "ILLEGAL_SPECIAL_CHARACTERS", r"/\\'\" "),
        ("MaxConcurrentlyRunning", "MAXCONCURRENTLYRUNNING", 2_147_483_647),
    ],
)
def test_other_constants_have_jobmons_values(cls: str, name: str, value: object) -> None:
    """Follows jobmon_core/src/jobmon/core/constants.py."""
    assert getattr(getattr(constants, cls), name) == value


def test_every_jobmon_constant_class_is_there() -> None:
    """Follows jobmon_core/src/jobmon/core/constants.py: every class it defines."""
    names = ["ArgType", "TaskResourcesType", "TaskInstanceStatus", "TaskStatus",
             "WorkflowRunStatus", "WorkflowStatus", "Direction", "SpecialChars",
             "ExecludeTTVs", "MaxConcurrentlyRunning"]
    if REFERENCE.exists():
        assert sorted(_class_names(REFERENCE / "constants.py")) == sorted(names)
    for name in names:
        assert hasattr(constants, name)
    assert issubclass(constants.Direction, enum.Enum)
    assert constants.Direction.UP.value == "up"
