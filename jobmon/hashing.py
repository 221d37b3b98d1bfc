"""Stable identity hashes for nodes, tasks and workflows (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping


def _canonical(args: Mapping[str, object]) -> bytes:
    # Values are compared as text, as Jobmon does: year=2020 and year="2020" are one node.
    # Each key and value carries its length, so no value, whatever characters it holds,
    # can read as the end of one argument and the start of another.
    parts = []
    for key in sorted(args):
        value = str(args[key])
        parts.append(f"{len(key)}:{key}{len(value)}:{value}")
    return "".join(parts).encode()


def args_hash(args: Mapping[str, object]) -> int:
    """A signed 63-bit hash of an args mapping, stored as a PostgreSQL bigint."""
    if not args:
        return EMPTY_ARGS_HASH
    digest = hashlib.blake2b(_canonical(args), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def text_hash(text: str) -> str:
    """A hex digest of a string (workflow_args, command templates)."""
    return hashlib.sha256(text.encode()).hexdigest()


def task_set_hash(task_keys: Iterable[tuple[str, int, int]]) -> str:
    """A hex digest of a set of (template name, node args hash, task args hash)."""
    # The keys in sorted order, each as "name RS node RS task US". Sorted by name, then
    # each name's pairs as one int (node hash above task hash: both fit in 63 bits, so the
    # int's order is the pair's), which sorts far faster than a million tuples.
    by_name: dict[str, list[int]] = {}
    wide: list[tuple[str, int, int]] = []  # a hash outside 63 bits: sorted as a tuple
    for name, node_hash, task_hash in task_keys:
        if 0 <= node_hash < _HASH_LIMIT and 0 <= task_hash < _HASH_LIMIT:
            pairs = by_name.get(name)
            if pairs is None:
                pairs = by_name[name] = []
            pairs.append(node_hash << 63 | task_hash)
        else:
            wide.append((name, node_hash, task_hash))
    hasher = hashlib.sha256()
    if wide:  # not from args_hash: the plain way, for the same digest
        for name, pairs in by_name.items():
            wide.extend((name, pair >> 63, pair & _HASH_MASK) for pair in pairs)
        for name, node_hash, task_hash in sorted(wide):
            hasher.update(f"{name}\x1e{node_hash}\x1e{task_hash}\x1f".encode())
        return hasher.hexdigest()
    for name in sorted(by_name):
        pairs = sorted(by_name[name])
        for start in range(0, len(pairs), 4096):
            hasher.update("".join(
                [f"{name}\x1e{pair >> 63}\x1e{pair & _HASH_MASK}\x1f"
                 for pair in pairs[start:start + 4096]]).encode())
    return hasher.hexdigest()


_HASH_LIMIT = 1 << 63
_HASH_MASK = _HASH_LIMIT - 1


EMPTY_ARGS_HASH = int.from_bytes(hashlib.blake2b(b"", digest_size=8).digest(), "big") >> 1
