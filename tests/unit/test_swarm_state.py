"""SwarmState: what is ready, limits, retries, scaling, giving up, and finishing."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobmon.client.dag import to_csr
from jobmon.client.swarm.after_failure import Retry, decide
from jobmon.client.swarm.state import SwarmState, TickPlan
from jobmon.errors import CallableReturnedInvalidObject
from jobmon.wire import TaskConfig

ACTIVE = set("QIOR")
BASE = {"cores": 1, "memory": 1000, "runtime": 600}


def config(resources: Mapping[str, Any] = BASE, max_attempts: int = 3) -> TaskConfig:
    return TaskConfig(cluster_name="local", compute_resources=dict(resources),
                      resource_scales={"memory": 0.5, "runtime": 0.5},
                      max_attempts=max_attempts)


def tid(i: int) -> int:
    """Task ids differ from indices, so a mix-up of the two shows."""
    return 1000 + 7 * i


def make_state(
    size: int,
    edges: Sequence[tuple[int, int]] = (),
    *,
    statuses: str | None = None,
    arrays: Sequence[int] | None = None,
    limit: int = 10_000,
    array_limits: Mapping[int, int] | None = None,
    max_attempts: int = 3,
    num_attempts: Sequence[int] | None = None,
    **extra: Any,
) -> SwarmState:
    """``edges`` as (upstream index, downstream index)."""
    return SwarmState(
        task_ids=[tid(i) for i in range(size)],
        array_ids=list(arrays) if arrays is not None else [1] * size,
        statuses=statuses or "G" * size,
        num_attempts=list(num_attempts) if num_attempts is not None else [0] * size,
        max_attempts=[max_attempts] * size,
        config_index=[0] * size,
        configs=[config(max_attempts=max_attempts)],
        edges=[(tid(up), tid(down)) for up, down in edges],
        max_concurrently_running=limit,
        array_limits=dict(array_limits or {}),
        **extra,
    )


def queued(plan: TickPlan) -> list[int]:
    return sorted(task_id for group in plan.queue for task_id in group.task_ids)


def ids(*indices: int) -> list[int]:
    return sorted(tid(i) for i in indices)


def run(state: SwarmState, i: int, outcome: str = "D", error_status: str | None = None) -> None:
    """The server's reports for one attempt of task ``i``, from Q to its outcome."""
    attempts = state.attempts[i]
    for letter in ("I", "O", "R"):
        state.apply(tid(i), letter, attempts)
    state.apply(tid(i), outcome, attempts, error_status)


# ------------------------------------------------------------------ ready tasks


def test_plan_queues_exactly_the_tasks_without_pending_upstreams() -> None:
    state = make_state(5, [(0, 1), (1, 2), (3, 2)])  # task 4 stands alone
    plan = state.plan()
    assert queued(plan) == ids(0, 3, 4)
    assert all(state.status[i] == ord("Q") for i in (0, 3, 4))
    assert [state.attempts[i] for i in range(5)] == [1, 0, 0, 1, 1]
    assert queued(state.plan()) == []  # nothing is queued twice


def test_a_task_is_ready_as_soon_as_its_last_upstream_is_done() -> None:
    state = make_state(3, [(0, 2), (1, 2)])
    state.plan()
    run(state, 0)
    assert queued(state.plan()) == []
    run(state, 1)
    assert queued(state.plan()) == ids(2)


def test_resumed_state_skips_done_tasks_and_releases_their_downstream() -> None:
    state = make_state(4, [(0, 1), (1, 2), (2, 3)], statuses="DDGG")
    assert queued(state.plan()) == ids(2)


def test_operator_reset_of_a_done_task_makes_its_downstream_wait_again() -> None:
    state = make_state(2, [(0, 1)], statuses="DG")  # 1 is ready...
    state.apply(tid(0), "G", 1)  # ...until 0 is reset
    assert queued(state.plan()) == ids(0)
    run(state, 0)
    assert queued(state.plan()) == ids(1)


def test_resetting_a_finished_chain_queues_it_again_in_order() -> None:
    state = make_state(2, [(0, 1)], statuses="DD", num_attempts=[1, 1])
    state.apply(tid(1), "G", 1)  # `jobmon task update -s G` resets downstream too
    state.apply(tid(0), "G", 1)
    assert queued(state.plan()) == ids(0)
    assert not state.finished(fail_fast=False)


def test_reports_for_unknown_tasks_are_ignored() -> None:
    state = make_state(1)
    state.apply(999_999, "D", 1)
    assert state.counts["G"] == 1


# ------------------------------------------------------------------ limits


def test_workflow_limit_is_never_exceeded() -> None:
    state = make_state(10, limit=3)
    assert len(queued(state.plan())) == 3
    assert queued(state.plan()) == []
    run(state, 0)
    assert len(queued(state.plan())) == 1
    assert state.active_total == 3


