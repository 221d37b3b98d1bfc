"""Resource usage of task templates and tasks, and resource files made from it.

The async functions ask the server (which computes the statistics in SQL); the rest is
pure: Jobmon's dictionaries and the YAML of suggested requests.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jobmon import endpoints, wire
from jobmon import wire_operator as wo
from jobmon.client.connection import open_requester
from jobmon.settings import Settings
from jobmon.usage_rules import CHOICES as CHOICES  # the one rule, in jobmon core
from jobmon.usage_rules import suggested_requests as suggested_requests


async def template_usage(
    settings: Settings, version_id: int, workflows: Iterable[int] | None = None,
    node_args: str = "", ci: float | None = None, percentile: float = 0.95,
) -> wo.ResourceUsage:
    """``node_args`` is JSON text: ``{"location_id": [101, 102]}``."""
    params: dict[str, Any] = {"workflows": ",".join(str(int(i)) for i in workflows or ()),
                              "node_args": node_args, "percentile": percentile}
    if ci is not None:
        params["ci"] = ci
    async with open_requester(settings) as requester:
        return await requester.call(endpoints.TEMPLATE_VERSION_USAGE, params=params,
                                    task_template_version_id=int(version_id))


async def template_resources(
    settings: Settings, *, workflow_ids: Iterable[int] = (), task_id: int | None = None,
    ci: float | None = None,
) -> list[wo.ResourceUsage]:
    """Every template version the workflows use (or the task's), each over all workflows."""
    params: dict[str, Any] = {} if ci is None else {"ci": ci}
    found: dict[int, wo.ResourceUsage] = {}
    async with open_requester(settings) as requester:
        reads = [functools.partial(requester.call, endpoints.WORKFLOW_TEMPLATE_RESOURCES,
                                   params=params, workflow_id=int(i)) for i in workflow_ids]
        if task_id is not None:
            reads.append(functools.partial(requester.call, endpoints.TASK_TEMPLATE_RESOURCES,
                                           params=params, task_id=int(task_id)))
        for read in reads:
            answer = await read()
            found.update((usage.task_template_version_id, usage) for usage in answer.templates)
    return [found[key] for key in sorted(found)]


async def task_usage(settings: Settings, task_id: int) -> wo.TaskResourceUsage:
    async with open_requester(settings) as requester:
        return await requester.call(endpoints.TASK_USAGE, task_id=int(task_id))


async def template_version_id(settings: Settings, tool_name: str, template_name: str,
                              command_template: str, node_args: Sequence[str],
                              task_args: Sequence[str], op_args: Sequence[str]) -> int:
    """The server's id of a template version, found (or made, as binding does) by its text."""
    async with open_requester(settings) as requester:
        tool = await requester.call(endpoints.UPSERT_TOOL, wire.ToolRequest(name=tool_name))
        answer = await requester.call(
            endpoints.UPSERT_TEMPLATES,
            wire.TemplatesRequest(tool_version_id=tool.tool_version_id, templates=[
                wire.TemplateSpec(name=template_name, command_template=command_template,
                                  node_args=list(node_args),
                                  task_args=list(task_args),
                                  op_args=list(op_args))]))
    return answer.task_template_version_ids[0]


# ------------------------------------------------------------------ Jobmon's dictionaries


def _bytes(value: float | None, whole: bool) -> str | None:
    """As Jobmon writes sizes: "400B" for a min or max, "400.0B" for a mean or median."""
    if value is None:
        return None
    return f"{int(value)}B" if whole else f"{float(value)}B"


JOBMON_KEYS = ("num_tasks", "min_mem", "max_mem", "mean_mem", "min_runtime", "max_runtime",
               "mean_runtime", "median_mem", "median_runtime", "ci_mem", "ci_runtime")


def jobmon_stats(usage: wo.ResourceUsage) -> dict[str, Any]:
    """Jobmon's ``formatted_stats``, its keys and nothing more: memory in bytes as "123B",
    runtime in seconds. num_tasks is None for a template version no task ever used, and 0
    when none of its tasks passed the filters."""
    memory, runtime = usage.memory, usage.runtime
    if usage.instances == 0:
        return {**dict.fromkeys(JOBMON_KEYS), "num_tasks": 0 if usage.has_tasks else None}
    # Jobmon reports a runtime of 0 when none was measured, and no memory at all
    measured = runtime.count > 0
    return {
        "num_tasks": usage.instances,
        "min_mem": _bytes(memory.min, True), "max_mem": _bytes(memory.max, True),
        "mean_mem": _bytes(memory.mean, False),
        "min_runtime": int(runtime.min) if measured and runtime.min is not None else 0,
        "max_runtime": int(runtime.max) if measured and runtime.max is not None else 0,
        "mean_runtime": runtime.mean if measured else 0.0,
        "median_mem": _bytes(memory.median, False),
        "median_runtime": runtime.median if measured else 0.0,
        "ci_mem": memory.ci, "ci_runtime": runtime.ci,
    }


def jobmon_task_usage(usage: wo.TaskResourceUsage) -> dict[str, Any]:
    """Jobmon's ``Task.resource_usage()``: memory (bytes) and runtime (seconds) as text, as
    Jobmon's database holds them."""
    return {"memory": None if usage.memory is None else str(usage.memory),
            "nodename": usage.nodename, "num_attempts": usage.num_attempts,
            "runtime": None if usage.runtime is None else f"{usage.runtime:g}"}


# ------------------------------------------------------------------ resource files


def resource_yaml(usages: Sequence[wo.ResourceUsage], clusters: Sequence[str],
                  memory: str = "avg", cores: str = "avg", runtime: str = "max") -> str:
    """The ``task_template_resources`` YAML that ``yaml_file=`` and
    ``set_default_compute_resources_from_yaml`` read, one block per template and cluster."""
    import yaml

    by_template: dict[str, Mapping[str, Any]] = {}
    unmeasured: list[str] = []
    for usage in sorted(usages, key=lambda found: found.task_template_version_id):
        requests = suggested_requests(usage, memory, cores, runtime)
        if usage.instances == 0:
            unmeasured.append(usage.template_name)
        # a later version of a template (a higher id) wins over an earlier one
        by_template[usage.template_name] = {cluster: dict(requests) for cluster in clusters}
    text: str = yaml.safe_dump({"task_template_resources": by_template}, sort_keys=False,
                               default_flow_style=False)
    if unmeasured:
        text = (f"# no finished instances yet, so no memory or runtime: "
                f"{', '.join(sorted(set(unmeasured)))}\n") + text
    return text
