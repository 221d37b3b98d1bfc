"""The swarm's state of one run (pure): which tasks are ready, active, failed, or done.

Compact on purpose: a million tasks are a few flat arrays, not a million objects.
Tasks are addressed by index; ``index_of`` maps task ids to indices.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobmon import resources as resource_rules
from jobmon.client.dag import reverse_csr
from jobmon.client.swarm.after_failure import Retry, decide
from jobmon.errors import CallableReturnedInvalidObject
from jobmon.resources import QueueSet
from jobmon.status import TASK_ACTIVE, TaskStatus
from jobmon.wire import TaskConfig

TS = TaskStatus
_ACTIVE = frozenset(ord(str(s)) for s in TASK_ACTIVE)
_G, _Q, _D, _E, _F, _A = (ord(str(s)) for s in (TS.REGISTERING, TS.QUEUED, TS.DONE,
                                                 TS.ERROR_RECOVERABLE, TS.ERROR_FATAL,
                                                 TS.ADJUSTING_RESOURCES))

DynamicResources = Callable[[], Mapping[str, Any]]


@dataclass
class QueuePlan:
    task_ids: list[int]
    compute_resources: dict[str, Any] | None


@dataclass
class TickPlan:
    """One tick's decisions, sent to the server in one request."""

    fatal: list[int] = field(default_factory=list)
    adjust: list[int] = field(default_factory=list)
    queue: list[QueuePlan] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fatal or self.adjust or self.queue)


