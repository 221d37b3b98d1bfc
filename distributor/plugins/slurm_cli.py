"""Slurm's commands as asyncio subprocesses: never blocking the loop, bounded in time."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import anyio
import tenacity

from jobmon.clock import Clock, SystemClock
from jobmon.distributor.plugins.slurm_submit import is_transient, scheduler_message
from jobmon.retry import RetryPolicy


class TransientSlurmError(Exception):
    """The controller was busy or unreachable; the same command may work later."""


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: str
    seconds: float

    @property
    def message(self) -> str:
        return scheduler_message(self.stderr, self.returncode)

    @property
    def transient(self) -> bool:
        return self.returncode != 0 and is_transient(self.stderr)


def slurm_retry_policy(stop_after_seconds: float = 600.0) -> RetryPolicy:
    """The one policy for Slurm commands: back off up to 30 s, retry only transient errors."""
    return RetryPolicy(stop_after_seconds=stop_after_seconds, max_wait=30.0, first_wait=0.5,
                       transient=(TransientSlurmError,))


class SlurmCommands:
    """Runs sbatch, squeue, scancel, scontrol and sacct with one environment."""

    def __init__(self, env: Mapping[str, str], retry: RetryPolicy | None = None,
                 timeout: float = 120.0, clock: Clock | None = None) -> None:
        self._env = dict(env)
        self.retry = retry or slurm_retry_policy()
        self._timeout = timeout
        self._clock = clock or SystemClock()

    async def run(self, argv: Sequence[str], *, limit: float | None = None) -> CommandResult:
        """Run once. A command still running after ``limit`` s is killed: TransientSlurmError."""
        limit = limit or self._timeout
        started = self._clock.monotonic()
        try:
            with anyio.fail_after(limit):
                completed = await anyio.run_process(
                    list(argv), check=False, env=self._env, stdin=subprocess.DEVNULL
                )
        except TimeoutError:
            raise TransientSlurmError(f"{argv[0]} did not finish within {limit:.0f} s") from None
        return CommandResult(
            argv=tuple(argv),
            returncode=completed.returncode,
            stdout=completed.stdout,
            stderr=completed.stderr.decode(errors="replace"),
            seconds=self._clock.monotonic() - started,
        )

    def retrying(self, what: str) -> tenacity.AsyncRetrying:
        return self.retry.retrying(what)

    async def run_retrying(self, what: str, argv: Sequence[str]) -> CommandResult:
        """Run until it succeeds or fails for good; transient failures are retried."""
        async for attempt in self.retrying(what):
            with attempt:
                result = await self.run(argv)
                if result.transient:
                    raise TransientSlurmError(result.message)
                return result
        raise AssertionError("unreachable")  # pragma: no cover
