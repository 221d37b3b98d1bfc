"""IHME Jobmon 3.6's ``jobmon.core.exceptions``: the very classes this Jobmon raises.

``jobmon.core.exceptions.WorkflowAlreadyExists is jobmon.errors.WorkflowAlreadyExists``, so
code written for Jobmon catches what is raised here.
"""

from __future__ import annotations

from jobmon.errors import (
    CallableReturnedInvalidObject,
    ConfigError,
    CyclicGraphError,
    DistributorInterruptedError,
    DistributorNotAlive,
    DistributorStartupTimeout,
    DistributorUnexpected,
    DuplicateNodeArgsError,
    EmptyWorkflowError,
    InvalidMemoryFormat,
    InvalidMemoryUnit,
    InvalidRequest,
    InvalidResponse,
    InvalidStateTransition,
    NodeDependencyNotExistError,
    RemoteExitInfoNotAvailable,
    ResumeSet,
    TransitionError,
    WorkflowAlreadyComplete,
    WorkflowAlreadyExists,
    WorkflowNotResumable,
    WorkflowRunStateError,
    WorkflowTestError,
)

__all__ = [
    "CallableReturnedInvalidObject",
    "ConfigError",
    "CyclicGraphError",
    "DistributorInterruptedError",
    "DistributorNotAlive",
    "DistributorStartupTimeout",
    "DistributorUnexpected",
    "DuplicateNodeArgsError",
    "EmptyWorkflowError",
    "InvalidMemoryFormat",
    "InvalidMemoryUnit",
    "InvalidRequest",
    "InvalidResponse",
    "InvalidStateTransition",
    "NodeDependencyNotExistError",
    "RemoteExitInfoNotAvailable",
    "ResumeSet",
    "ReturnCodes",
    "TransitionError",
    "WorkflowAlreadyComplete",
    "WorkflowAlreadyExists",
    "WorkflowNotResumable",
    "WorkflowRunStateError",
    "WorkflowTestError",
]


class ReturnCodes:
    """Exit codes of the worker wrapper when it cannot run the command at all."""

    OK = 0
    WORKER_NODE_ENV_FAILURE = 198
    WORKER_NODE_CLI_FAILURE = 199
