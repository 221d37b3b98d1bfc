"""Cluster names and the resource keys each accepts (pure): checked before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobmon.errors import InvalidResources

# "stdout" and "stderr": the folders of an instance's log files, as in IHME Jobmon (jobmon.logs)
_COMMON = frozenset({"cores", "memory", "runtime", "queue", "project", "stdout", "stderr"})

# Extra keys a cluster passes through to its scheduler.
SLURM_EXTRA_KEYS = frozenset(
    {"constraint", "gres", "qos", "nodelist", "exclude", "reservation", "licenses",
     "tmp", "ntasks", "nodes", "mail_type", "mail_user", "comment"}
)

CLUSTER_KEYS: Mapping[str, frozenset[str]] = {
    "local": _COMMON,
    "sequential": _COMMON,
    "dummy": _COMMON,
    "slurm": _COMMON | SLURM_EXTRA_KEYS,
}

KNOWN_CLUSTERS = tuple(CLUSTER_KEYS)


def check_cluster(cluster_name: str) -> None:
    if cluster_name not in CLUSTER_KEYS:
        raise InvalidResources(
            f"unknown cluster {cluster_name!r}: use one of {', '.join(KNOWN_CLUSTERS)}"
        )


def check_resources(cluster_name: str, resources: Mapping[str, Any]) -> None:
    """Reject resource keys the cluster does not know, naming the ones it does."""
    check_cluster(cluster_name)
    allowed = CLUSTER_KEYS[cluster_name]
    unknown = sorted(set(resources) - allowed)
    if unknown:
        raise InvalidResources(
            f"cluster {cluster_name!r} does not know the resource(s) {', '.join(unknown)}; "
            f"it accepts {', '.join(sorted(allowed))}"
        )
