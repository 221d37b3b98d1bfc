"""docs/architecture.md says what the code does: its state tables are the ones jobmon/status.py
defines, and the files, names and endpoints it cites exist. The README links to it, and no
project document points to ../shared, which users do not have."""

from __future__ import annotations

import enum
import importlib.util
import re
from pathlib import Path
from types import ModuleType

from jobmon import status

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
SOURCE_DIRS = ("jobmon", "client", "server", "distributor", "scripts")
SOURCE_SUFFIXES = {".py", ".sql", ".toml", ".sh", ".js"}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("state_tables",
                                                  ROOT / "scripts" / "state_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cited(pattern: str) -> set[str]:
    """Every backquoted span of the doc (one may wrap across lines) matching ``pattern``."""
    text = re.sub(r"^```.*?^```", "", DOC.read_text(), flags=re.MULTILINE | re.DOTALL)
    spans = (" ".join(span.split()) for span in re.findall(r"`([^`]+)`", text))
    return {span for span in spans if re.fullmatch(pattern, span)}


def test_state_tables_in_the_doc_are_the_ones_status_py_makes() -> None:
    generator = load_generator()
    assert generator.block(DOC.read_text()) == generator.render(), (
        "docs/architecture.md's state tables differ from jobmon/status.py: run "
        "`python scripts/state_tables.py --write`")


def test_a_table_lists_exactly_the_machines_transitions() -> None:
    class Light(enum.StrEnum):
        OFF = "0"
        ON = "1"
        BROKEN = "X"

    machine = status.Machine("light", Light, frozenset({(Light.OFF, Light.ON),
                                                        (Light.ON, Light.OFF),
                                                        (Light.ON, Light.BROKEN)}),
                             late=frozenset({(Light.BROKEN, Light.OFF)}))
    table = load_generator().machine_table("Light", machine)
    assert table.splitlines()[4:] == [
        "| `0` | OFF | `1` | - |",
        "| `1` | ON | `0` `X` | - |",
        "| `X` | BROKEN | - | `0` |",
    ]


def test_files_the_doc_cites_exist() -> None:
    files = cited(r"[a-z_]+(/[\w.-]+)+\.(py|sql|toml|md|sh)")
    assert len(files) > 30
    assert sorted(f for f in files if not (ROOT / f).is_file()) == []


def test_endpoints_the_doc_cites_are_served() -> None:
    import jobmon.server.app  # noqa: F401  (registers every route)
    from jobmon.server.routes import API

    served = {(route.method, route.path) for route in API.routes}
    endpoints = cited(r"(GET|POST|PUT|PATCH|DELETE) /[\w/{}.-]+")
    assert len(endpoints) > 20
    assert sorted(e for e in endpoints if tuple(e.split(" ", 1)) not in served) == []
    paths = cited(r"/(api/v1/[\w{}.-][\w/{}.-]*|health)")
    assert sorted(p for p in paths if p not in {path for _, path in served}) == []


def test_names_the_doc_cites_exist_in_the_code() -> None:
    """Modules' functions, classes, named queries, settings, variables: a rename in the code
    fails here until the doc follows."""
    words: set[str] = set()
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in SOURCE_SUFFIXES and path.is_file():
                words.update(re.findall(r"\w+", path.read_text(errors="replace")))
    words.update(re.findall(r"\w+", (ROOT / "pyproject.toml").read_text()))
    names = cited(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*(\(\))?")
    assert len(names) > 150
    missing = sorted(name for name in names
                     if not set(re.findall(r"\w+", name)) <= words)
    assert missing == []


def test_readme_links_the_architecture_and_nothing_points_to_shared() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(docs/architecture.md" in readme
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = document.read_text()
        assert "../shared" not in text and "shared/DESIGN" not in text, document.name
