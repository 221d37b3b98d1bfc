"""Graph checks on task indices (pure): cycles, with a readable path when one is found."""

from __future__ import annotations

from collections.abc import Sequence


def find_cycle(num_nodes: int, upstreams: Sequence[Sequence[int]]) -> list[int] | None:
    """A cycle as a list of node indices (first == last), or None if the graph is acyclic.

    ``upstreams[i]`` lists the nodes ``i`` depends on.
    """
    remaining = [len(ups) for ups in upstreams]
    downstreams: list[list[int]] = [[] for _ in range(num_nodes)]
    for node, ups in enumerate(upstreams):
        for up in ups:
            downstreams[up].append(node)
    ready = [node for node in range(num_nodes) if remaining[node] == 0]
    visited = 0
    while ready:
        node = ready.pop()
        visited += 1
        for down in downstreams[node]:
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
        node = next(up for up in upstreams[node] if remaining[up] > 0)
    cycle = [*path[seen[node]:], node]
    cycle.reverse()  # upstream first, as the dependencies run
    return cycle
