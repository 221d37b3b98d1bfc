"""Cluster plugins by name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jobmon.settings import Settings, default_data_home

if TYPE_CHECKING:  # the worker imports log_dir: it must not pay for the plugins' imports
    from jobmon.distributor.plugins.base import ClusterPlugin


def log_dir(settings: Settings) -> Path:
    return Path(settings.local.log_dir) if settings.local.log_dir else default_data_home() / "logs"


def load(cluster_name: str, settings: Settings) -> ClusterPlugin:
    """The plugin serving ``cluster_name``."""
    if cluster_name == "local":
        from jobmon.distributor.plugins.local import LocalPlugin

        return LocalPlugin("local", settings.local.max_parallel, log_dir(settings))
    if cluster_name == "sequential":
        from jobmon.distributor.plugins.local import LocalPlugin

        return LocalPlugin("sequential", 1, log_dir(settings))
    if cluster_name == "slurm":
        from jobmon.distributor.plugins.slurm import SlurmPlugin

        return SlurmPlugin(settings, log_dir(settings))
    if cluster_name == "dummy":
        from jobmon.distributor.plugins.dummy import DummyPlugin

        return DummyPlugin()
    raise ValueError(f"no distributor plugin for cluster {cluster_name!r}")
