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
    hasher = hashlib.sha256()
    for name, node_hash, task_hash in sorted(task_keys):
        hasher.update(f"{name}\x1e{node_hash}\x1e{task_hash}\x1f".encode())
    return hasher.hexdigest()


EMPTY_ARGS_HASH = int.from_bytes(hashlib.blake2b(b"", digest_size=8).digest(), "big") >> 1
