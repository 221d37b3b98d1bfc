"""Cluster names and the resource keys each accepts (pure): checked before anything is sent."""

from __future__ import annotations

import difflib
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

# Keys a cluster accepts but has no use for. "local" and "sequential" are this machine, one
# queue, whatever its name: code written for Slurm (queue "all.q") or for Jobmon's sequential
# cluster (queue "null.q") runs unchanged, and the machine's cores and memory are the limits.
IGNORED_KEYS: Mapping[str, frozenset[str]] = {
    "local": frozenset({"queue"}),
    "sequential": frozenset({"queue"}),
    "dummy": frozenset({"queue"}),
}

KNOWN_CLUSTERS = tuple(CLUSTER_KEYS)


def check_cluster(cluster_name: object) -> None:
    """Refuse a cluster name that is not one of ours, suggesting the closest."""
    if isinstance(cluster_name, str) and cluster_name in CLUSTER_KEYS:
        return
    if not isinstance(cluster_name, str):
        raise InvalidResources(
            f"cluster_name={cluster_name!r}: expected one of {', '.join(KNOWN_CLUSTERS)}")
    close = difflib.get_close_matches(cluster_name.strip().lower(), KNOWN_CLUSTERS, n=1,
                                      cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InvalidResources(
        f"unknown cluster {cluster_name!r}: {hint}the clusters are {', '.join(KNOWN_CLUSTERS)}"
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


def for_cluster(cluster_name: str, resources: Mapping[str, Any]) -> dict[str, Any]:
    """Checked resources as the cluster gets them: without the keys it has no use for."""
    check_resources(cluster_name, resources)
    ignored = IGNORED_KEYS.get(cluster_name, frozenset())
    return {key: value for key, value in resources.items() if key not in ignored}
