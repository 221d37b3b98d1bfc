"""Workflow.run(), its result and exceptions, and fixing a task then resuming, as Jobmon 3.6
documents them; on clusters "local" and "sequential"."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pytest

from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow
from jobmon.core.constants import WorkflowRunStatus
from jobmon.core.exceptions import WorkflowAlreadyComplete, WorkflowAlreadyExists
from tests.integration.helpers import count_lines, fetch, value
from tests.support import ServerThread

RESOURCES = {"cores": 1, "memory": "1G", "runtime": "10m"}
# Jobmon's tests/_scripts/remote_sleep_and_write.py, reduced: fails when told to
SCRIPT = """\
import sys
name = sys.argv[sys.argv.index("--task_name") + 1]
out = sys.argv[sys.argv.index("--output_file_path") + 1]
with open(out, "a") as handle:
    handle.write(name + "\\n")
if "--fail_always" in sys.argv:
    print(f"{name}: failing, as asked (--fail_always)", file=sys.stderr)
    sys.exit(1)
"""


@pytest.fixture(params=["local", "sequential"])
def cluster(request: pytest.FixtureRequest, server: ServerThread) -> str:
    return str(request.param)


def _tool(cluster: str) -> Tool:
    tool = Tool(name="compat-run")
    tool.set_default_compute_resources_from_dict(cluster_name=cluster,
                                                 compute_resources=RESOURCES)
    return tool


def _fail_one_template(tool: Tool):  # type: ignore[no-untyped-def]
    """Jobmon's task_template_fail_one: fail_always is an op arg, so a resume may change it."""
    return tool.get_task_template(
        template_name="foo",
        command_template=("{python} {script} --sleep_secs {sleep_secs} --output_file_path "
                          "{output_file_path} --task_name {task_name} {fail_always}"),
        node_args=["task_name"],
        task_args=["sleep_secs", "output_file_path"],
        op_args=["python", "script", "fail_always"],
    )


def _fail_one_workflow(tool: Tool, cluster: str, out: Path, fail: str, workflow_args: str,
                       **task_options: object) -> Workflow:
    script = out / "remote_sleep_and_write.py"
    script.write_text(SCRIPT)
    template = _fail_one_template(tool)
    workflow = tool.create_workflow(name="fail_one_task_resume", workflow_args=workflow_args,
                                    default_cluster_name=cluster)
    done_first = template.create_task(task_name="ok_task", python=sys.executable,
                                      script=str(script), sleep_secs=0,
                                      output_file_path=str(out / "ran.log"), fail_always="")
    failing = template.create_task(
        task_name="a_task", python=sys.executable, script=str(script), sleep_secs=0,
        output_file_path=str(out / "ran.log"), fail_always=fail,
        upstream_tasks=[done_first], **task_options)
    workflow.add_tasks([done_first, failing])
    return workflow


