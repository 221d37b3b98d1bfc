"""Named SQL blocks from ``queries/*.sql``, loaded once at import.

Each block starts with ``-- name: <name>``, then a comment line saying what it does.
"""

from __future__ import annotations

import re
from importlib import resources
from types import MappingProxyType

_NAME_RE = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def _parse(text: str, origin: str) -> dict[str, str]:
    blocks: dict[str, str] = {}
    matches = list(_NAME_RE.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        name = match.group(1)
        if name in blocks:
            raise RuntimeError(f"query {name!r} is defined twice ({origin})")
        blocks[name] = text[match.end() : end].strip()
    return blocks


def _load() -> dict[str, str]:
    queries: dict[str, str] = {}
    folder = resources.files(__name__).joinpath("queries")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".sql"):
            for name, sql in _parse(entry.read_text(), entry.name).items():
                if name in queries:
                    raise RuntimeError(f"query {name!r} is defined in two files")
                queries[name] = sql
    return queries


QUERIES = MappingProxyType(_load())


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every numbered migration, in order."""
    found = []
    folder = resources.files(__name__).joinpath("migrations")
    for entry in folder.iterdir():
        match = re.match(r"^(\d{4})_\w+\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found