def test_array_limit_holds_back_only_that_array() -> None:
    state = make_state(10, arrays=[5] * 5 + [6] * 5, array_limits={5: 2}, limit=100)
    plan = state.plan()
    assert queued(plan) == ids(0, 1, 5, 6, 7, 8, 9)
    assert len(plan.queue) == 2  # one batch per array
    run(state, 0)
    assert queued(state.plan()) == ids(2)


def test_raising_limits_lets_more_tasks_start() -> None:
    state = make_state(6, arrays=[5] * 6, array_limits={5: 1}, limit=2)
    assert len(queued(state.plan())) == 1
    state.set_limits(4, {5: 10})
    assert len(queued(state.plan())) == 3
    assert state.active_total == 4


def test_lowering_the_limit_stops_queueing_until_tasks_finish() -> None:
    state = make_state(6, limit=4)
    state.plan()
    state.set_limits(2, {})
    run(state, 0)
    assert queued(state.plan()) == []  # 3 still active, limit 2
    run(state, 1)
    run(state, 2)
    assert len(queued(state.plan())) == 1


def test_max_batch_spreads_a_large_queue_over_ticks() -> None:
    state = make_state(5)
    assert len(queued(state.plan(max_batch=2))) == 2
    assert len(queued(state.plan(max_batch=2))) == 2
    assert len(queued(state.plan(max_batch=2))) == 1


def test_batches_are_split_by_resources() -> None:
    state = make_state(3, max_attempts=5)
    state.plan()
    for i in range(3):
        run(state, i, "E", "Z" if i == 0 else "E")
    plan = state.plan()
    by_memory = {None if group.compute_resources is None else group.compute_resources["memory"]:
                 sorted(group.task_ids) for group in plan.queue}
    assert by_memory == {1500: ids(0), None: ids(1, 2)}


# ------------------------------------------------------------------ failures


def test_retry_decision() -> None:
    assert decide(1, 3, "E") is Retry.AGAIN
    assert decide(1, 3, None) is Retry.AGAIN
    assert decide(2, 3, "Z") is Retry.ADJUST
    assert decide(3, 3, "Z") is Retry.FATAL
    assert decide(4, 3, "E") is Retry.FATAL


def test_a_failed_task_with_attempts_left_is_queued_again() -> None:
    state = make_state(1)
    state.plan()
    run(state, 0, "E", "E")
    plan = state.plan()
    assert queued(plan) == ids(0)
    assert plan.fatal == [] and plan.adjust == []
    assert plan.queue[0].compute_resources is None  # same resources as before
    assert state.attempts[0] == 2


def test_resource_error_scales_memory_and_runtime_and_compounds() -> None:
    state = make_state(1, max_attempts=5)
    state.plan()
    expected_memory = [1500, 2250, 3375]
    for memory in expected_memory:
        run(state, 0, "E", "Z")
        plan = state.plan()
        assert plan.adjust == [tid(0)]
        assert queued(plan) == ids(0)
        sent = plan.queue[0].compute_resources
        assert sent is not None
        assert sent["memory"] == memory
        assert sent["cores"] == 1
    assert sent["runtime"] == math.ceil(math.ceil(900 * 1.5) * 1.5)


def test_a_plain_error_after_a_resource_error_keeps_the_scaled_resources() -> None:
    state = make_state(1, max_attempts=5)
    state.plan()
    run(state, 0, "E", "Z")
    state.plan()
    run(state, 0, "E", "E")
    plan = state.plan()
    assert plan.adjust == []
    assert plan.queue[0].compute_resources is not None
    assert plan.queue[0].compute_resources["memory"] == 1500


def test_callable_scale_overrides_the_wire_factors() -> None:
    state = make_state(1, scale_overrides={0: {"memory": lambda value: value * 4}})
    state.plan()
    run(state, 0, "E", "Z")
    sent = state.plan().queue[0].compute_resources
    assert sent is not None and sent["memory"] == 4000 and sent["runtime"] == 600


def test_dynamic_resources_are_evaluated_when_the_task_is_queued() -> None:
    calls = []

    def resources() -> dict[str, Any]:
        calls.append(1)
        return {"memory": "2G"}

    state = make_state(2, [(0, 1)], dynamic_resources={tid(1): resources})
    state.plan()
    assert calls == []
    run(state, 0)
    sent = state.plan().queue[0].compute_resources
    assert calls == [1]
    assert sent == {"cores": 1, "memory": 2048, "runtime": 600}


def test_dynamic_resources_that_are_no_dict_are_jobmons_error() -> None:
    state = make_state(1, dynamic_resources={tid(0): lambda: ["2G"]})
    with pytest.raises(CallableReturnedInvalidObject, match=r"returned \['2G'\]"):
        state.plan()


