"""Resource retries, concurrency limits, fail_fast and timeouts, on cluster "local"."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import anyio
import pytest

from jobmon.client.operator import set_concurrency
from jobmon.client.tool import Tool
from jobmon.settings import get as get_settings
from tests.integration.helpers import Sampler, count_lines, fetch, value, wait_until
from tests.support import ServerThread

RUNNING = "SELECT count(*) FROM task_instance WHERE workflow_id = $1 AND status = 'R'"
ALLOCATE = (
    f"{sys.executable} -c \"import time; b = bytearray({{mb}} * 1024 * 1024); "
    "b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)\""
)


def _instances(dsn: str, task_id: int) -> list[dict[str, object]]:
    rows = fetch(dsn, "SELECT status, compute_resources, error_message FROM task_instance "
                      "WHERE task_id = $1 ORDER BY id", task_id)
    return [dict(row) for row in rows]


def test_memory_overrun_is_a_resource_error_retried_with_more_memory(
    server: ServerThread,
) -> None:
    tool = Tool(name="retries")
    template = tool.get_task_template(
        template_name="allocate", command_template=ALLOCATE, node_args=["mb"],
        default_cluster_name="local",
    )
    task = template.create_task(mb=200, compute_resources={"memory": "120M"},
                                resource_scales={"memory": 2.0})
    workflow = tool.create_workflow(name="oom", workflow_args="oom-1")
    workflow.add_task(task)

    assert workflow.run(show_progress=False, fail_fast=True) == "D"

    instances = _instances(server.dsn, task.task_id)
    assert [i["status"] for i in instances] == ["Z", "D"]
    assert instances[0]["compute_resources"]["memory"] == 120
    assert instances[1]["compute_resources"]["memory"] == 360  # 120 * (1 + 2.0)
    assert "memory" in str(instances[0]["error_message"])


def test_runtime_overrun_is_a_resource_error_retried_with_more_runtime(
    server: ServerThread,
) -> None:
    tool = Tool(name="retries")
    template = tool.get_task_template(
        template_name="slow", command_template="sleep {seconds}", node_args=["seconds"],
        default_cluster_name="local",
    )
    task = template.create_task(seconds=2, compute_resources={"runtime": "1s"},
                                resource_scales={"runtime": 3.0})
    workflow = tool.create_workflow(name="timeout", workflow_args="timeout-1")
    workflow.add_task(task)

    assert workflow.run(show_progress=False) == "D"

    instances = _instances(server.dsn, task.task_id)
    assert [i["status"] for i in instances] == ["Z", "D"]
    assert [i["compute_resources"]["runtime"] for i in instances] == [1, 4]
    assert "runtime" in str(instances[0]["error_message"])


@pytest.fixture
def many_slots(jobmon_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the local distributor run 8 at once, so the workflow's limits are what binds."""
    monkeypatch.setenv("JOBMON__LOCAL__MAX_PARALLEL", "8")


@pytest.mark.usefixtures("many_slots")
def test_workflow_and_array_limits_are_never_exceeded(server: ServerThread) -> None:
    tool = Tool(name="limits")
    wide = tool.get_task_template(
        template_name="wide", command_template="sleep 0.4 # {i}", node_args=["i"],
        default_cluster_name="local",
    )
    narrow = tool.get_task_template(
        template_name="narrow", command_template="sleep 0.4 # {i}", node_args=["i"],
        default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="limits", workflow_args="limits-1",
                                    max_concurrently_running=3)
    workflow.add_tasks(wide.create_tasks(i=list(range(8))))
    workflow.add_tasks(narrow.create_tasks(i=list(range(8)), max_concurrently_running=1))
    with Sampler(server.dsn, RUNNING, 1) as total, Sampler(
        server.dsn,
        "SELECT count(*) FROM task_instance ti JOIN task_array a ON a.id = ti.array_id "
        "WHERE a.name = 'narrow' AND ti.status = 'R'",
    ) as in_narrow:
        assert workflow.run(show_progress=False) == "D"
    assert total.maximum == 3, total.samples
    assert in_narrow.maximum == 1
    assert len(total.samples) > 20  # the sampler really watched the run