def test_run_returns_the_run_status_that_carries_the_result(
    cluster: str, tmp_path: Path
) -> None:
    """Follows docsource/user_guide/workflows.rst, 'Checking Results' (``status ==
    WorkflowRunStatus.ERROR``), docsource/advanced/advanced_usage.rst, 'Workflow Run
    Results and Exception Handling' (``result.final_status``, ``done_count``,
    ``failed_task_ids``, ``task_final_statuses``), and tests/e2e/test_workflow_resume.py,
    test_fail_one_task_resume (``task_errors``, ``last_workflow_run_id``)."""
    tool = _tool(cluster)
    workflow = _fail_one_workflow(tool, cluster, tmp_path, "--fail_always",
                                  f"result-{cluster}", max_attempts=1)
    result = workflow.run(show_progress=False)

    assert result == "E" and result == WorkflowRunStatus.ERROR
    assert result.final_status == WorkflowRunStatus.ERROR
    ok, failing = workflow.tasks.values()
    assert (result.done_count, result.failed_count, result.total_tasks) == (1, 1, 2)
    assert result.failed_task_ids == {failing.task_id}
    assert result.done_task_ids == {ok.task_id}
    assert result.task_final_statuses == {ok.task_id: "D", failing.task_id: "F"}
    assert result.num_previously_complete == 0 and result.elapsed_time > 0
    assert (ok.final_status, failing.final_status) == ("D", "F")
    assert workflow.last_workflow_run_id == result.workflow_run_id
    assert pickle.loads(pickle.dumps(result)).failed_task_ids == result.failed_task_ids

    # the errors, in Jobmon's shapes
    assert len(workflow.task_errors) == 1
    errors = workflow.task_errors[failing.name]  # keyed by task name, as in Jobmon
    assert set(errors) == {"task_instance_id", "error_log"}
    (entry,) = errors["error_log"]
    assert set(entry) == {"task_instance_error_log_id", "error_time", "description"}
    assert "failing, as asked" in entry["description"]
    assert workflow.get_errors() == {failing.task_id: errors}
    assert failing.get_errors() == errors
    assert ok.get_errors() is None

    # the run of a workflow created anew with the same args and tasks
    fixed = _fail_one_workflow(_tool(cluster), cluster, tmp_path, "", f"result-{cluster}",
                               max_attempts=1)
    with pytest.raises(WorkflowAlreadyExists):
        fixed.run(show_progress=False)
    again = fixed.run(show_progress=False, resume=True)
    assert again == "D" and again == WorkflowRunStatus.DONE
    assert (again.done_count, again.num_previously_complete, again.num_newly_completed) == (
        2, 1, 1)
    assert fixed.workflow_id == workflow.workflow_id
    assert count_lines(tmp_path / "ran.log") == {"ok_task": 1, "a_task": 2}
    with pytest.raises(WorkflowAlreadyComplete):
        fixed.run(show_progress=False, resume=True)


def test_a_timeout_raises_a_runtime_error_that_says_timeout(
    cluster: str, server: ServerThread, tmp_path: Path
) -> None:
    """Follows docsource/advanced/advanced_usage.rst, 'Complete Exception Handling Example'
    (``except RuntimeError as e: if "timeout" in str(e).lower()``) and 'Resume by ID',
    'Timeout Behavior' (resume to continue)."""
    tool = _tool(cluster)
    template = tool.get_task_template(
        template_name="nap", command_template="echo {n} >> {out}/ran.log; sleep {seconds}",
        node_args=["n"], task_args=["seconds"], op_args=["out"])
    first = template.create_task(n=1, seconds=0, out=str(tmp_path))
    slow = template.create_task(n=2, seconds=8, out=str(tmp_path), upstream_tasks=[first])
    workflow = tool.create_workflow(name="timeout", workflow_args=f"timeout-{cluster}",
                                    default_cluster_name=cluster)
    workflow.add_tasks([first, slow])

    caught = ""
    try:
        # long enough for the first task on a loaded machine, too short for the second
        workflow.run(show_progress=False, seconds_until_timeout=5)
    except RuntimeError as e:
        if "timeout" in str(e).lower():
            caught = str(e)
        else:
            raise
    assert caught and "resume=True" in caught
    assert first.final_status == "D"  # the counts when it stopped are kept
    assert value(server.dsn, "SELECT status FROM workflow_run WHERE workflow_id = $1",
                 workflow.workflow_id) == "E"
    # timeout= is the name one of Jobmon's examples uses; a bad value is refused at once
    with pytest.raises(ValueError, match="seconds_until_timeout"):
        workflow.run(show_progress=False, resume=True, seconds_until_timeout=-1)
    assert workflow.run(show_progress=False, resume=True, timeout=120) == "D"
    assert count_lines(tmp_path / "ran.log")["1"] == 1  # DONE before the timeout: not rerun


