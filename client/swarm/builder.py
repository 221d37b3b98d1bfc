"""SwarmBuilder: the swarm state of a run, from the in-memory workflow or from the database."""

from __future__ import annotations

import json
from array import array
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from jobmon import endpoints, wire
from jobmon.client.collector import collector_paused
from jobmon.client.prepare import Prepared
from jobmon.client.swarm.state import SwarmState
from jobmon.clock import Clock, SystemClock
from jobmon.requester import Requester

Heartbeat = Callable[[], Awaitable[object]]
# the workflow's max_concurrently_running and each array's, by array id
Limits = tuple[int, Mapping[int, int]]


class SwarmBuilder:
    """Builds ``SwarmState`` for a workflow: new runs from memory, resumes from the server."""

    def __init__(self, requester: Requester, clock: Clock | None = None) -> None:
        self._requester = requester
        self._clock = clock or SystemClock()

    async def _arrays(self, workflow_id: int) -> list[wire.ArrayInfo]:
        answer = await self._requester.call(endpoints.ARRAYS, workflow_id=workflow_id)
        return answer.arrays

    async def _limits(self, workflow_id: int,
                      arrays: list[wire.ArrayInfo] | None = None) -> Limits:
        """The limits as the server has them (``arrays``: already read)."""
        info = await self._requester.call(endpoints.WORKFLOW, workflow_id=workflow_id)
        if arrays is None:
            arrays = await self._arrays(workflow_id)
        return info.max_concurrently_running, _array_limits(arrays)

    async def build_from_workflow(self, workflow_id: int, prepared: Prepared,
                                  limits: Limits | None = None) -> SwarmState:
        """A new run: every task registered, from the bound in-memory workflow.

        ``limits``: as the run's answer gave them; read from the server when None.
        """
        arrays = await self._arrays(workflow_id)
        limit, array_limits = limits or (await self._limits(workflow_id, arrays))
        with collector_paused():
            return self._state_from_memory(limit, array_limits, arrays, prepared)

    def _state_from_memory(self, limit: int, array_limits: Mapping[int, int],
                           arrays: list[wire.ArrayInfo], prepared: Prepared) -> SwarmState:
        array_of_template = {array.name: array.array_id for array in arrays}
        task_ids = [_bound_id(task.task_id) for task in prepared.tasks]
        return SwarmState(
            task_ids=task_ids,
            array_ids=[array_of_template[task.template.template_name] for task in prepared.tasks],
            statuses=["G"] * len(task_ids),
            num_attempts=[0] * len(task_ids),
            max_attempts=[prepared.configs[i].max_attempts for i in prepared.config_index],
            config_index=prepared.config_index,
            configs=prepared.configs,
            upstream_graph=(prepared.up_offsets, prepared.up_targets),
            max_concurrently_running=limit,
            array_limits=array_limits,
            dynamic_resources={task_ids[i]: f for i, f in prepared.dynamic_resources.items()},
            scale_overrides=prepared.scale_overrides,
        )

    async def build_from_workflow_id(
        self,
        workflow_id: int,
        edge_chunk_size: int,
        heartbeat: Heartbeat | None = None,
        heartbeat_every: float = 5.0,
        extras: Prepared | None = None,
        limits: Limits | None = None,
    ) -> SwarmState:
        """A resume: tasks, statuses and edges read from the server in chunks.

        ``heartbeat`` is awaited at least every ``heartbeat_every`` seconds while reading,
        so a long build never looks like a dead swarm. ``limits``: as the run's answer gave
        them; read from the server when None.
        """
        last_beat = self._clock.monotonic()

        async def maybe_beat() -> None:
            nonlocal last_beat
            if heartbeat is not None and self._clock.monotonic() - last_beat >= heartbeat_every:
                await heartbeat()
                last_beat = self._clock.monotonic()

        limit, array_limits = limits or (await self._limits(workflow_id))
        columns: dict[str, list[Any]] = {key: [] for key in (
            "task_id", "array_id", "status", "num_attempts", "max_attempts", "config_index")}
        configs: list[wire.TaskConfig] = []
        config_position: dict[str, int] = {}
        async for page in self._requester.pages(endpoints.TASKS, {"limit": edge_chunk_size},
                                                workflow_id=workflow_id):
            local = [_intern(config, configs, config_position) for config in page.configs]
            columns["task_id"] += page.task_id
            columns["array_id"] += page.array_id
            columns["status"] += page.status
            columns["num_attempts"] += page.num_attempts
            columns["max_attempts"] += page.max_attempts
            columns["config_index"] += [local[index] for index in page.config_index]
            await maybe_beat()
        # the edges as two flat arrays of ids, not a tuple each
        upstream_ids = array("q")
        downstream_ids = array("q")
        async for page_edges in self._requester.pages(endpoints.EDGES, {"limit": edge_chunk_size},
                                                      workflow_id=workflow_id):
            if len(page_edges.upstream_task_id) != len(page_edges.downstream_task_id):
                raise ValueError("an edges page whose two columns differ in length")
            upstream_ids.extend(page_edges.upstream_task_id)
            downstream_ids.extend(page_edges.downstream_task_id)
            await maybe_beat()
        dynamic, overrides = _extras(extras, configs, config_position)
        return SwarmState(
            task_ids=columns["task_id"],
            array_ids=columns["array_id"],
            statuses=columns["status"],
            num_attempts=columns["num_attempts"],
            max_attempts=columns["max_attempts"],
            config_index=columns["config_index"],
            configs=configs,
            edges=zip(upstream_ids, downstream_ids, strict=True),
            max_concurrently_running=limit,
            array_limits=array_limits,
            dynamic_resources=dynamic,
            scale_overrides=overrides,
        )


def _array_limits(arrays: list[wire.ArrayInfo]) -> dict[int, int]:
    return {array.array_id: array.max_concurrently_running for array in arrays}


def _bound_id(task_id: int | None) -> int:
    if task_id is None:
        raise RuntimeError("the workflow must be bound before its swarm is built")
    return task_id


def _config_key(config: wire.TaskConfig) -> str:
    return json.dumps(
        [config.cluster_name, config.compute_resources, config.resource_scales,
         config.fallback_queues, config.max_attempts],
        sort_keys=True,
    )


def _intern(config: wire.TaskConfig, configs: list[wire.TaskConfig],
            position: dict[str, int]) -> int:
    key = _config_key(config)
    index = position.get(key)
    if index is None:
        index = position[key] = len(configs)
        configs.append(config)
    return index


def _extras(
    prepared: Prepared | None,
    configs: list[wire.TaskConfig],
    position: Mapping[str, int],
) -> tuple[dict[int, Any], dict[int, Mapping[str, Any]]]:
    """Callables of the in-memory workflow (resources, scales), keyed for the built state."""
    if prepared is None:
        return {}, {}
    dynamic: dict[int, Any] = {}
    for i, function in prepared.dynamic_resources.items():
        task_id = prepared.tasks[i].task_id
        if task_id is not None:
            dynamic[task_id] = function
    overrides: dict[int, Mapping[str, Any]] = {}
    for index, scales in prepared.scale_overrides.items():
        found = position.get(_config_key(prepared.configs[index]))
        if found is not None:
            overrides[found] = scales
    return dynamic, overrides