@pytest.mark.usefixtures("many_slots")
def test_template_limit_applies(server: ServerThread) -> None:
    tool = Tool(name="limits")
    template = tool.get_task_template(
        template_name="capped", command_template="sleep 0.3 # {i}", node_args=["i"],
        default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="template-limit", workflow_args="tl-1")
    workflow.add_tasks(template.create_tasks(i=list(range(6))))
    workflow.set_task_template_max_concurrency_limit("capped", 2)
    with Sampler(server.dsn, RUNNING, 1) as running:
        assert workflow.run(show_progress=False) == "D"
    assert running.maximum == 2


@pytest.mark.usefixtures("many_slots")
def test_concurrency_changes_while_running_without_killing(server: ServerThread) -> None:
    tool = Tool(name="limits")
    template = tool.get_task_template(
        template_name="steady", command_template="sleep 1 # {i}", node_args=["i"],
        default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="dynamic", workflow_args="dyn-1",
                                    max_concurrently_running=1)
    workflow.add_tasks(template.create_tasks(i=list(range(12))))
    workflow_id = workflow.bind()
    result: list[str] = []
    runner = threading.Thread(target=lambda: result.append(workflow.run(show_progress=False)))
    with Sampler(server.dsn, RUNNING, workflow_id) as running:
        runner.start()
        wait_until(lambda: value(server.dsn, RUNNING, workflow_id) == 1, 20, "a running task")
        anyio.run(set_concurrency, get_settings(), workflow_id, 4)
        wait_until(lambda: value(server.dsn, RUNNING, workflow_id) == 4, 10,
                   "four running tasks after raising the limit")
        anyio.run(set_concurrency, get_settings(), workflow_id, 1)
        runner.join(60)
    assert result == ["D"]
    assert running.maximum == 4
    # lowering the limit killed nothing: every task ran exactly once
    attempts = fetch(server.dsn, "SELECT count(*) FROM task_instance WHERE workflow_id = $1 "
                                 "GROUP BY task_id", workflow_id)
    assert {row[0] for row in attempts} == {1}


def test_fail_fast_stops_launching_but_lets_running_tasks_finish(
    server: ServerThread, tmp_path: Path
) -> None:
    tool = Tool(name="failfast")
    template = tool.get_task_template(
        template_name="job",
        command_template="echo {task} >> {out}/ran.log; sleep {seconds}; exit {code}",
        node_args=["task"], task_args=["seconds", "code"], op_args=["out"],
        default_cluster_name="local",
    )
    workflow = tool.create_workflow(name="failfast", workflow_args="ff-1",
                                    max_concurrently_running=2)
    out = str(tmp_path)
    workflow.add_task(template.create_task(task="fails", seconds=0.2, code=1, out=out,
                                           max_attempts=1, name="fails"))
    workflow.add_task(template.create_task(task="long", seconds=1.5, code=0, out=out,
                                           name="long"))
    later = [template.create_task(task=f"later{i}", seconds=0, code=0, out=out)
             for i in range(5)]
    workflow.add_tasks(later)

    assert workflow.run(show_progress=False, fail_fast=True) == "E"

    ran = count_lines(tmp_path / "ran.log")
    assert ran.get("fails") == 1 and ran.get("long") == 1
    assert not any(name.startswith("later") for name in ran), ran
    statuses = dict(fetch(server.dsn, "SELECT name, status FROM task WHERE workflow_id = $1",
                          workflow.workflow_id))
    assert statuses["long"] == "D"  # it was running, so it finished
    assert statuses["fails"] == "F"


