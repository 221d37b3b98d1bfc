"""What the store refuses, said in its own terms; the server's error middleware answers it.

The store knows nothing of HTTP: it raises these, and ``jobmon.server.http`` maps each kind
to its status (404, 409, 400) with the ``code`` and ``message`` of the error body.
"""

from __future__ import annotations

from jobmon import errors


class StoreError(Exception):
    """A request the store refuses: a stable ``code`` for clients, a ``message`` for people."""

    code: str

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(StoreError):
    """The thing named does not exist; ``NotFound("task 5")`` says "task 5 does not exist"."""

    def __init__(self, what: str, *, message: str | None = None) -> None:
        super().__init__(errors.CODE_NOT_FOUND, message or f"{what} does not exist")


class Conflict(StoreError):
    """The request is valid but the state of the data does not allow it (``code`` says why)."""


class Invalid(StoreError):
    """The request itself is malformed or inconsistent."""

    def __init__(self, message: str) -> None:
        super().__init__(errors.CODE_INVALID, message)
