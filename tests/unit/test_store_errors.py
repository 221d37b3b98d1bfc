"""The store's refusals answer with the HTTP status, code and message clients depend on."""

from __future__ import annotations

from jobmon import errors
from jobmon.server.http import store_status
from jobmon.server.store.errors import Conflict, Invalid, NotFound, StoreError


def test_each_refusal_has_its_status_code_and_message() -> None:
    cases = [
        (NotFound("task 5"), 404, errors.CODE_NOT_FOUND, "task 5 does not exist"),
        (NotFound("template 'x'", message="workflow 1 has no task template 'x'"), 404,
         errors.CODE_NOT_FOUND, "workflow 1 has no task template 'x'"),
        (Conflict(errors.CODE_TRANSITION, "run 3 is D"), 409, errors.CODE_TRANSITION,
         "run 3 is D"),
        (Conflict(errors.CODE_WORKFLOW_ARGS_REUSED, "reused"), 409,
         errors.CODE_WORKFLOW_ARGS_REUSED, "reused"),
        (Invalid("bad cursor"), 400, errors.CODE_INVALID, "bad cursor"),
        (StoreError(errors.CODE_INVALID, "any other refusal"), 400, errors.CODE_INVALID,
         "any other refusal"),
    ]
    for error, status, code, message in cases:
        assert (store_status(error), error.code, error.message, str(error)) == (
            status, code, message, message)
