"""The Slurm plugin's decision modules stay pure: no subprocess, no event loop, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ["distributor/plugins/slurm_state.py", "distributor/plugins/slurm_submit.py"]
IO_MODULES = {"asyncio", "anyio", "aiohttp", "asyncpg", "subprocess", "socket", "time", "os",
              "jobmon.requester", "jobmon.sync_requester", "jobmon.retry", "jobmon.clock",
              "jobmon.distributor.reporter"}


@pytest.mark.parametrize("path", PURE)
def test_pure_modules_import_no_io(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    offending = {name for name in imported
                 if name in IO_MODULES or name.split(".")[0] in IO_MODULES}
    assert not offending, f"{path} imports {sorted(offending)}"