def test_absolute_scale_values_come_one_per_resource_error() -> None:
    # Jobmon's iter([...]) arrives as {"values": [...]} in canonical units
    state = SwarmState(
        task_ids=[tid(0)], array_ids=[1], statuses="G", num_attempts=[0], max_attempts=[4],
        config_index=[0], edges=[], max_concurrently_running=10, array_limits={},
        configs=[TaskConfig(cluster_name="local", compute_resources=dict(BASE), max_attempts=4,
                            resource_scales={"memory": {"values": [3000, 5000]}})])
    state.plan()
    sent = []
    for _ in range(3):
        state.apply(tid(0), "E", state.attempts[0], error_status="Z")
        plan = state.plan()
        sent.append(plan.queue[0].compute_resources["memory"])
    assert sent == [3000, 5000, 5000]


def test_used_up_attempts_are_fatal_and_block_the_downstream() -> None:
    state = make_state(3, [(0, 1)], max_attempts=2)
    state.plan()
    run(state, 2)
    run(state, 0, "E", "E")
    assert queued(state.plan()) == ids(0)
    run(state, 0, "E", "Z")
    plan = state.plan()
    assert plan.fatal == [tid(0)]
    assert plan.adjust == [] and queued(plan) == []
    assert chr(state.status[0]) == "F"
    assert queued(state.plan()) == []
    assert chr(state.status[1]) == "G"
    assert state.finished(fail_fast=False)
    assert not state.all_done


def test_an_error_already_in_the_database_is_decided_on_start() -> None:
    state = make_state(2, statuses="EE", num_attempts=[3, 1], max_attempts=3)
    plan = state.plan()
    assert plan.fatal == ids(0)
    assert queued(plan) == ids(1)


def test_fail_fast_queues_nothing_after_a_fatal_task() -> None:
    state = make_state(4, limit=2, max_attempts=1)
    assert queued(state.plan(fail_fast=True)) == ids(0, 1)
    run(state, 0, "E", "E")
    plan = state.plan(fail_fast=True)
    assert plan.fatal == ids(0)
    assert queued(plan) == []
    assert not state.finished(fail_fast=True)  # task 1 still runs
    run(state, 1)
    assert queued(state.plan(fail_fast=True)) == []
    assert state.finished(fail_fast=True)
    assert not state.finished(fail_fast=False)  # without fail_fast, 2 and 3 would run


# ------------------------------------------------------------------ finishing and counts


def test_finished_when_everything_is_done() -> None:
    state = make_state(3, [(0, 1), (1, 2)])
    for i in range(3):
        assert not state.finished(fail_fast=False)
        state.plan()
        run(state, i)
    assert state.all_done
    assert state.finished(fail_fast=False) and state.finished(fail_fast=True)


def test_not_finished_while_work_waits_for_room() -> None:
    state = make_state(2, limit=1)
    state.plan()
    run(state, 0)
    assert not state.finished(fail_fast=False)


def test_counts_follow_every_change() -> None:
    state = make_state(3, [(0, 1)])
    state.plan()
    assert state.progress() == {**dict.fromkeys("GQIORDEAF", 0), "Q": 2, "G": 1}
    run(state, 0)
    assert state.counts["D"] == 1 and state.counts["Q"] == 1 and state.counts["G"] == 1
    assert sum(state.counts.values()) == 3


def test_duplicate_task_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        SwarmState(task_ids=[1, 1], array_ids=[1, 1], statuses="GG", num_attempts=[0, 0],
                   max_attempts=[3, 3], config_index=[0, 0], configs=[config()], edges=[],
                   max_concurrently_running=10, array_limits={})


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12).flatmap(lambda size: st.tuples(
    st.just(size),
    st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)).filter(
        lambda edge: edge[0] < edge[1]), max_size=30, unique=True),
    st.text(alphabet="GDQE", min_size=size, max_size=size))))
def test_the_graph_from_upstreams_is_the_graph_from_edges(
        case: tuple[int, list[tuple[int, int]], str]) -> None:
    """A new run builds the graph from the bound workflow's upstreams by index, a resume
    from the server's edges: the same downstreams, counts and waiting tasks."""
    size, edges, statuses = case
    ordered = sorted(edges, key=lambda edge: (edge[1], edge[0]))  # as the binder sends them
    upstreams: list[list[int]] = [[] for _ in range(size)]
    for up, down in ordered:
        upstreams[down].append(up)
    from_edges = make_state(size, ordered, statuses=statuses)
    from_upstreams = make_state(size, statuses=statuses, upstream_graph=to_csr(upstreams))
    for name in ("down_offsets", "down_targets", "up_count", "remaining"):
        assert getattr(from_upstreams, name) == getattr(from_edges, name), name
    assert [list(queue) for queue in from_upstreams._ready] == [
        list(queue) for queue in from_edges._ready]
    assert queued(from_upstreams.plan()) == queued(from_edges.plan())