def test_fix_the_command_then_resume(cluster: str, server: ServerThread, tmp_path: Path) -> None:
    """Follows tests/e2e/test_workflow_resume.py, test_fail_one_task_resume: the op arg
    ``fail_always`` changes between the runs, and the resume runs the new command."""
    workflow = _fail_one_workflow(_tool(cluster), cluster, tmp_path, "--fail_always",
                                  f"command-{cluster}", max_attempts=2)
    assert workflow.run(show_progress=False) == WorkflowRunStatus.ERROR
    assert count_lines(tmp_path / "ran.log") == {"ok_task": 1, "a_task": 2}

    fixed = _fail_one_workflow(_tool(cluster), cluster, tmp_path, "", f"command-{cluster}",
                               max_attempts=2)
    assert fixed.run(show_progress=False, resume=True) == WorkflowRunStatus.DONE
    assert count_lines(tmp_path / "ran.log") == {"ok_task": 1, "a_task": 3}
    command = value(server.dsn, "SELECT command FROM task WHERE id = $1",
                    list(fixed.tasks.values())[1].task_id)
    assert "--fail_always" not in command


def _attempts_workflow(cluster: str, out: Path, max_attempts: int) -> Workflow:
    """"before", then "flaky", which fails on the first attempt of each run."""
    tool = _tool(cluster)
    template = tool.get_task_template(
        template_name="second_try",
        command_template="echo {step} >> {out}/ran.log; test $JOBMON_ATTEMPT -ge {needed}",
        node_args=["step"], op_args=["needed", "out"])
    before = template.create_task(step="before", needed=1, out=str(out))
    flaky = template.create_task(step="flaky", needed=2, out=str(out),
                                 max_attempts=max_attempts, upstream_tasks=[before])
    workflow = tool.create_workflow(name="attempts", workflow_args=f"attempts-{cluster}",
                                    default_cluster_name=cluster)
    workflow.add_tasks([before, flaky])
    return workflow


def test_raise_max_attempts_then_resume(cluster: str, server: ServerThread,
                                        tmp_path: Path) -> None:
    """Follows docsource/advanced/advanced_usage.rst, 'Resuming a Workflow' (re-attempt
    tasks that errored, after fixing the cause): here the cause is a max_attempts too low,
    raised in the script before the resume."""
    assert _attempts_workflow(cluster, tmp_path, 1).run(show_progress=False) == "E"
    fixed = _attempts_workflow(cluster, tmp_path, 2)
    assert fixed.run(show_progress=False, resume=True) == "D"
    assert count_lines(tmp_path / "ran.log") == {"before": 1, "flaky": 3}
    assert value(server.dsn, "SELECT max_attempts FROM task WHERE id = $1",
                 list(fixed.tasks.values())[1].task_id) == 2


def _resources_workflow(cluster: str, out: Path, runtime: str,
                        scales: dict[str, float]) -> Workflow:
    tool = _tool(cluster)
    template = tool.get_task_template(
        template_name="needs_time",
        command_template="echo {step} >> {out}/ran.log; sleep {seconds}",
        node_args=["step"], op_args=["seconds", "out"])
    quick = template.create_task(step="quick", seconds=0, out=str(out))
    slow = template.create_task(step="slow", name="slow", seconds=3, out=str(out), max_attempts=2,
                                compute_resources={"runtime": runtime},
                                resource_scales=scales)
    workflow = tool.create_workflow(name="resources", workflow_args=f"resources-{cluster}",
                                    default_cluster_name=cluster)
    workflow.add_tasks([quick, slow])
    return workflow


def test_give_more_resources_then_resume(cluster: str, server: ServerThread,
                                         tmp_path: Path) -> None:
    """Follows docsource/advanced/advanced_usage.rst, 'Resume By Recreating the Workflow'
    and its caveat (to run with updated resources, recreate the workflow with the same
    workflow args): a runtime too small, not scaled (a runtime scale of 0), killed twice;
    then the script asks for more and scales runtime after a resource error."""
    slow_instances = ("SELECT ti.status, (ti.compute_resources->>'runtime')::float AS runtime "
                      "FROM task_instance ti JOIN task t ON t.id = ti.task_id "
                      "WHERE t.name = 'slow' ORDER BY ti.id")
    assert _resources_workflow(cluster, tmp_path, "1s", {"runtime": 0}).run(
        show_progress=False) == "E"
    assert [tuple(row) for row in fetch(server.dsn, slow_instances)] == [("Z", 1.0)] * 2

    # the new request is still too small, but its scales make the retry big enough
    fixed = _resources_workflow(cluster, tmp_path, "2s", {"runtime": 4.0})
    assert fixed.run(show_progress=False, resume=True) == "D"
    assert [tuple(row) for row in fetch(server.dsn, slow_instances)][2:] == [
        ("Z", 2.0), ("D", 10.0)]
    assert count_lines(tmp_path / "ran.log") == {"quick": 1, "slow": 4}


