"""Each named-query file belongs to one module by name, and holds queries that module runs."""

from __future__ import annotations

import re
from pathlib import Path

from jobmon.server.sql import QUERIES, _parse

SERVER = Path(__file__).resolve().parents[2] / "server"
QUERY_FILES = sorted((SERVER / "sql" / "queries").glob("*.sql"))


def module_of(query_file: Path) -> Path | None:
    for candidate in (SERVER / "store" / f"{query_file.stem}.py",
                      SERVER / f"{query_file.stem}.py"):
        if candidate.is_file():
            return candidate
    return None


def test_every_query_file_matches_a_module_by_name() -> None:
    assert len(QUERY_FILES) > 10
    orphans = [path.name for path in QUERY_FILES if module_of(path) is None]
    assert orphans == [], f"name these after the store module that runs them: {orphans}"


def test_each_query_is_run_by_the_module_its_file_names() -> None:
    strays = []
    for path in QUERY_FILES:
        module = module_of(path)
        assert module is not None
        source = module.read_text()
        # a name may be built in an f-string from its prefix: Q[f"owners_of_{kind}"]
        prefixes = re.findall(r'Q\[f"(\w+)\{', source)
        for name in _parse(path.read_text(), path.name):
            if f'"{name}"' not in source and not any(map(name.startswith, prefixes)):
                strays.append(f"{name} ({path.name} but not {module.name})")
    assert strays == []


def test_the_store_runs_no_inline_sql() -> None:
    inline = re.compile(r'"\s*(SELECT|INSERT|UPDATE|DELETE|WITH) ')
    found = [f"{path.name}: {match.group(0)}" for path in sorted((SERVER / "store").glob("*.py"))
             for match in inline.finditer(path.read_text())]
    assert found == []
    assert {"newest_run_id", "status_of_workflow", "workflow_exists"} <= QUERIES.keys()
