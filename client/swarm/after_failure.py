"""What happens to a task after its instance failed (pure)."""

from __future__ import annotations

import enum

from jobmon.status import TaskInstanceStatus


class Retry(enum.Enum):
    FATAL = "fatal"  # attempts used up: E to F
    ADJUST = "adjust"  # resource error: E to A, then Q with scaled resources
    AGAIN = "again"  # plain retry: E to Q with the same resources


def decide(num_attempts: int, max_attempts: int, error_status: str | None) -> Retry:
    """The next step for a task in E after ``num_attempts`` of ``max_attempts``."""
    if num_attempts >= max_attempts:
        return Retry.FATAL
    if error_status == TaskInstanceStatus.RESOURCE_ERROR:
        return Retry.ADJUST
    return Retry.AGAIN
