"""Cycle detection on task indices, with a readable path that follows real edges."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobmon.client.dag import find_cycle


def upstreams_from(num_nodes: int, edges: list[tuple[int, int]]) -> list[list[int]]:
    """Edges as (upstream, downstream) -> upstreams[i]: the nodes i depends on."""
    upstreams: list[list[int]] = [[] for _ in range(num_nodes)]
    for up, down in edges:
        upstreams[down].append(up)
    return upstreams


def assert_real_cycle(cycle: list[int] | None, edges: set[tuple[int, int]]) -> None:
    assert cycle is not None
    assert len(cycle) >= 2
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1  # a simple cycle: no node twice
    for up, down in itertools.pairwise(cycle):
        assert (up, down) in edges, f"{up} -> {down} is not an edge of {sorted(edges)}"


# ------------------------------------------------------------------ acyclic


@pytest.mark.parametrize(
    ("num_nodes", "edges"),
    [
        (0, []),
        (1, []),
        (3, []),
        (3, [(0, 1), (1, 2)]),
        (4, [(0, 1), (0, 2), (1, 3), (2, 3)]),  # a diamond
        (4, [(3, 2), (2, 1), (1, 0)]),  # edges against index order
        (3, [(0, 1), (0, 1)]),  # the same dependency twice
    ],
)
def test_acyclic_graphs_have_no_cycle(num_nodes: int, edges: list[tuple[int, int]]) -> None:
    assert find_cycle(num_nodes, upstreams_from(num_nodes, edges)) is None


# ------------------------------------------------------------------ cycles


def test_two_cycle() -> None:
    edges = [(0, 1), (1, 0)]
    assert_real_cycle(find_cycle(2, upstreams_from(2, edges)), set(edges))


def test_long_cycle_is_reported_whole_and_in_dependency_order() -> None:
    edges = [(i, (i + 1) % 6) for i in range(6)]
    cycle = find_cycle(6, upstreams_from(6, edges))
    assert_real_cycle(cycle, set(edges))
    assert cycle is not None
    assert sorted(cycle[:-1]) == list(range(6))


def test_cycle_behind_an_acyclic_prefix_names_only_the_cycle() -> None:
    # 0 -> 1 -> 2 -> 3 -> 4 -> 2, plus a harmless branch 0 -> 5.
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 2), (0, 5)]
    cycle = find_cycle(6, upstreams_from(6, edges))
    assert_real_cycle(cycle, set(edges))
    assert cycle is not None
    assert set(cycle) == {2, 3, 4}


def test_cycle_feeding_downstream_tasks_is_still_found() -> None:
    # 1 <-> 2 is the cycle; 3 and 4 hang below it and are not part of it.
    edges = [(0, 1), (1, 2), (2, 1), (2, 3), (3, 4)]
    cycle = find_cycle(5, upstreams_from(5, edges))
    assert_real_cycle(cycle, set(edges))
    assert cycle is not None
    assert set(cycle) == {1, 2}


def test_self_loop_is_a_cycle() -> None:
    # Task.add_upstream refuses this, but the check itself must not miss it.
    assert find_cycle(2, [[], [1]]) == [1, 1]


def test_one_cycle_among_several_components() -> None:
    edges = [(0, 1), (2, 3), (3, 4), (4, 3), (5, 6)]
    assert_real_cycle(find_cycle(7, upstreams_from(7, edges)), set(edges))


# ------------------------------------------------------------------ properties


@st.composite
def forward_dags(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    """Graphs whose edges only go from a lower to a higher index: acyclic by construction."""
    num_nodes = draw(st.integers(min_value=1, max_value=30))
    if num_nodes < 2:
        return num_nodes, []
    pairs = st.tuples(st.integers(0, num_nodes - 2), st.integers(1, num_nodes - 1)).filter(
        lambda pair: pair[0] < pair[1])
    edges = draw(st.lists(pairs, max_size=80))
    return num_nodes, edges


def relabel(num_nodes: int, edges: list[tuple[int, int]], order: list[int]
            ) -> list[tuple[int, int]]:
    return [(order[up], order[down]) for up, down in edges]


@settings(max_examples=200)
@given(forward_dags(), st.randoms())
def test_random_dags_never_report_a_cycle(
    graph: tuple[int, list[tuple[int, int]]], rng: random.Random
) -> None:
    num_nodes, edges = graph
    order = list(range(num_nodes))
    rng.shuffle(order)
    relabelled = relabel(num_nodes, edges, order)  # so index order is no hint
    assert find_cycle(num_nodes, upstreams_from(num_nodes, relabelled)) is None


def reachable_pairs(num_nodes: int, edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(a, b) with a path a -> ... -> b of at least one edge."""
    downstream: list[list[int]] = [[] for _ in range(num_nodes)]
    for up, down in edges:
        downstream[up].append(down)
    pairs: list[tuple[int, int]] = []
    for start in range(num_nodes):
        seen: set[int] = set()
        stack = list(downstream[start])
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(downstream[node])
        pairs.extend((start, end) for end in sorted(seen))
    return pairs


@settings(max_examples=200)
@given(forward_dags(), st.data())
def test_one_back_edge_closing_a_path_is_always_found(
    graph: tuple[int, list[tuple[int, int]]], data: st.DataObject
) -> None:
    num_nodes, edges = graph
    paths = reachable_pairs(num_nodes, edges)
    if not paths:
        return
    start, end = data.draw(st.sampled_from(paths))
    order = data.draw(st.permutations(range(num_nodes)))
    closed = relabel(num_nodes, [*edges, (end, start)], list(order))
    cycle = find_cycle(num_nodes, upstreams_from(num_nodes, closed))
    assert_real_cycle(cycle, set(closed))
    assert cycle is not None
    assert (order[end], order[start]) in set(itertools.pairwise(cycle))
