"""Workflows on cluster "slurm", end to end on the dev cluster: arrays, OOM, failures."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from jobmon.client.tool import Tool
from tests.integration.helpers import fetch, value, wait_until
from tests.integration.slurm.support import instances, job_states, slurm_tool
from tests.support import ServerThread

pytestmark = pytest.mark.slurm


@pytest.mark.timeout(420)
def test_three_level_dag_with_an_array_of_50_runs_as_job_arrays(
    server: ServerThread, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    tool = slurm_tool()
    template = tool.get_task_template(
        template_name="touch", command_template="echo {level}-{item} && touch {out}/{level}-{item}",
        node_args=["level", "item"], op_args=["out"], default_cluster_name="slurm",
    )
    first = template.create_task(level=1, item=0, out=str(out))
    middle = template.create_tasks(level=2, item=list(range(50)), out=str(out),
                                   upstream_tasks=[first])
    last = template.create_task(level=3, item=0, out=str(out), upstream_tasks=list(middle))
    workflow = tool.create_workflow(name="slurm dag", workflow_args="slurm-dag",
                                    default_cluster_name="slurm")
    workflow.add_task(first)
    workflow.add_tasks(middle)
    workflow.add_task(last)

    assert workflow.run(show_progress=False, seconds_until_timeout=400) == "D"

    assert len(list(out.iterdir())) == 52
    assert workflow.workflow_id is not None
    rows = instances(server.dsn, workflow.workflow_id)
    assert len(rows) == 52 and {row["status"] for row in rows} == {"D"}
    # one submission per level: the 50 went out as one array (a claim may split it in two)
    arrays = {str(row["distributor_id"]).split("_")[0] for row in rows}
    assert 3 <= len(arrays) <= 4, arrays
    level_two = [str(row["distributor_id"]).split("_")[0] for row in rows
                 if str(row["name"]).startswith("touch_level-2")]
    assert len(level_two) == 50 and len(set(level_two)) <= 2
    jobs = {str(row["distributor_id"]) for row in rows}
    # the last worker reported DONE a moment before its job ended
    wait_until(lambda: set(job_states(jobs).values()) == {"COMPLETED"}, 30,
               "every job to be COMPLETED")
    assert len(job_states(jobs)) == 52
    # each instance went I -> O (submitted) -> R (worker) -> D; O may come after R
    history = fetch(server.dsn, "SELECT s.task_instance_id, array_agg(s.status ORDER BY s.id) "
                                "FROM task_instance_status s JOIN task_instance ti "
                                "ON ti.id = s.task_instance_id WHERE ti.workflow_id = $1 "
                                "GROUP BY 1", workflow.workflow_id)
    assert {tuple(row[1]) for row in history} <= {("Q", "I", "O", "R", "D"), ("Q", "I", "R", "D")}
    # the paths `jobmon task status` shows hold the command's output
    one = rows[0]
    assert Path(str(one["stdout_path"])).read_text().strip() == "1-0"


@pytest.mark.timeout(300)
def test_out_of_memory_retries_with_more_memory(server: ServerThread, tmp_path: Path) -> None:
    tool = Tool(name="slurm-oom")
    template = tool.get_task_template(
        template_name="hog",
        # 300 MB in 100M, then fine once the retry has 4 x 100M
        command_template="python3 -c 'b = bytearray({mb} * 1024 * 1024); b[::4096] = "
                         "b\"x\" * len(b[::4096])'",
        node_args=["mb"], default_cluster_name="slurm",
    )
    task = template.create_task(mb=300, max_attempts=2,
                                compute_resources={"memory": "100M", "cores": 1,
                                                   "runtime": "5m"},
                                resource_scales={"memory": 3.0})
    workflow = tool.create_workflow(name="oom", workflow_args="slurm-oom",
                                    default_cluster_name="slurm")
    workflow.add_task(task)

    assert workflow.run(show_progress=False, seconds_until_timeout=280) == "D"

    assert workflow.workflow_id is not None
    first, second = instances(server.dsn, workflow.workflow_id)
    assert first["status"] == "Z", first
    assert "memory" in str(first["error_message"]).lower()
    assert second["status"] == "D"
    assert first["compute_resources"]["memory"] == 100  # type: ignore[index]
    assert second["compute_resources"]["memory"] == 400  # type: ignore[index]
    assert job_states({str(first["distributor_id"])}) == {
        str(first["distributor_id"]): "OUT_OF_MEMORY"}


@pytest.mark.timeout(300)
def test_failures_and_rejections_end_with_the_reason(
    server: ServerThread, tmp_path: Path
) -> None:
    tool = Tool(name="slurm-fail")
    template = tool.get_task_template(
        template_name="step", command_template="echo trouble-{label} >&2; exit {code}",
        node_args=["label"], task_args=["code"], default_cluster_name="slurm",
    )
    fails = template.create_task(name="fails", label="fails", code=3, max_attempts=1,
                                 compute_resources={"memory": "200M"})
    rejected = template.create_task(name="rejected", label="rejected", code=0,
                                    max_attempts=1,
                                    compute_resources={"memory": "200M", "queue": "nosuch"})
    too_long = template.create_task(name="toolong", label="toolong", code=0,
                                    max_attempts=1,
                                    compute_resources={"queue": "short", "runtime": "10m"})
    workflow = tool.create_workflow(name="fail", workflow_args="slurm-fail",
                                    default_cluster_name="slurm")
    workflow.add_tasks([fails, rejected, too_long])

    assert workflow.run(show_progress=False, seconds_until_timeout=280) == "E"

    assert workflow.workflow_id is not None
    by_task = {str(row["name"]): row for row in instances(server.dsn, workflow.workflow_id)}
    assert by_task["fails"]["status"] == "E" and by_task["fails"]["exit_code"] == 3
    assert "trouble-fails" in str(fetch(server.dsn, "SELECT stderr_tail FROM task_instance "
                                                    "WHERE id = $1", by_task["fails"]["id"])[0][0])
    assert job_states({str(by_task["fails"]["distributor_id"])}) == {
        str(by_task["fails"]["distributor_id"]): "FAILED"}
    assert by_task["rejected"]["status"] == "W"
    assert "Invalid partition name specified" in str(by_task["rejected"]["error_message"])
    assert by_task["toolong"]["status"] == "W"
    assert "Requested time limit is invalid" in str(by_task["toolong"]["error_message"])


@pytest.mark.timeout(300)
def test_foreign_scancel_and_a_killed_worker_are_errors_that_retry(
    server: ServerThread, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "slow").touch()
    tool = slurm_tool("slurm-killed")
    template = tool.get_task_template(
        template_name="victim",
        # "worker": the first attempt kills its own worker (the job's main process), once the
        # test saw it RUNNING (the worker starts the command, then reports RUNNING)
        command_template="if [ {how} = worker ] && [ $JOBMON_ATTEMPT = 1 ]; then "
                         "while [ ! -e {out}/go ]; do sleep 0.2; done; kill -9 $PPID; "
                         "fi; if [ -e {out}/slow ]; then sleep 120; fi",
        node_args=["how"], op_args=["out"], default_cluster_name="slurm",
    )
    cancelled = template.create_task(name="cancelled", how="scancel", out=str(out),
                                     max_attempts=2)
    orphaned = template.create_task(name="orphaned", how="worker", out=str(out), max_attempts=2)
    workflow = tool.create_workflow(name="killed", workflow_args="slurm-killed",
                                    default_cluster_name="slurm")
    workflow.add_tasks([cancelled, orphaned])
    result: dict[str, str] = {}
    thread = threading.Thread(target=lambda: result.update(
        status=workflow.run(show_progress=False, seconds_until_timeout=250)), daemon=True)
    thread.start()
    wait_until(lambda: workflow.workflow_id is not None, 60, "the bind")
    workflow_id = int(workflow.workflow_id or 0)
    first = "SELECT distributor_id FROM task_instance WHERE task_id = $1 AND status = 'R'"
    wait_until(lambda: value(server.dsn, first, cancelled.task_id) is not None, 120,
               "the first task RUNNING")
    wait_until(lambda: value(server.dsn, first, orphaned.task_id) is not None, 120,
               "the second task RUNNING")
    job = str(value(server.dsn, first, cancelled.task_id))
    (out / "go").touch()  # the second task's command kills its worker
    (out / "slow").unlink()  # the retries finish at once
    subprocess.run(["scancel", job], check=True, timeout=30)
    thread.join(280)

    assert result["status"] == "D"
    rows = instances(server.dsn, workflow_id)
    by_name: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_name.setdefault(str(row["name"]), []).append(row)
    gone, retried = by_name["cancelled"]
    assert gone["status"] == "E" and "cancelled outside Jobmon" in str(gone["error_message"])
    assert retried["status"] == "D"
    lost, again = by_name["orphaned"]
    # the worker died without a report; Slurm's FAILED record ends the instance
    assert lost["status"] == "E" and "signal 9" in str(lost["error_message"])
    assert again["status"] == "D"


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_timeout_retries_with_more_runtime(server: ServerThread, tmp_path: Path) -> None:
    tool = Tool(name="slurm-timeout")
    template = tool.get_task_template(
        template_name="long", command_template="sleep {seconds}", node_args=["seconds"],
        default_cluster_name="slurm",
    )
    # Slurm enforces whole minutes on a ~30 s cycle: 100 s never fits 1 minute, fits 3
    task = template.create_task(seconds=100, max_attempts=2,
                                compute_resources={"runtime": "1m", "memory": "200M"},
                                resource_scales={"runtime": 2.0})
    workflow = tool.create_workflow(name="timeout", workflow_args="slurm-timeout",
                                    default_cluster_name="slurm")
    workflow.add_task(task)

    assert workflow.run(show_progress=False, seconds_until_timeout=400) == "D"

    assert workflow.workflow_id is not None
    first, second = instances(server.dsn, workflow.workflow_id)
    assert first["status"] == "Z" and "time limit" in str(first["error_message"])
    assert job_states({str(first["distributor_id"])}) == {
        str(first["distributor_id"]): "TIMEOUT"}
    assert first["compute_resources"]["runtime"] == 60  # type: ignore[index]
    assert second["compute_resources"]["runtime"] == 180  # type: ignore[index]
    assert second["status"] == "D"