def test_timeout_ends_failed_and_the_workflow_stays_resumable(
    server: ServerThread, tmp_path: Path
) -> None:
    tool = Tool(name="timeouts")
    template = tool.get_task_template(
        template_name="nap", command_template="echo {n} >> {out}/ran.log; sleep {seconds}",
        node_args=["n"], task_args=["seconds"], op_args=["out"], default_cluster_name="local",
    )
    first = template.create_task(n=1, seconds=0, out=str(tmp_path))
    slow = template.create_task(n=2, seconds=4, out=str(tmp_path), upstream_tasks=[first])
    workflow = tool.create_workflow(name="timeout", workflow_args="to-1")
    workflow.add_tasks([first, slow])

    with pytest.raises(RuntimeError, match=r"timeout after 1\.5 s") as raised:
        workflow.run(show_progress=False, seconds_until_timeout=1.5)
    assert "resume=True" in str(raised.value)
    assert value(server.dsn, "SELECT status FROM workflow WHERE id = $1",
                 workflow.workflow_id) == "F"

    assert workflow.run(show_progress=False, resume=True) == "D"
    ran = count_lines(tmp_path / "ran.log")
    assert ran["1"] == 1  # DONE before the timeout: not run again


def test_outputs_and_context_survive_retries(server: ServerThread, tmp_path: Path) -> None:
    script = tmp_path / "checkpoint.py"
    script.write_text(
        "import json, os, sys\n"
        "ctx = os.environ['JOBMON_CONTEXT']\n"
        "state = json.load(open(ctx)) if os.path.exists(ctx) else {'seen': []}\n"
        "state['seen'].append(int(os.environ['JOBMON_ATTEMPT']))\n"
        "json.dump(state, open(ctx, 'w'))\n"
        "if len(state['seen']) < 2: sys.exit(1)\n"
        "json.dump({'answer': 42, 'seen': state['seen']}, open(os.environ['JOBMON_OUTPUT'], 'w'))\n"
    )
    tool = Tool(name="context")
    template = tool.get_task_template(
        template_name="checkpoint", command_template=f"{sys.executable} {script} {{k}}",
        node_args=["k"], default_cluster_name="local",
    )
    task = template.create_task(k=1, name="checkpointed")
    workflow = tool.create_workflow(name="context", workflow_args="ctx-1")
    workflow.add_task(task)
    assert workflow.run(show_progress=False) == "D"

    from jobmon.client.watch import WorkflowStatus

    status = WorkflowStatus(workflow.workflow_id)
    assert status.outputs() == {"checkpointed": [{"answer": 42, "seen": [1, 2]}]}
    state = status.task_states()[task.task_id]
    assert state.status == "D" and state.attempts == 2
    assert state.context == {"seen": [1, 2]}
    assert json.loads(json.dumps(state.context)) == {"seen": [1, 2]}


def test_scaled_memory_is_capped_at_the_queue_limit(server: ServerThread) -> None:
    tool = Tool(name="retries")
    template = tool.get_task_template(
        template_name="allocate-big", command_template=ALLOCATE, node_args=["mb"],
        default_cluster_name="local",
    )
    task = template.create_task(mb=200, compute_resources={"memory": "120M"},
                                resource_scales={"memory": 1000.0})
    workflow = tool.create_workflow(name="capped", workflow_args="capped-1")
    workflow.add_task(task)

    assert workflow.run(show_progress=False) == "D"

    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    queues = fetch(server.dsn, "SELECT queue_name, max_memory_mib, is_default FROM "
                               "cluster_queue WHERE cluster_name = 'local'")
    assert [tuple(row) for row in queues] == [("local", machine, True)]
    instances = _instances(server.dsn, task.task_id)
    assert [i["status"] for i in instances] == ["Z", "D"]
    # 120 MiB x 1001 would be far more than this machine has: capped at the queue's limit
    assert instances[1]["compute_resources"]["memory"] == machine
    assert instances[1]["compute_resources"]["queue"] == "local"