def test_a_resume_does_not_change_done_or_running_tasks_unless_cold(
    server: ServerThread, tmp_path: Path
) -> None:
    """Follows jobmon_server's Task.reset (a re-bind resets only tasks not DONE, and running
    ones only with reset_if_running) and advanced_usage.rst, 'Cold Resume' / 'Hot Resume'."""
    tool = _tool("local")
    template = tool.get_task_template(
        template_name="edit", command_template="echo {step} {version} >> {out}/ran.log",
        node_args=["step"], op_args=["version", "out"])

    def build(version: int) -> Workflow:
        workflow = tool.create_workflow(name="edits", workflow_args="edits",
                                        default_cluster_name="local")
        workflow.add_tasks([template.create_task(step=step, version=version, out=str(tmp_path))
                            for step in ("done", "running", "failed")])
        return workflow

    first = build(1)
    first.bind()
    ids = {task.node_args["step"]: task.task_id for task in first.tasks.values()}
    # as if a run had ended (its swarm lost) with them DONE, RUNNING and FAILED
    fetch(server.dsn, "INSERT INTO workflow_run (workflow_id, owner, status, created_at, "
          "status_date, heartbeat_date, report_by) VALUES ($1, 'me', 'E', now(), now(), "
          "now(), now())", first.workflow_id)
    for name, status in (("done", "D"), ("running", "R"), ("failed", "F")):
        fetch(server.dsn, "UPDATE task SET status = $2 WHERE id = $1", ids[name], status)

    def commands() -> dict[str, str]:
        return {name: str(value(server.dsn, "SELECT command FROM task WHERE id = $1", task_id))
                for name, task_id in ids.items()}

    build(2).bind()  # a plain bind of a workflow that ran changes nothing
    assert all(" 1 >>" in command for command in commands().values())

    hot = build(3)
    _bind_for_resume(hot, reset_running=False)
    assert {name: " 3 >>" in command for name, command in commands().items()} == {
        "done": False, "running": False, "failed": True}
    cold = build(4)
    _bind_for_resume(cold, reset_running=True)
    assert {name: " 4 >>" in command for name, command in commands().items()} == {
        "done": False, "running": True, "failed": True}


def _bind_for_resume(workflow: Workflow, reset_running: bool) -> None:
    import anyio

    from jobmon.client.connection import open_requester
    from jobmon.client.prepare import prepare

    async def bind() -> None:
        async with open_requester() as requester:
            await workflow._bind(requester, prepare(workflow), resume=True,
                                 reset_running=reset_running)

    anyio.run(bind)


def test_jobmon_run_arguments_are_checked(server: ServerThread, tmp_path: Path) -> None:
    """Follows jobmon_client's Workflow.run signature: fail_fast, seconds_until_timeout,
    resume, reset_running_jobs, distributor_startup_timeout, resume_timeout,
    configure_logging, by keyword and by position."""
    tool = _tool("local")
    template = tool.get_task_template(template_name="echo", command_template="echo {x}",
                                      node_args=["x"])
    workflow = tool.create_workflow(name="args", workflow_args="run-args",
                                    default_cluster_name="local")
    workflow.add_task(template.create_task(x=1))
    for bad in ({"reset_running_jobs": "yes"}, {"resume_timeout": -5},
                {"distributor_startup_timeout": "soon"},
                {"reset_running_jobs": False, "cold_resume": True}):
        with pytest.raises((TypeError, ValueError)):
            workflow.run(show_progress=False, **bad)  # type: ignore[arg-type]
    assert workflow.workflow_id is None  # refused before anything was sent
    result = workflow.run(False, 600, False, True, 180, 300, False, show_progress=False)
    assert result == "D" and isinstance(result, str)
    assert f"{result}" == "D" and result.lower() == "d"


