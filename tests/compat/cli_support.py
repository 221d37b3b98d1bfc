"""What the command-line and status_commands compatibility tests share: running `jobmon`
(in this process through click's runner, or as a real process), and small workflows that
fail until told otherwise, so that a resume by id has something to do.

Every task appends its name to OUT/ran.log when it runs, so tests count executions. A task
of ``gated`` fails with exit code 3 and a recognisable stderr line until OUT/ok-<item>
exists: a test fixes it by creating that file, as a user fixes a bug, and resumes.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from jobmon.cli.main import main
from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow
from tests.integration.helpers import ROOT, fetch, value

ERROR_LINE = "RuntimeError: item not ready"


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


def jobmon(line: str, input: str | None = None) -> Ran:
    """One command line as a user types it (after `jobmon`), run through click's runner:
    the code path of the `jobmon` executable, talking HTTP to the test server."""
    import shlex

    result = CliRunner().invoke(main, shlex.split(line), input=input, catch_exceptions=False,
                                prog_name="jobmon")
    return Ran(result.exit_code, result.stdout, result.stderr)


def jobmon_process(line: str, timeout: float = 300) -> Ran:
    """The same, as a real `python -m jobmon` process."""
    import shlex

    done = subprocess.run([sys.executable, "-m", "jobmon", *shlex.split(line)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)
    return Ran(done.returncode, done.stdout, done.stderr)


def table_rows(stdout: str) -> list[dict[str, str]]:
    """A table the CLI printed (header, then rows), as dicts by column name. Columns are
    two or more spaces apart; a cell may hold single spaces ("4 (66.7%)"); only the last
    one may be empty."""
    import re

    lines = [line for line in stdout.splitlines() if line.strip()]
    header = re.split(r"\s{2,}", lines[0].strip())
    rows = []
    for line in lines[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        rows.append(dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True)))
    return rows


def gated(workflow_args: str, out: Path, cluster: str = "local", width: int = 4,
          seconds: float = 0.0, tool_name: str = "compat-cli") -> Workflow:
    """prep -> work[0..width) -> report; work-i fails until OUT/ok-i exists."""
    tool = Tool(name=tool_name)
    mark = "echo {label} >> {out}/ran.log"
    prep = tool.get_task_template(
        template_name="prep", command_template=mark, node_args=["label"], op_args=["out"],
        default_cluster_name=cluster)
    work = tool.get_task_template(
        template_name="work",
        command_template=mark + "; sleep {seconds}; if [ ! -e {out}/ok-{item} ]; then "
                                f"echo '{ERROR_LINE}' >&2; exit 3; fi",
        node_args=["item"], task_args=["label"], op_args=["out", "seconds"],
        default_cluster_name=cluster)
    report = tool.get_task_template(
        template_name="report", command_template=mark, node_args=["label"], op_args=["out"],
        default_cluster_name=cluster)
    workflow = tool.create_workflow(name=f"gated-{workflow_args}", workflow_args=workflow_args)
    first = prep.create_task(label="prep", name="prep", out=str(out), max_attempts=1)
    middle = [work.create_task(item=i, label=f"work-{i}", name=f"work-{i}", out=str(out),
                               seconds=seconds, upstream_tasks=[first], max_attempts=1)
              for i in range(width)]
    last = report.create_task(label="report", name="report", out=str(out),
                              upstream_tasks=middle)
    workflow.add_task(first)
    workflow.add_tasks(middle)
    workflow.add_task(last)
    return workflow


def open_gates(out: Path, *items: int) -> None:
    for item in items:
        (out / f"ok-{item}").touch()


def ran(out: Path) -> dict[str, int]:
    """How often each task ran."""
    counts: dict[str, int] = {}
    log = out / "ran.log"
    for name in (log.read_text().split() if log.exists() else []):
        counts[name] = counts.get(name, 0) + 1
    return counts


def task_ids(dsn: str, workflow_id: int) -> dict[str, int]:
    return {row[0]: row[1] for row in fetch(
        dsn, "SELECT name, id FROM task WHERE workflow_id = $1", workflow_id)}


def statuses(dsn: str, workflow_id: int) -> dict[str, str]:
    return {row[0]: row[1] for row in fetch(
        dsn, "SELECT name, status FROM task WHERE workflow_id = $1", workflow_id)}


def workflow_status(dsn: str, workflow_id: int) -> str:
    return str(value(dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id))


def user() -> str:
    import getpass

    return getpass.getuser()
