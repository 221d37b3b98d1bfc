"""Exceptions users can catch, and the error codes the HTTP API answers with.

The classes carry IHME Jobmon 3.6's names as well (``jobmon.core.exceptions`` re-exports
them): code written for Jobmon catches exactly what this Jobmon raises.
"""

from __future__ import annotations


class JobmonError(Exception):
    """Base of every error Jobmon raises on purpose."""


# ---------------------------------------------------------------- building a workflow


class InvalidWorkflow(JobmonError, ValueError):
    """The workflow cannot be bound as defined; nothing was sent to the server."""


class InvalidResources(InvalidWorkflow):
    """A compute resource is malformed (for example memory='4 gigs')."""


class InvalidMemoryFormat(InvalidResources):
    """A memory request is not a size such as '512M' or '4G' (Jobmon's name)."""


class InvalidMemoryUnit(InvalidResources):
    """A memory unit is not one of B, K, M, G, T (Jobmon's name)."""


class CyclicGraphError(InvalidWorkflow):
    """The task dependencies contain a cycle."""


class NodeDependencyNotExistError(InvalidWorkflow):
    """A task's upstream or downstream task was never added to the workflow."""


class MissingUpstreamError(NodeDependencyNotExistError):
    """A task depends on a task that was never added to the workflow."""


class DuplicateNodeArgsError(InvalidWorkflow):
    """Two tasks of one template in one workflow have the same node args."""


class DuplicateTaskError(DuplicateNodeArgsError):
    """The same task (template, node args and task args) was added to a workflow twice."""


class EmptyWorkflowError(InvalidWorkflow, RuntimeError):
    """The workflow has no tasks (a RuntimeError too, as Jobmon raises it)."""


class InvalidCommandTemplate(InvalidWorkflow):
    """A command template names an argument that was not given, or is malformed."""


class InvalidToolError(JobmonError):
    """A tool that does not exist (Jobmon's name)."""


class InvalidToolVersionError(JobmonError):
    """A tool version that is not valid (Jobmon's name)."""


class CallableReturnedInvalidObject(JobmonError, TypeError):
    """A compute_resources callable returned something that is not a mapping of resources."""


# ---------------------------------------------------------------- binding and running


class WorkflowAlreadyExists(JobmonError):
    """This workflow has run before; pass resume=True or use new workflow_args."""


class WorkflowAlreadyComplete(JobmonError):
    """Every task of this workflow is already DONE."""


class ChainLinkError(JobmonError):
    """The linker of a chained workflow failed, could not be imported, or returned what
    cannot follow; the chain stops there (``jobmon workflow chain`` shows why)."""


class WorkflowNotResumable(JobmonError):
    """The workflow cannot be resumed in its current state."""


class ResumeSet(JobmonError):
    """A resume was requested for this workflow while it ran (Jobmon's name)."""


class WorkflowRunStateError(JobmonError):
    """The workflow run is not in a state that allows the request (Jobmon's name)."""


class WorkflowRunTimeout(JobmonError, RuntimeError):
    """``seconds_until_timeout`` passed before every task finished (Jobmon raises a
    RuntimeError; this is one). Submitted tasks keep running. ``result``: the run's counts
    when it stopped (a WorkflowRunResult), when known."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class WorkflowTestError(JobmonError):
    """A test hook stopped the workflow run (Jobmon's name)."""


class DistributorStartupTimeout(JobmonError):
    """The distributor did not start in time."""


class DistributorNotAlive(JobmonError):
    """The distributor of a run died while the run needed it."""


class DistributorUnexpected(JobmonError):
    """The distributor met a situation it cannot handle."""


class DistributorInterruptedError(JobmonError):
    """The distributor received SIGTERM or SIGINT."""


class RemoteExitInfoNotAvailable(JobmonError):
    """The cluster cannot tell how a job ended."""


class TransitionError(JobmonError):
    """A status change could not be applied (Jobmon's name)."""


class InvalidStateTransition(TransitionError):
    """A status change the state machine does not allow."""

    def __init__(self, model: str, id: int, old_state: str, new_state: str) -> None:
        super().__init__(f"Cannot transition {model} id: {id} from {old_state} to {new_state}")
        self.model = model
        self.id = id
        self.old_state = old_state
        self.new_state = new_state


# ---------------------------------------------------------------- configuration and the server


class ConfigError(JobmonError):
    """The configuration is malformed."""


class InvalidResponse(JobmonError):
    """The server answered with an error or something unexpected (Jobmon's name)."""


class InvalidRequest(JobmonError):
    """The server refused a request as invalid, a 4xx answer (Jobmon's name)."""


class ServerUnavailable(InvalidResponse):
    """The Jobmon server could not be reached after retrying."""


class DatabaseUnavailable(JobmonError):
    """The server's PostgreSQL could not be reached, or refused the connection."""


class ServerError(InvalidResponse):
    """The server answered with an error body ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class RequestRejected(ServerError, InvalidRequest):
    """A 4xx answer: the request was refused as it was (also Jobmon's InvalidRequest)."""


def server_error(status: int, code: str, message: str) -> ServerError:
    """The error for an error answer: a RequestRejected for 4xx, else a ServerError."""
    if 400 <= status < 500:
        return RequestRejected(status, code, message)
    return ServerError(status, code, message)


# Codes in {"error": {"code": ...}} that clients map back to exceptions.
CODE_NOT_FOUND = "not_found"
CODE_INVALID = "invalid_request"
CODE_TRANSITION = "invalid_transition"
CODE_CONFLICT = "conflict"
CODE_WORKFLOW_EXISTS = "workflow_already_exists"
CODE_WORKFLOW_COMPLETE = "workflow_already_complete"
CODE_WORKFLOW_ARGS_REUSED = "workflow_args_reused"
CODE_WORKFLOW_RUNNING = "workflow_running"
CODE_TOO_LARGE = "request_too_large"
CODE_UNAUTHORIZED = "unauthorized"
CODE_FORBIDDEN = "forbidden"
CODE_INTERNAL = "internal_error"
CODE_UNAVAILABLE = "unavailable"


class ResourceFileError(InvalidResources):
    """A resource YAML file cannot be read, or does not hold what Jobmon's keys promise."""


class MissingResourceKey(ResourceFileError, KeyError):
    """A resource file has no entry for this tool, template or cluster (a KeyError, as in
    Jobmon)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ResumeTakenOver(WorkflowRunStateError):
    """Another resume of the workflow started at the same time and took over from this one."""