def test_run_works_where_an_event_loop_already_runs(server: ServerThread) -> None:
    """Follows jobmon_client's swarm/run.py, _run_async_in_thread: run() called from code
    that an event loop runs (a Jupyter notebook cell) runs in a thread and blocks."""
    import anyio

    tool = _tool("local")
    template = tool.get_task_template(template_name="echo", command_template="echo {x}",
                                      node_args=["x"])
    workflow = tool.create_workflow(name="notebook", workflow_args="notebook",
                                    default_cluster_name="local")
    workflow.add_task(template.create_task(x=1))

    async def cell() -> str:
        return workflow.run(show_progress=False)  # synchronous, as a notebook calls it

    assert anyio.run(cell) == "D"


def test_same_workflow_args_with_other_tasks_raise_workflow_already_exists(
    server: ServerThread,
) -> None:
    """Follows jobmon_client's Workflow._matching_wf_args_diff_hash (workflow_args that
    belong to a workflow with other tasks raise WorkflowAlreadyExists) and
    tests/integration/client/test_workflow.py, test_workflow_identical_args."""
    tool = _tool("local")
    template = tool.get_task_template(template_name="echo", command_template="echo {arg}",
                                      node_args=["arg"])
    first = tool.create_workflow(workflow_args="same", default_cluster_name="local")
    first.add_task(template.create_task(arg="1"))
    first.bind()
    second = tool.create_workflow(workflow_args="same", default_cluster_name="local")
    second.add_task(template.create_task(arg="2"))
    with pytest.raises(WorkflowAlreadyExists, match="different set of tasks"):
        second.run(show_progress=False)
    third = tool.create_workflow(workflow_args="same", default_cluster_name="local")
    third.add_task(template.create_task(arg="1"))
    assert third.run(show_progress=False) == "D"  # bound before, never ran: a new run
    assert third.workflow_id == first.workflow_id


def test_workflow_and_task_attributes_are_stored_and_merged_on_resume(
    server: ServerThread,
) -> None:
    """Follows tests/integration/client/test_workflow.py, test_workflow_attribute
    (attributes stored on bind; add_attributes adds and updates) and
    test_resume_with_old_and_new_workflow_attributes (a resume keeps the old names and
    takes the new values), and docsource/user_guide/workflows.rst, 'Workflow Attributes'."""
    import json
    import subprocess

    from tests.integration.helpers import ROOT

    def build(year: str, attributes: dict[str, object]) -> Workflow:
        tool = _tool("local")
        template = tool.get_task_template(template_name="then",
                                          command_template="echo {n}; {then}",
                                          node_args=["n"], op_args=["then"])
        workflow = tool.create_workflow("attributes-compat", name="attempt_resume_on_failed",
                                        workflow_attributes=attributes,
                                        default_cluster_name="local")
        workflow.add_task(template.create_task(n=1, then="exit 1" if year == "2019" else "true",
                                               max_attempts=1,
                                               task_attributes={"year": year}))
        return workflow

    def shown(*args: str) -> dict[str, object]:
        ran = subprocess.run([sys.executable, "-m", "jobmon", *args, "--json"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120, check=False)
        assert ran.returncode == 0, ran.stderr
        (first,) = json.loads(ran.stdout)
        return dict(first["attributes"])

    first = build("2019", {"location_id": 5, "year": "2019"})
    assert first.run(show_progress=False) == "E"
    workflow_id = str(first.workflow_id)
    assert shown("workflow", "status", "-w", workflow_id) == {"location_id": "5",
                                                               "year": "2019"}
    again = build("2022", {"location_id": 5, "year": "2022", "sex": "F"})
    assert again.run(show_progress=False, resume=True) == "D"
    assert shown("workflow", "status", "-w", workflow_id) == {
        "location_id": "5", "year": "2022", "sex": "F"}
    again.add_attributes({"age_group_id": 1, "sex": 2})  # bound: stored at once
    assert shown("workflow", "status", "-w", workflow_id) == {
        "location_id": "5", "year": "2022", "sex": "2", "age_group_id": "1"}
    (task,) = again.tasks.values()
    assert shown("task", "status", "-t", str(task.task_id)) == {"year": "2022"}
