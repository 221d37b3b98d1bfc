"""SwarmState under random DAGs, limits and event orders: never an illegal state."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobmon.client.swarm.state import SwarmState
from tests.unit.test_swarm_state import ACTIVE, BASE, make_state, queued, tid


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.integers(1, 40))
    pairs = st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)).filter(
        lambda pair: pair[0] < pair[1])
    edges = sorted(set(draw(st.lists(pairs, max_size=3 * size)))) if size > 1 else []
    num_arrays = draw(st.integers(1, 3))
    arrays = draw(st.lists(st.integers(1, num_arrays), min_size=size, max_size=size))
    done = set(draw(st.lists(st.integers(0, size - 1), max_size=size)))
    for up, down in sorted(edges, key=lambda edge: -edge[1]):  # upstreams of DONE are DONE
        if down in done:
            done.add(up)
    return {
        "size": size,
        "edges": edges,
        "arrays": arrays,
        "limit": draw(st.integers(1, 8)),
        "array_limits": {a: draw(st.integers(1, 6)) for a in range(1, num_arrays + 1)
                         if draw(st.booleans())},
        "max_attempts": draw(st.integers(1, 3)),
        "statuses": "".join("D" if i in done else "G" for i in range(size)),
        "failures": draw(st.booleans()),
        "fail_fast": draw(st.booleans()),
        "resets": draw(st.integers(0, 3)),
    }


def check_invariants(state: SwarmState, scenario: dict[str, Any]) -> None:
    letters = [chr(code) for code in state.status]
    recount = Counter(letters)
    assert sum(state.counts.values()) == scenario["size"]
    assert {k: v for k, v in state.counts.items() if v} == dict(recount)
    active = [i for i, letter in enumerate(letters) if letter in ACTIVE]
    assert state.active_total == len(active) <= scenario["limit"]
    per_array = Counter(scenario["arrays"][i] for i in active)
    for array_id, count in per_array.items():
        assert count <= scenario["array_limits"].get(array_id, 2**31)
    assert all(state.attempts[i] <= scenario["max_attempts"] for i in range(scenario["size"]))


def reset_done_task(state: SwarmState, downstreams: list[list[int]],
                    data: st.DataObject) -> int:
    """`jobmon task update -s G`: a DONE task and everything below it, if none of it runs."""
    closures = {}
    for i in range(state.size):
        if chr(state.status[i]) != "D":
            continue
        closure, stack = {i}, list(downstreams[i])
        while stack:
            node = stack.pop()
            if node not in closure:
                closure.add(node)
                stack.extend(downstreams[node])
        if not any(chr(state.status[node]) in ACTIVE for node in closure):
            closures[i] = closure
    if not closures:
        return 0
    chosen = closures[data.draw(st.sampled_from(sorted(closures)))]
    for node in data.draw(st.permutations(sorted(chosen))):  # the sync returns any order
        state.apply(tid(node), "G", 0)
    return 1


class Server:
    """Plays the server's side: reports instance progress and outcomes, and operator resets."""

    def __init__(self, scenario: dict[str, Any], data: st.DataObject) -> None:
        self.scenario, self.data = scenario, data
        size = self.size = scenario["size"]
        self.state = make_state(size, scenario["edges"], statuses=scenario["statuses"],
                                arrays=scenario["arrays"], limit=scenario["limit"],
                                array_limits=scenario["array_limits"],
                                max_attempts=scenario["max_attempts"])
        self.upstreams: list[list[int]] = [[] for _ in range(size)]
        self.downstreams: list[list[int]] = [[] for _ in range(size)]
        for up, down in scenario["edges"]:
            self.upstreams[down].append(up)
            self.downstreams[up].append(down)
        self.resource_errors = [0] * size
        self.resets = scenario["resets"]
        self.fatal_seen = False

    def letter(self, i: int) -> str:
        return chr(self.state.status[i])

    def tick(self) -> None:
        """One plan(), checked: only ready tasks, with the resources their errors call for."""
        was_done = [self.letter(i) == "D" for i in range(self.size)]
        plan = self.state.plan(fail_fast=self.scenario["fail_fast"])
        if self.scenario["fail_fast"] and self.fatal_seen:
            assert queued(plan) == [], "fail_fast: nothing new after a fatal task"
        for group in plan.queue:
            for task_id in group.task_ids:
                i = self.state.index_of[task_id]
                assert all(was_done[up] for up in self.upstreams[i]), (i, self.upstreams[i])
                memory = BASE["memory"]
                for _ in range(self.resource_errors[i]):
                    memory = math.ceil(memory * 1.5)
                assert (group.compute_resources or BASE)["memory"] == memory
        self.fatal_seen = self.fatal_seen or bool(self.state.counts["F"])

    def event(self, active: list[int]) -> None:
        draw = self.data.draw
        if self.resets and draw(st.booleans()):
            self.resets -= reset_done_task(self.state, self.downstreams, self.data)
            return
        i = draw(st.sampled_from(active))
        letter, attempts = self.letter(i), self.state.attempts[i]
        if letter == "Q":
            self.state.apply(tid(i), "I", attempts)
        elif letter == "I":
            self.state.apply(tid(i), draw(st.sampled_from("OR")), attempts)
        elif self.scenario["failures"] and draw(st.booleans()):
            error_status = draw(st.sampled_from(["E", "Z", "U", None]))
            if error_status == "Z" and attempts < self.scenario["max_attempts"]:
                self.resource_errors[i] += 1
            self.state.apply(tid(i), "E", attempts, error_status)
        else:
            self.state.apply(tid(i), "R" if letter == "O" else "D", attempts)

    def check_end(self) -> None:
        letters = [self.letter(i) for i in range(self.size)]
        assert self.state.all_done == all(letter == "D" for letter in letters)
        if not self.scenario["failures"]:
            assert self.state.all_done
        if self.scenario["fail_fast"]:
            return
        for i, letter in enumerate(letters):
            assert letter in "DFG", (i, letter)
            if letter == "F":
                assert self.state.attempts[i] == self.scenario["max_attempts"]
            if letter == "G":  # blocked behind a task that is not DONE
                assert any(letters[up] != "D" for up in self.upstreams[i])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_random_dags_and_event_orders_never_reach_an_illegal_state(
    scenario: dict[str, Any], data: st.DataObject
) -> None:
    server = Server(scenario, data)
    state, fail_fast = server.state, scenario["fail_fast"]
    for _ in range(20 * scenario["size"] * scenario["max_attempts"] + 10):
        check_invariants(state, scenario)
        if state.finished(fail_fast):
            break
        server.tick()
        check_invariants(state, scenario)
        active = [i for i in range(server.size) if server.letter(i) in ACTIVE]
        if not active:
            assert state.finished(fail_fast), "nothing runs, yet the swarm is not finished"
            break
        server.event(active)
    else:
        pytest.fail("the swarm never finished")
    server.check_end()
