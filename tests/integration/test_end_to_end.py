"""A workflow runs end to end on real parts: server, PostgreSQL, swarm, local distributor."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from jobmon.client.tool import Tool
from jobmon.errors import WorkflowAlreadyComplete, WorkflowAlreadyExists
from tests.support import ServerThread


def _fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(dsn)
        try:
            return await connection.fetch(query, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


def test_three_level_workflow_with_an_array_finishes_done(
    server: ServerThread, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    tool = Tool(name="e2e")
    template = tool.get_task_template(
        template_name="touch",
        command_template="touch {out}/{level}-{item}",
        node_args=["level", "item"],
        op_args=["out"],
        default_cluster_name="local",
    )
    first = template.create_task(level=1, item=0, out=str(out))
    middle = template.create_tasks(level=2, item=list(range(10)), out=str(out),
                                   upstream_tasks=[first])
    last = template.create_task(level=3, item=0, out=str(out), upstream_tasks=list(middle))
    workflow = tool.create_workflow(name="e2e", workflow_args="e2e-1")
    workflow.add_task(first)
    workflow.add_tasks(middle)
    workflow.add_task(last)

    assert workflow.run(show_progress=False) == "D"

    made = sorted(path.name for path in out.iterdir())
    assert made == sorted(["1-0", "3-0"] + [f"2-{i}" for i in range(10)])
    rows = _fetch(server.dsn, "SELECT status, count(*) FROM task WHERE workflow_id = $1 "
                              "GROUP BY status", workflow.workflow_id)
    assert {row["status"]: row["count"] for row in rows} == {"D": 12}
    # every instance went Q -> I -> R -> D, each step in the history once
    history = _fetch(server.dsn, "SELECT task_instance_id, array_agg(status ORDER BY id) AS s "
                                 "FROM task_instance_status GROUP BY task_instance_id")
    assert len(history) == 12
    assert {tuple(row["s"]) for row in history} == {("Q", "I", "R", "D")}
    # the downstream started only after all its upstreams were DONE
    order = (out / "3-0").stat().st_mtime_ns
    assert all((out / f"2-{i}").stat().st_mtime_ns <= order for i in range(10))

    with pytest.raises(WorkflowAlreadyComplete, match="already exists and is complete"):
        workflow.run(show_progress=False)


def test_failing_task_retries_then_fails_and_blocks_downstream(
    server: ServerThread, tmp_path: Path
) -> None:
    tool = Tool(name="e2e-fail")
    template = tool.get_task_template(
        template_name="step",
        command_template="echo {step} >> {log}; echo 'bad thing happened' >&2; exit {code}",
        node_args=["step"], task_args=["code"], op_args=["log"],
        default_cluster_name="local",
    )
    log = tmp_path / "ran.log"
    good = template.create_task(step="good", code=0, log=str(log))
    bad = template.create_task(step="bad", code=3, log=str(log), upstream_tasks=[good],
                               max_attempts=3)
    after = template.create_task(step="after", code=0, log=str(log), upstream_tasks=[bad])
    other = template.create_task(step="other", code=0, log=str(log), upstream_tasks=[good])
    workflow = tool.create_workflow(name="fails", workflow_args="fails-1")
    workflow.add_tasks([good, bad, after, other])

    assert workflow.run(show_progress=False) == "E"

    ran = log.read_text().split()
    assert ran.count("bad") == 3
    assert "after" not in ran
    assert ran.count("good") == 1 and ran.count("other") == 1
    rows = _fetch(server.dsn, "SELECT t.name, t.status, t.num_attempts, ti.exit_code, "
                              "ti.stderr_tail, ti.status AS ti_status FROM task t "
                              "JOIN task_instance ti ON ti.task_id = t.id "
                              "WHERE t.id = $1", bad.task_id)
    assert len(rows) == 3
    assert all(row["status"] == "F" and row["num_attempts"] == 3 for row in rows)
    assert all(row["exit_code"] == 3 and row["ti_status"] == "E" for row in rows)
    assert all("bad thing happened" in row["stderr_tail"] for row in rows)
    assert _fetch(server.dsn, "SELECT status FROM task WHERE id = $1", after.task_id)[0][0] == "G"
    status = _fetch(server.dsn, "SELECT status FROM workflow WHERE id = $1",
                    workflow.workflow_id)[0][0]
    assert status == "F"

    with pytest.raises(WorkflowAlreadyExists, match="resume=True"):
        workflow.run(show_progress=False)
