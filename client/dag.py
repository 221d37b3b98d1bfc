"""Graph checks on task indices (pure): cycles, with a readable path when one is found.

A graph is held as flat arrays (CSR): the upstreams of node ``i`` are
``targets[offsets[i]:offsets[i + 1]]``; a million nodes cost a few arrays, not a million
lists.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence


def to_csr(upstreams: Sequence[Sequence[int]]) -> tuple[array[int], array[int]]:
    """``upstreams[i]`` (the nodes ``i`` depends on) as (offsets, targets)."""
    offsets = array("q", [0])
    targets = array("q")
    for ups in upstreams:
        targets.extend(ups)
        offsets.append(len(targets))
    return offsets, targets


def reverse_csr(num_nodes: int, offsets: Sequence[int], targets: Sequence[int]
                ) -> tuple[array[int], array[int]]:
    """The same edges the other way: from upstreams by node to downstreams by node (each
    node's downstreams in the order the nodes come)."""
    reverse_offsets = array("q", bytes(8 * (num_nodes + 1)))
    for target in targets:
        reverse_offsets[target + 1] += 1
    for node in range(num_nodes):
        reverse_offsets[node + 1] += reverse_offsets[node]
    fill = reverse_offsets[:num_nodes]
    reverse_targets = array("q", bytes(8 * len(targets)))
    for node in range(num_nodes):
        for position in range(offsets[node], offsets[node + 1]):
            target = targets[position]
            reverse_targets[fill[target]] = node
            fill[target] += 1
    return reverse_offsets, reverse_targets


def find_cycle(num_nodes: int, upstreams: Sequence[Sequence[int]]) -> list[int] | None:
    """A cycle as a list of node indices (first == last), or None if the graph is acyclic.

    ``upstreams[i]`` lists the nodes ``i`` depends on.
    """
    return find_cycle_csr(num_nodes, *to_csr(upstreams))


def find_cycle_csr(num_nodes: int, offsets: Sequence[int], targets: Sequence[int]
                   ) -> list[int] | None:
    """``find_cycle`` of a graph given as upstream (offsets, targets)."""
    remaining = array("q", (offsets[node + 1] - offsets[node] for node in range(num_nodes)))
    down_offsets, down_targets = reverse_csr(num_nodes, offsets, targets)
    ready = [node for node in range(num_nodes) if remaining[node] == 0]
    visited = 0
    while ready:
        node = ready.pop()
        visited += 1
        for position in range(down_offsets[node], down_offsets[node + 1]):
            down = down_targets[position]
            remaining[down] -= 1
            if remaining[down] == 0:
                ready.append(down)
    if visited == num_nodes:
        return None
    # Every node left has an unvisited upstream: walk upstream until a node repeats.
    start = next(node for node in range(num_nodes) if remaining[node] > 0)
    seen: dict[int, int] = {}
    path: list[int] = []
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(up for up in targets[offsets[node]:offsets[node + 1]] if remaining[up] > 0)
    cycle = [*path[seen[node]:], node]
    cycle.reverse()  # upstream first, as the dependencies run
    return cycle
