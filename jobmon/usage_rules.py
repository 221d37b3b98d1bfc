"""The requests to suggest for a task template from what its instances used (pure).

One rule, read by ``jobmon create_resource_yaml``, ``jobmon.client.usage`` and the
dashboard's resource picture (the server sends what it gives).
"""

from __future__ import annotations

import math
from typing import Any

from jobmon import wire_operator as wo
from jobmon.resources import format_memory

MIB = 1024 * 1024
CHOICES = ("avg", "min", "max")


def _pick(stats: wo.UsageStats, choice: str) -> float | None:
    return {"avg": stats.mean, "min": stats.min, "max": stats.max}[choice]


def suggested_requests(usage: wo.ResourceUsage, memory: str = "avg", cores: str = "avg",
                       runtime: str = "max") -> dict[str, Any]:
    """Requests for the next run of a template, from what its finished instances used:
    ``memory`` and ``runtime`` pick the mean (avg), min or max of the usage, ``cores`` of
    the cores its tasks asked for. Memory rounds up to whole MiB, runtime to seconds."""
    for name, choice in (("memory", memory), ("cores", cores), ("runtime", runtime)):
        if choice not in CHOICES:
            raise ValueError(f"{name} must be one of {', '.join(CHOICES)}, not {choice!r}")
    core_value = {"avg": usage.cores_mean, "min": usage.cores_min,
                  "max": usage.cores_max}[cores]
    requests: dict[str, Any] = {"cores": max(1, round(core_value)) if core_value else 1}
    used_memory = _pick(usage.memory, memory)
    if used_memory is not None:
        requests["memory"] = format_memory(max(1, math.ceil(used_memory / MIB)))
    used_runtime = _pick(usage.runtime, runtime)
    if used_runtime is not None:
        requests["runtime"] = max(1, math.ceil(used_runtime))
    if usage.queue:
        requests["queue"] = usage.queue
    return requests
