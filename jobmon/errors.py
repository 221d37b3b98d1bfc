"""Exceptions users can catch, and the error codes the HTTP API answers with."""

from __future__ import annotations


class JobmonError(Exception):
    """Base of every error Jobmon raises on purpose."""


class InvalidWorkflow(JobmonError, ValueError):
    """The workflow cannot be bound as defined; nothing was sent to the server."""


class InvalidResources(InvalidWorkflow):
    """A compute resource is malformed (for example memory='4 gigs')."""


class CyclicGraphError(InvalidWorkflow):
    """The task dependencies contain a cycle."""


class MissingUpstreamError(InvalidWorkflow):
    """A task depends on a task that was never added to the workflow."""


class DuplicateTaskError(InvalidWorkflow):
    """Two tasks in one workflow have the same template, node args and task args."""


class InvalidCommandTemplate(InvalidWorkflow):
    """A command template names an argument that was not given, or is malformed."""


class WorkflowAlreadyExists(JobmonError):
    """This workflow has run before; pass resume=True or use new workflow_args."""


class WorkflowAlreadyComplete(JobmonError):
    """Every task of this workflow is already DONE."""


class WorkflowNotResumable(JobmonError):
    """The workflow cannot be resumed in its current state."""


class ConfigError(JobmonError):
    """The configuration is malformed."""


class ServerUnavailable(JobmonError):
    """The Jobmon server could not be reached after retrying."""


class DatabaseUnavailable(JobmonError):
    """The server's PostgreSQL could not be reached, or refused the connection."""


class ServerError(JobmonError):
    """The server answered with an error body ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


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


class WorkflowRunStateError(JobmonError):
    """The workflow run is not in a state that allows the request (Jobmon's name)."""


class ResumeTakenOver(WorkflowRunStateError):
    """Another resume of the workflow started at the same time and took over from this one."""
