"""The state-machine tables of docs/architecture.md, made from jobmon/status.py.

    python scripts/state_tables.py           # print them
    python scripts/state_tables.py --write   # put them into docs/architecture.md

tests/unit/test_architecture_doc.py fails when the tables in the doc differ from these.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jobmon import status

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
BEGIN = "<!-- state tables: made by scripts/state_tables.py from jobmon/status.py -->"
END = "<!-- end of state tables -->"
MACHINES: tuple[tuple[str, status.Machine[Any]], ...] = (
    ("Task", status.TASK),
    ("Task instance", status.TASK_INSTANCE),
    ("Workflow", status.WORKFLOW),
    ("Workflow run", status.WORKFLOW_RUN),
)


def _letters(statuses: list[enum.StrEnum]) -> str:
    return " ".join(f"`{s}`" for s in statuses) or "-"


def machine_table(title: str, machine: status.Machine[Any]) -> str:
    """One machine: each status, what it may become, and (if any) late reports it ignores."""
    kinds = list(machine.status_type)
    late = bool(machine.late)
    lines = [f"### {title} (`{machine.status_type.__name__}`)", "",
             "| | status | may become |" + (" ignored when late |" if late else ""),
             "|---|---|---|" + ("---|" if late else "")]
    for current in kinds:
        row = (f"| `{current}` | {current.name} "
               f"| {_letters([s for s in kinds if (current, s) in machine.allowed])} |")
        if late:
            row += f" {_letters([s for s in kinds if (current, s) in machine.late])} |"
        lines.append(row)
    return "\n".join(lines)


def mapping_table(title: str, header: tuple[str, str],
                  mapping: Mapping[enum.StrEnum, enum.StrEnum]) -> str:
    lines = [f"### {title}", "", f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| `{key}` {key.name} | `{value}` {value.name} |"
              for key, value in mapping.items()]
    return "\n".join(lines)


def render() -> str:
    """Everything between BEGIN and END."""
    parts = [machine_table(title, machine) for title, machine in MACHINES]
    parts.append(mapping_table(
        "A task follows its latest instance (`TASK_FOLLOWS_INSTANCE`)",
        ("instance enters", "task becomes"), status.TASK_FOLLOWS_INSTANCE))
    parts.append(mapping_table(
        "A workflow mirrors its latest run (`workflow_status_for_run`)",
        ("run", "workflow"),
        {run: status.workflow_status_for_run(run) for run in status.WorkflowRunStatus}))
    return "\n\n".join(parts)


def block(text: str) -> str:
    """The generated part of ``text`` (between the markers); ValueError without them."""
    start = text.index(BEGIN) + len(BEGIN)
    return text[start:text.index(END, start)].strip("\n")


def write(path: Path = DOC) -> bool:
    """Put the tables into ``path``; True if it changed."""
    text = path.read_text()
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END, start)
    new = f"{text[:start]}\n{render()}\n{text[end:]}"
    if new == text:
        return False
    path.write_text(new)
    return True


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        sys.stdout.write(f"{DOC}: {'updated' if write() else 'already up to date'}\n")
    elif sys.argv[1:]:
        sys.exit("usage: python scripts/state_tables.py [--write]")
    else:
        sys.stdout.write(render() + "\n")
