"""The server's SQL spells status letters out; jobmon/status.py is still their one source.

Every literal letter set in server/sql/queries/*.sql is a set named in jobmon.status or
jobmon.status_groups, and the CHECK constraints of migration 0012 list exactly the letters
of each column's enum.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path

from jobmon import status, status_groups
from jobmon.status import TaskInstanceStatus, TaskStatus, WorkflowRunStatus, WorkflowStatus

SQL = Path(__file__).resolve().parents[2] / "server" / "sql"
# IN ('Q', 'I', 'O') or ANY('{Q,I,O}'): two letters or more
LETTER_SET = re.compile(
    r"IN\s*\(\s*((?:'[A-Z]'\s*,\s*)+'[A-Z]')\s*\)|'\{([A-Z](?:\s*,\s*[A-Z])+)\}'")

# Literal sets that are no named set, each with why it need not be one.
ALLOWED: dict[tuple[str, frozenset[str]], str] = {}


def named_sets() -> dict[frozenset[str], list[str]]:
    """Letter set: the names it goes by in jobmon.status and jobmon.status_groups."""
    found: dict[frozenset[str], list[str]] = {}
    for module in (status, status_groups):
        for name, value in vars(module).items():
            if isinstance(value, frozenset | tuple) and value and \
                    all(isinstance(item, str) and len(item) == 1 for item in value):
                found.setdefault(frozenset(str(item) for item in value), []).append(name)
            elif isinstance(value, dict) and name.isupper():
                for key, members in value.items():
                    if isinstance(members, tuple) and members and \
                            all(isinstance(item, str) and len(item) == 1 for item in members):
                        found.setdefault(frozenset(members), []).append(f"{name}[{key!r}]")
    return found


def literal_sets(text: str) -> list[tuple[int, frozenset[str]]]:
    """(line, letters) of each literal letter set in a SQL text."""
    sets = []
    for match in LETTER_SET.finditer(text):
        quoted, braced = match.groups()
        letters = re.findall(r"[A-Z]", quoted or braced)
        sets.append((text.count("\n", 0, match.start()) + 1, frozenset(letters)))
    return sets


def test_the_parser_finds_both_spellings() -> None:
    text = "WHERE status IN ('Q', 'I')\n  AND s = ANY('{D,F}') AND name IN ('x') AND s = 'Q'"
    assert literal_sets(text) == [(1, frozenset("QI")), (2, frozenset("DF"))]


def test_every_literal_letter_set_in_the_queries_is_a_named_set() -> None:
    named = named_sets()
    unnamed = []
    seen = 0
    for path in sorted((SQL / "queries").glob("*.sql")):
        for line, letters in literal_sets(path.read_text()):
            seen += 1
            if letters not in named and (path.name, letters) not in ALLOWED:
                unnamed.append(f"{path.name}:{line}: {' '.join(sorted(letters))}")
    assert seen > 20  # the queries do spell sets out: the parser found them
    assert not unnamed, "letter sets with no name in jobmon/status.py:\n" + "\n".join(unnamed)


def test_every_allowed_exception_is_still_in_the_queries() -> None:
    used = {(path.name, letters) for path in (SQL / "queries").glob("*.sql")
            for _, letters in literal_sets(path.read_text())}
    assert set(ALLOWED) <= used


COLUMNS: dict[tuple[str, str], type[enum.StrEnum]] = {
    ("workflow", "status"): WorkflowStatus,
    ("workflow_status", "status"): WorkflowStatus,
    ("workflow_run", "status"): WorkflowRunStatus,
    ("workflow_run_status", "status"): WorkflowRunStatus,
    ("task", "status"): TaskStatus,
    ("task", "error_status"): TaskInstanceStatus,
    ("task_status", "status"): TaskStatus,
    ("task_instance", "status"): TaskInstanceStatus,
    ("task_instance_status", "status"): TaskInstanceStatus,
}
CHECK = re.compile(r"ALTER TABLE (\w+) ADD CONSTRAINT \w+\s+CHECK \((\w+) IN \(([^)]*)\)\)")


def test_the_check_constraints_list_each_enum_s_letters() -> None:
    text = (SQL / "migrations" / "0012_status_checks.sql").read_text()
    checks = {(table, column): frozenset(re.findall(r"'([A-Z])'", letters))
              for table, column, letters in CHECK.findall(text)}
    assert set(checks) == set(COLUMNS)
    for column, statuses in COLUMNS.items():
        assert checks[column] == {str(s) for s in statuses}, column