class SwarmState:
    """Tasks, their dependencies and statuses; decides what to queue, retry or give up."""

    def __init__(
        self,
        *,
        task_ids: Sequence[int],
        array_ids: Sequence[int],
        statuses: Sequence[str],
        num_attempts: Sequence[int],
        max_attempts: Sequence[int],
        config_index: Sequence[int],
        configs: Sequence[TaskConfig],
        edges: Iterable[tuple[int, int]] = (),
        max_concurrently_running: int,
        array_limits: Mapping[int, int],
        dynamic_resources: Mapping[int, DynamicResources] | None = None,
        scale_overrides: Mapping[int, Mapping[str, Any]] | None = None,
        queues: Mapping[str, QueueSet] | None = None,
        upstream_graph: tuple[Sequence[int], Sequence[int]] | None = None,
    ) -> None:
        """``edges`` are (upstream id, downstream id) pairs; or, instead, ``upstream_graph``
        gives each task's upstreams by index, flat: (offsets, targets) as
        ``jobmon.client.dag`` holds them."""
        size = len(task_ids)
        self.task_ids = array("q", task_ids)
        self.index_of: dict[int, int] = {task_id: i for i, task_id in enumerate(task_ids)}
        if len(self.index_of) != size:
            raise ValueError("task ids must be unique")
        self.array_keys: list[int] = sorted(set(array_ids))
        array_position = {array_id: i for i, array_id in enumerate(self.array_keys)}
        self.array_of = array("i", (array_position[a] for a in array_ids))
        self.status = bytearray(ord(s) for s in statuses)
        self.attempts = array("i", num_attempts)
        self.max_attempts = array("i", max_attempts)
        self.config_of = array("i", config_index)
        self.configs = list(configs)
        self.max_concurrently_running = max_concurrently_running
        self.array_limits = [array_limits.get(a, 2**31 - 1) for a in self.array_keys]
        self.dynamic_resources = dict(dynamic_resources or {})
        self.scale_overrides = dict(scale_overrides or {})
        self.queues: dict[str, QueueSet] = dict(queues or {})  # by cluster name
        if upstream_graph is not None:
            self._graph_from_upstreams(size, *upstream_graph)
        else:
            self._build_graph(size, edges)
        self.active_total = 0
        self.active_by_array = [0] * len(self.array_keys)
        self.counts: dict[str, int] = {str(s): 0 for s in TaskStatus}
        self._ready: list[deque[int]] = [deque() for _ in self.array_keys]
        self._retry: deque[int] = deque()
        self._fatal: list[int] = []
        self._adjust: list[int] = []
        self._to_scale: list[int] = []
        self._next_resources: dict[int, dict[str, Any]] = {}
        self._resource_errors: dict[int, int] = {}
        self.fatal_seen = 0
        for code, number in Counter(self.status).items():
            self.counts[chr(code)] += number
        # most tasks are G: those are handled here, without a call each
        ready, remaining, array_of = self._ready, self.remaining, self.array_of
        for i, code in enumerate(self.status):
            if code == _G:
                if not remaining[i]:
                    ready[array_of[i]].append(i)
                continue
            if code in _ACTIVE:
                self.active_total += 1
                self.active_by_array[array_of[i]] += 1
            self._after_entering(i)

    # ------------------------------------------------------------------ construction

    def _build_graph(self, size: int, edges: Iterable[tuple[int, int]]) -> None:
        # flat arrays of indices, not a tuple per edge (a resume of a million tasks)
        index_of = self.index_of
        ups = array("q")
        downs = array("q")
        for up, down in edges:
            ups.append(index_of[up])
            downs.append(index_of[down])
        degree = array("q", bytes(8 * (size + 1)))
        self.remaining = array("i", bytes(4 * size))
        for up in ups:
            degree[up + 1] += 1
        for i in range(size):
            degree[i + 1] += degree[i]
        self.down_offsets = degree
        fill = degree[:size]
        self.down_targets = array("q", bytes(8 * len(ups)))
        self.up_count = array("i", bytes(4 * size))
        for up, down in zip(ups, downs, strict=True):
            self.down_targets[fill[up]] = down  # each task's downstreams in edge order
            fill[up] += 1
            self.up_count[down] += 1
            if self.status[up] != _D:
                self.remaining[down] += 1

    def _graph_from_upstreams(self, size: int, offsets: Sequence[int],
                              targets: Sequence[int]) -> None:
        self.down_offsets, self.down_targets = reverse_csr(size, offsets, targets)
        self.up_count = array("i", (offsets[i + 1] - offsets[i] for i in range(size)))
        self.remaining = array("i", bytes(4 * size))
        status = self.status
        for down in range(size):
            waiting = 0
            for position in range(offsets[down], offsets[down + 1]):
                if status[targets[position]] != _D:
                    waiting += 1
            self.remaining[down] = waiting

    def downstream(self, i: int) -> array[int]:
        return self.down_targets[self.down_offsets[i] : self.down_offsets[i + 1]]

    # ------------------------------------------------------------------ bookkeeping

    def _after_entering(self, i: int) -> None:
        code = self.status[i]
        if code == _G and self.remaining[i] == 0:
            self._ready[self.array_of[i]].append(i)
        elif code == _F:
            self.fatal_seen += 1
        elif code == _E:
            self._on_error(i, None)
        elif code == _A:
            self._retry.append(i)

    def _on_error(self, i: int, error_status: str | None) -> None:
        verdict = decide(self.attempts[i], self.max_attempts[i], error_status)
        if verdict is Retry.FATAL:
            self._fatal.append(i)
        elif verdict is Retry.ADJUST:
            self._resource_errors[i] = self._resource_errors.get(i, 0) + 1
            self._to_scale.append(i)  # scaled when planned, with the queue limits known then
            self._adjust.append(i)
            self._retry.append(i)
        else:
            self._retry.append(i)

    @property
    def wants_queues(self) -> bool:
        """Resources are about to be scaled: the queue limits should be fresh."""
        return bool(self._to_scale)

    def _scale(self, i: int) -> None:
        config = self.configs[self.config_of[i]]
        scales = self.scale_overrides.get(self.config_of[i], config.resource_scales)
        queue_set = self.queues.get(config.cluster_name, QueueSet({}))
        self._next_resources[i] = resource_rules.scale_resources(
            self.resources_of(i), scales, self._resource_errors[i], queue_set.limits,
            config.fallback_queues, queue_set.default,
        )

    def resources_of(self, i: int) -> dict[str, Any]:
        """The resources of the task's next (or current) attempt."""
        scaled = self._next_resources.get(i)
        if scaled is not None:
            return scaled
        return dict(self.configs[self.config_of[i]].compute_resources)

    # ------------------------------------------------------------------ status changes

    def apply(self, task_id: int, status: str, num_attempts: int,
              error_status: str | None = None) -> None:
        """A status the server reported for a task."""
        i = self.index_of.get(task_id)
        if i is None:
            return
        self.attempts[i] = num_attempts
        new = ord(status)
        old = self.status[i]
        if new == old:
            return
        # counted inline, without a call (hot: every status change of every task is here)
        counts = self.counts
        counts[chr(old)] -= 1
        counts[chr(new)] += 1
        was_active, is_active = old in _ACTIVE, new in _ACTIVE
        if was_active != is_active:
            sign = 1 if is_active else -1
            self.active_total += sign
            self.active_by_array[self.array_of[i]] += sign
        self.status[i] = new
        if new == _D:
            for down in self.downstream(i):
                self.remaining[down] -= 1
                if self.remaining[down] == 0 and self.status[down] == _G:
                    self._ready[self.array_of[down]].append(down)
        elif old == _D:  # reset by an operator: its downstreams wait again
            for down in self.downstream(i):
                self.remaining[down] += 1
        if new == _F:
            self.fatal_seen += 1
        if new == _E:
            self._on_error(i, error_status)
        elif new == _G and self.remaining[i] == 0:
            self._ready[self.array_of[i]].append(i)

    def clusters(self) -> set[str]:
        return {config.cluster_name for config in self.configs}

    def set_queues(self, cluster_name: str, queues: QueueSet) -> None:
        """The limits of a cluster's queues, for scaling after resource errors."""
        self.queues[cluster_name] = queues

    def set_limits(self, max_concurrently_running: int, array_limits: Mapping[int, int]) -> None:
        self.max_concurrently_running = max_concurrently_running
        for position, array_id in enumerate(self.array_keys):
            if array_id in array_limits:
                self.array_limits[position] = array_limits[array_id]

    # ------------------------------------------------------------------ planning

    def plan(self, *, fail_fast: bool = False, max_batch: int = 100_000) -> TickPlan:
        """Decide this tick: give up on exhausted tasks, scale, and queue within limits."""
        plan = TickPlan()
        for i in self._to_scale:
            self._scale(i)
        self._to_scale.clear()
        plan.fatal = [self.task_ids[i] for i in self._fatal if self.status[i] == _E]
        plan.adjust = [self.task_ids[i] for i in self._adjust if self.status[i] == _E]
        self._fatal.clear()
        self._adjust.clear()
        for task_id in plan.fatal:
            self.apply(task_id, str(TS.ERROR_FATAL), self.attempts[self.index_of[task_id]])
        if fail_fast and self.fatal_seen:
            return plan
        room = min(self.max_concurrently_running - self.active_total, max_batch)
        groups: dict[tuple[int, str | None], QueuePlan] = {}
        room = self._take(self._retry, room, groups, retry=True)
        for position in range(len(self._ready)):
            if room <= 0:
                break
            room = self._take(self._ready[position], room, groups, retry=False)
        plan.queue = list(groups.values())
        return plan

    def _take(
        self,
        candidates: deque[int],
        room: int,
        groups: dict[tuple[int, str | None], QueuePlan],
        *,
        retry: bool,
    ) -> int:
        skipped: list[int] = []
        while candidates and room > 0:
            i = candidates.popleft()
            wanted = (_E, _A) if retry else (_G,)
            if self.status[i] not in wanted or (not retry and self.remaining[i]):
                continue  # stale entry: the task moved on
            position = self.array_of[i]
            if self.active_by_array[position] >= self.array_limits[position]:
                skipped.append(i)
                if not retry:
                    break  # this array is full; its other tasks wait too
                continue
            resources = self._resources_to_send(i)
            key = (position, None if resources is None else json.dumps(resources, sort_keys=True))
            group = groups.get(key)
            if group is None:
                group = groups[key] = QueuePlan(task_ids=[], compute_resources=resources)
            group.task_ids.append(self.task_ids[i])
            self.apply(self.task_ids[i], str(TS.QUEUED), self.attempts[i] + 1)
            room -= 1
        candidates.extendleft(reversed(skipped))
        return room

    def _resources_to_send(self, i: int) -> dict[str, Any] | None:
        task_id = self.task_ids[i]
        dynamic = self.dynamic_resources.get(task_id)
        if dynamic is not None:
            base = self.configs[self.config_of[i]].compute_resources
            given = dynamic()
            if not isinstance(given, Mapping):
                raise CallableReturnedInvalidObject(
                    f"the compute resources callable {dynamic!r} of task {task_id} returned "
                    f"{given!r}: it must return a dict such as {{'memory': '2G'}}")
            return resource_rules.merge(base, resource_rules.normalize(given))
        return self._next_resources.get(i)

    # ------------------------------------------------------------------ outcome

    @property
    def size(self) -> int:
        return len(self.task_ids)

    @property
    def all_done(self) -> bool:
        return self.counts[str(TS.DONE)] == self.size

    @property
    def has_pending_work(self) -> bool:
        """Something is active, ready, or waiting to be retried or given up on."""
        return bool(
            self.active_total
            or self._retry
            or self._fatal
            or self._adjust
            or any(self._ready_now(queue) for queue in self._ready)
        )

    def _ready_now(self, queue: deque[int]) -> bool:
        return any(self.status[i] == _G and self.remaining[i] == 0 for i in queue)

    def finished(self, fail_fast: bool) -> bool:
        """Nothing more can happen: all DONE, or no progress is possible."""
        if self.all_done:
            return True
        if fail_fast and self.fatal_seen:
            return self.active_total == 0 and not self._fatal
        return not self.has_pending_work

    def progress(self) -> dict[str, int]:
        return dict(self.counts)
