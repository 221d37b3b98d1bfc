"""Jobmon: large DAGs of shell tasks on Slurm or locally; every state change in PostgreSQL."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("jobmon")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
