"""Jobmon: large DAGs of shell tasks on Slurm or locally; every state change in PostgreSQL."""

from __future__ import annotations

import functools


@functools.cache
def _version() -> str:
    # importlib.metadata costs ~20 ms: only the parts that show the version pay for it
    from importlib import metadata

    try:
        return metadata.version("jobmon")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'jobmon' has no attribute {name!r}")
