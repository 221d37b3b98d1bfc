"""The one retry policy (tenacity) for transient failures: HTTP, the database, Slurm."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tenacity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how fast to retry a transient failure, and which failures are transient."""

    stop_after_seconds: float = 600.0
    max_wait: float = 10.0
    first_wait: float = 0.05
    transient: tuple[type[BaseException], ...] = ()

    def _arguments(self, what: str) -> dict[str, Any]:
        # imported here: `jobmon worker` (one interpreter per cluster job) imports this module
        # but needs tenacity only when a request fails
        import tenacity

        def log_retry(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s failed (%s: %s); retry %d in %.2fs",
                what,
                type(error).__name__,
                error,
                state.attempt_number,
                state.next_action.sleep if state.next_action else 0.0,
            )

        return {
            "stop": tenacity.stop_after_delay(self.stop_after_seconds),
            "wait": tenacity.wait_exponential(multiplier=self.first_wait, max=self.max_wait)
            + tenacity.wait_random(0, self.first_wait),
            "retry": tenacity.retry_if_exception_type(self.transient),
            "before_sleep": log_retry,
            "reraise": True,
        }

    def retrying(self, what: str) -> tenacity.AsyncRetrying:
        """For ``async for attempt in policy.retrying(...)``."""
        import tenacity

        return tenacity.AsyncRetrying(**self._arguments(what))

    def retrying_sync(self, what: str) -> tenacity.Retrying:
        """For ``for attempt in policy.retrying_sync(...)`` in blocking code."""
        import tenacity

        return tenacity.Retrying(**self._arguments(what))
