"""``jobmon.client.status_commands`` and the resource usage methods, as Jobmon's tests call
them: tests/integration/cli/test_status_commands.py and test_resource_api.py of Jobmon
3.6, and advanced_usage.rst ('Resource Usage'). Real server, workflows bound or run on
"local" and "sequential".

Where Jobmon's tests write exact usage figures into task_instance (maxrss, wallclock) to
check exact statistics, these tests do the same through SQL on the test database: a
measured max RSS is never a round number. The statistics are also checked against what
real runs measured.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from jobmon import errors
from jobmon.client import status_commands as sc
from jobmon.client.task_template import TaskTemplate
from jobmon.client.tool import Tool
from jobmon.resources import normalize
from tests.compat.cli_support import gated, open_gates, statuses, task_ids, user
from tests.integration.helpers import ROOT, fetch, value
from tests.support import ServerThread

pytestmark = pytest.mark.timeout(600)


def _template(tool: Tool, name: str = "my_template", cluster: str = "sequential") -> TaskTemplate:
    return tool.get_task_template(template_name=name, command_template="echo {arg}",
                                  node_args=["arg"], default_cluster_name=cluster)


def _bound(name: str, args: list[str], cluster: str = "sequential") -> int:
    tool = Tool(name="compat-status")
    template = _template(tool, cluster=cluster)
    workflow = tool.create_workflow(name=name, workflow_args=name)
    workflow.add_tasks([template.create_task(arg=arg) for arg in args])
    return workflow.bind()


def test_workflow_status(server: ServerThread) -> None:
    """Follows test_status_commands.py::test_workflow_status: columns, shares, JSON, the
    user's newest workflows and the limit."""
    first = _bound("status-1", ["a", "b"])
    frame = sc.workflow_status([first], [user()])
    assert list(frame.columns) == ["WF_ID", "WF_NAME", "WF_STATUS", "CREATED_DATE", "TASKS",
                                   "PENDING", "SCHEDULED", "RUNNING", "DONE", "FATAL",
                                   "RETRIES"]
    assert frame["PENDING"][0] == "2 (100.0%)" and frame["WF_STATUS"][0] == "QUEUED"
    assert pd.api.types.is_datetime64_any_dtype(frame["CREATED_DATE"])
    assert sc.workflow_status()["PENDING"][0] == "2 (100.0%)"  # the defaults: you, newest

    parsed = json.loads(sc.workflow_status([first], [user()], json=True))
    created = parsed.pop("CREATED_DATE")["0"]
    assert parsed == {"WF_ID": {"0": first}, "WF_NAME": {"0": "status-1"},
                      "WF_STATUS": {"0": "QUEUED"}, "TASKS": {"0": 2},
                      "PENDING": {"0": "2 (100.0%)"}, "SCHEDULED": {"0": "0 (0.0%)"},
                      "RUNNING": {"0": "0 (0.0%)"}, "DONE": {"0": "0 (0.0%)"},
                      "FATAL": {"0": "0 (0.0%)"}, "RETRIES": {"0": 0}}
    created_day = dt.datetime.fromtimestamp(created / 1e3, dt.UTC).date()
    assert abs(created_day - dt.datetime.now(dt.UTC).date()) <= dt.timedelta(days=1)

    more = [_bound(f"status-{i}", [f"x{i}"]) for i in range(2, 7)]
    assert len(sc.workflow_status(user=[user()])) == 5  # Jobmon's default limit
    assert len(sc.workflow_status(user=[user()], limit=12)) == 6
    newest = sc.workflow_status(user=[user()], limit=2)
    assert set(newest["WF_ID"]) == set(more[-2:])
    assert len(sc.workflow_status(workflow_id=[first, more[0]])) == 2
    assert sc.workflow_status(user=["nobody-at-all"]).empty


def test_workflow_tasks(server: ServerThread, tmp_path: Path) -> None:
    """Follows test_status_commands.py::test_workflow_tasks: PENDING before a run, none
    after, newest first, and the limit."""
    bound = _bound("tasks-bound", ["a", "b"])
    before = sc.workflow_tasks(bound)
    assert list(before.columns) == ["TASK_ID", "TASK_NAME", "STATUS", "RETRIES"]
    assert len(before) == 2 and set(before["STATUS"]) == {"PENDING"}

    tool = Tool(name="compat-status")
    template = _template(tool, cluster="local")
    workflow = tool.create_workflow(name="tasks-run", workflow_args="tasks-run")
    workflow.add_tasks([template.create_task(arg=f"echo-{i}") for i in range(6)])
    workflow.run(show_progress=False)
    ran = workflow.workflow_id
    assert len(sc.workflow_tasks(ran, ["PENDING"])) == 0
    done = sc.workflow_tasks(ran, ["done"], limit=12)
    assert len(done) == 6 and set(done["STATUS"]) == {"DONE"}
    assert list(done["TASK_ID"]) == sorted(done["TASK_ID"], reverse=True)
    for limit, expected in ((1, 1), (2, 2), (5, 5), (12, 6)):
        assert len(sc.workflow_tasks(ran, limit=limit)) == expected
    assert len(json.loads(sc.workflow_tasks(ran, json=True))["TASK_ID"]) == 5
    with pytest.raises(errors.ServerError, match="workflow 999999 does not exist"):
        sc.workflow_tasks(999999)


def test_task_status(server: ServerThread, tmp_path: Path) -> None:
    """Follows test_status_commands.py::test_task_status: one row per instance, filters by
    status group, and the log paths."""
    tool = Tool(name="compat-status")
    template = tool.get_task_template(template_name="exits", command_template="exit {code}",
                                      node_args=["code"], default_cluster_name="sequential")
    failing = template.create_task(code=9, max_attempts=2)
    passing = template.create_task(code=0)
    workflow = tool.create_workflow(name="task-status", workflow_args="task-status")
    workflow.add_tasks([failing, passing])
    workflow.run(show_progress=False)
    ids = [failing.task_id, passing.task_id]

    frame = sc.task_status(ids)
    assert list(frame.columns) == ["TASK_ID", "task_status", "TASK_INSTANCE_ID",
                                   "DISTRIBUTOR_ID", "STATUS", "RESOURCE_USAGE", "STDOUT",
                                   "STDERR", "ERROR_TRACE"]
    assert len(frame) == 3
    assert len(frame.query("STATUS=='ERROR'")) == 2 and len(frame.query("STATUS=='DONE'")) == 1
    assert len(sc.task_status(ids, ["done"])) == 1
    assert len(sc.task_status(ids, ["done", "fatal"])) == 3
    paths = {row[0]: (row[1], row[2]) for row in fetch(
        server.dsn, "SELECT id, stdout_path, stderr_path FROM task_instance "
                    "WHERE task_id = ANY($1::bigint[])", ids)}
    assert {row.TASK_INSTANCE_ID: (row.STDOUT, row.STDERR) for row in frame.itertuples()} == \
        paths
    as_json = json.loads(sc.task_status(ids, json=True))
    assert sorted(as_json["STATUS"].values()) == ["DONE", "ERROR", "ERROR"]


def test_update_task_status_sub_tree_and_dependencies(server: ServerThread,
                                                       tmp_path: Path) -> None:
    """Follows test_status_commands.py::test_update_task_status and test_sub_dag, and
    test_cli_routes.py's task dependencies: mark a fatal task DONE and resume; reset a
    DONE workflow's task to G; the sub tree and neighbours of tasks."""
    open_gates(tmp_path, 0, 1, 3)
    workflow = gated("update-status", tmp_path, cluster="local")
    workflow.run(show_progress=False)
    w = workflow.workflow_id
    ids = task_ids(server.dsn, w)
    assert statuses(server.dsn, w)["work-2"] == "F"

    tree = sc.get_sub_task_tree([ids["work-2"]])
    assert tree == {str(ids["work-2"]): ["F", "work-2"], str(ids["report"]): ["G", "report"]}
    assert set(sc.get_sub_task_tree([ids["prep"]])) == {str(i) for i in ids.values()}
    assert sc.get_sub_task_tree([ids["prep"]], task_status=["F"]) == \
        {str(ids["work-2"]): ["F", "work-2"]}
    neighbours = sc.get_task_dependencies(ids["work-2"])
    assert neighbours == {"up": [[{"id": ids["prep"], "status": "D", "name": "prep"}]],
                          "down": [[{"id": ids["report"], "status": "G", "name": "report"}]]}

    answer = sc.update_task_status([ids["work-2"]], w, "D")
    assert answer["message"] == "updated to status D"
    assert gated("update-status", tmp_path, cluster="local").run(
        show_progress=False, resume=True) in ("D", "DONE")
    assert set(statuses(server.dsn, w).values()) == {"D"}

    reset = sc.update_task_status([ids["work-3"]], w, "G")
    assert sorted(reset["task_ids"]) == sorted([ids["work-3"], ids["report"]])
    assert value(server.dsn, "SELECT status FROM workflow WHERE id = $1", w) == "H"
    upstream = sc.update_task_status([ids["report"]], w, "D", force=True, recursive=True)
    assert ids["work-3"] in upstream["task_ids"] and upstream["workflow_status"] == "D"
    with pytest.raises(ValueError, match="must be 'D'"):
        sc.update_task_status([ids["prep"]], w, "X")


def test_get_filepaths_concurrency_limit_and_workflow_reset(server: ServerThread,
                                                            tmp_path: Path) -> None:
    """Follows test_status_commands.py::test_get_filepaths (by array, by job name, the
    limit), the concurrency_limit route's answer, and advanced_usage.rst
    ('workflow_reset': only after a run that ended in ERROR)."""
    open_gates(tmp_path, 0, 1, 3)
    workflow = gated("paths", tmp_path, cluster="local")
    workflow.run(show_progress=False)
    w = workflow.workflow_id
    paths = sc.get_filepaths(w, array_name="work")
    assert len(paths) == 4 and {row["ARRAY_NAME"] for row in paths} == {"work"}
    assert set(paths[0]) == {"TASK_ID", "TASK_NAME", "ARRAY_NAME", "TASK_INSTANCE_ID",
                             "OUTPUT_PATH", "ERROR_PATH"}
    in_db = {row[0]: row[1] for row in fetch(
        server.dsn, "SELECT id, stderr_path FROM task_instance WHERE workflow_id = $1", w)}
    assert all(row["ERROR_PATH"] == in_db[row["TASK_INSTANCE_ID"]] for row in paths)
    assert len(sc.get_filepaths(w, array_name="work", job_name="work-2")) == 1
    assert len(sc.get_filepaths(w)) == 5 and len(sc.get_filepaths(w, limit=3)) == 3

    assert sc.concurrency_limit(w, 7) == f"Workflow ID {w} max concurrently running updated to 7"

    assert sc.workflow_reset(w, partial_reset=True) == f"Workflow {w} has been reset."
    assert statuses(server.dsn, w) == {"prep": "D", "work-0": "D", "work-1": "D",
                                       "work-2": "G", "work-3": "D", "report": "G"}
    refused = sc.workflow_reset(w)  # its latest run is still the ERROR one: allowed again
    assert refused == f"Workflow {w} has been reset."
    assert set(statuses(server.dsn, w).values()) == {"G"}
    done = _bound("never-ran", ["z"])
    assert "was not reset: it never ran" in sc.workflow_reset(done)


def _usage_workflows(server: ServerThread) -> tuple[Any, list[Any], list[int]]:
    """Jobmon's test_tt_resource_usage: three tasks in two workflows, with the usage of
    its fake figures (300, 600, 900 bytes; 10, 20, 30 s) written into their instances."""
    tool = Tool(name="compat-usage")
    template = tool.get_task_template(
        template_name="parks", command_template="echo {arg} --foo {arg_2} --bar {task_arg_1}",
        node_args=["arg", "arg_2"], task_args=["task_arg_1"], default_cluster_name="local")
    tasks = [template.create_task(arg=arg, arg_2=arg_2, task_arg_1=task_arg)
             for arg, arg_2, task_arg in (("Acadia", "DeathValley", "NorthCascades"),
                                          ("Zion", "JoshuaTree", "Olympic"),
                                          ("Rainier", "Badlands", "CraterLake"))]
    first = tool.create_workflow(name="usage-1", workflow_args="usage-1")
    first.add_tasks(tasks[:2])
    first.run(show_progress=False)
    second = tool.create_workflow(name="usage-2", workflow_args="usage-2")
    second.add_task(tasks[2])
    second.run(show_progress=False)
    for task, (wallclock, maxrss) in zip(tasks, ((10, 300), (20, 600), (30, 900)),
                                         strict=True):
        fetch(server.dsn, "UPDATE task_instance SET wallclock = $2, maxrss = $3, "
                          "nodename = 'node-a' WHERE task_id = $1",
              task.task_id, wallclock, maxrss)
    assert first.workflow_id is not None and second.workflow_id is not None
    return template, tasks, [first.workflow_id, second.workflow_id]


def test_resource_usage_of_templates_and_tasks(server: ServerThread) -> None:
    """Follows test_resource_api.py (test_resource_usage, test_tt_resource_usage) and
    advanced_usage.rst ('Task Resource Usage', 'TaskTemplate Resource Usage')."""
    template, tasks, (first, second) = _usage_workflows(server)
    everything = {"num_tasks": 3, "min_mem": "300B", "max_mem": "900B", "mean_mem": "600.0B",
                  "min_runtime": 10, "max_runtime": 30, "mean_runtime": 20.0,
                  "median_mem": "600.0B", "median_runtime": 20.0,
                  "ci_mem": [-145.24, 1345.24], "ci_runtime": [-4.84, 44.84]}
    assert template.resource_usage(ci=0.95) == everything
    version = int(value(server.dsn, "SELECT task_template_version_id FROM task_array "
                                    "WHERE workflow_id = $1", first))
    assert sc.task_template_resources(version) == {**everything, "ci_mem": None,
                                                   "ci_runtime": None}
    only_first = {"num_tasks": 2, "min_mem": "300B", "max_mem": "600B", "mean_mem": "450.0B",
                  "min_runtime": 10, "max_runtime": 20, "mean_runtime": 15.0,
                  "median_mem": "450.0B", "median_runtime": 15.0,
                  "ci_mem": [-1455.93, 2355.93], "ci_runtime": [-48.53, 78.53]}
    assert template.resource_usage(workflows=[first], ci=0.95) == only_first
    assert sc.task_template_resources(version, workflows=[first], ci=0.95) == only_first
    assert sc.task_template_resources(version, workflows=[first, second], ci=0.95) == \
        everything
    by_args = template.resource_usage(node_args={"arg": ["Acadia", "Rainier"],
                                                 "arg_2": ["Badlands"]})
    assert by_args["num_tasks"] == 1 and by_args["max_mem"] == "900B"
    none_match = template.resource_usage(node_args={"arg": ["Yosemite"]})
    assert none_match["num_tasks"] == 0  # the template has tasks; none matches
    unused = Tool(name="compat-usage").get_task_template(
        template_name="never-used", command_template="{arg}", node_args=["arg"])
    assert set(unused.resource_usage(ci=0.95).values()) == {None}

    # a task's own usage: its DONE instance, with memory and runtime as Jobmon's text
    assert tasks[0].resource_usage() == {"memory": "300", "nodename": "node-a",
                                         "num_attempts": 1, "runtime": "10"}


def test_measured_usage_and_the_resource_file(server: ServerThread, tmp_path: Path) -> None:
    """Follows advanced_usage.rst ('TaskTemplate Resource Prediction to YAML') and
    test_status_commands.py::test_get_yaml_data and test_create_yaml: the figures real
    runs measured, and a resource file of requests made from them that yaml_file reads."""
    tool = Tool(name="compat-usage")
    template = tool.get_task_template(
        template_name="alloc",
        command_template='python3 -c "import time; x = bytearray({mb} * 2 ** 20); '
                         'time.sleep(0.8)"',
        node_args=["mb"], default_cluster_name="local",
        default_compute_resources={"cores": 1, "memory": "1G", "runtime": 60})
    workflow = tool.create_workflow(name="measured", workflow_args="measured")
    workflow.add_tasks([template.create_task(mb=mb) for mb in (40, 80, 120)])
    workflow.run(show_progress=False)
    rows = fetch(server.dsn, "SELECT maxrss, wallclock FROM task_instance "
                             "WHERE workflow_id = $1 AND status = 'D'", workflow.workflow_id)
    memory = sorted(float(row[0]) for row in rows)
    runtime = sorted(float(row[1]) for row in rows)
    assert len(memory) == 3 and memory[2] > 120 * 2**20 > memory[0] > 40 * 2**20

    stats = template.resource_usage()
    assert stats["num_tasks"] == 3
    assert stats["min_mem"] == f"{int(memory[0])}B" and stats["max_mem"] == f"{int(memory[2])}B"
    assert float(stats["mean_mem"][:-1]) == pytest.approx(statistics.mean(memory))
    assert float(stats["median_mem"][:-1]) == pytest.approx(statistics.median(memory))
    assert stats["mean_runtime"] == pytest.approx(statistics.mean(runtime))

    text = sc.create_resource_yaml(workflow.workflow_id, None, "max", "avg", "max",
                                   ["local", "slurm"])
    requests = yaml.safe_load(text)["task_template_resources"]["alloc"]
    assert set(requests) == {"local", "slurm"}
    local = normalize(requests["local"])  # what yaml_file= would read
    assert local["memory"] == math.ceil(memory[2] / 2**20)
    assert local["runtime"] == math.ceil(runtime[2]) and local["cores"] == 1
    with pytest.raises(ValueError, match="either -w or -t but not both"):
        sc.create_resource_yaml(None, None, "avg", "avg", "max", ["slurm"])


def test_resume_workflow_from_id(server: ServerThread, tmp_path: Path) -> None:
    """Follows test_status_commands.py::test_resume_workflow_from_cli: a failed task's
    command is fixed in the database (as that test fixes it), and the resume by id runs
    what is left; a resume that does not end DONE raises WorkflowRunStateError."""
    tool = Tool(name="compat-status")
    template = tool.get_task_template(template_name="cmd", command_template="{arg}",
                                      node_args=["arg"], default_cluster_name="local")
    t1 = template.create_task(arg="true")
    t2 = template.create_task(arg="echo", upstream_tasks=[t1])
    t3 = template.create_task(arg="false", upstream_tasks=[t1], max_attempts=1)
    t4 = template.create_task(arg="pwd", upstream_tasks=[t2, t3])
    workflow = tool.create_workflow(name="from-id", workflow_args="from-id")
    workflow.add_tasks([t1, t2, t3, t4])
    workflow.run(show_progress=False)
    w = workflow.workflow_id
    ordered = [t1.task_id, t2.task_id, t3.task_id, t4.task_id]
    in_db = dict(fetch(server.dsn, "SELECT id, status FROM task WHERE workflow_id = $1", w))
    assert [in_db[task_id] for task_id in ordered] == ["D", "D", "F", "G"]

    with pytest.raises(errors.WorkflowRunStateError, match="did not resume to completion"):
        sc.resume_workflow_from_id(w, "local", reset_if_running=False, timeout=200,
                                   log=False)
    fetch(server.dsn, "UPDATE task SET command = 'echo 3' WHERE id = $1", t3.task_id)
    sc.resume_workflow_from_id(w, "local", reset_if_running=False, timeout=200, log=False)
    in_db = dict(fetch(server.dsn, "SELECT id, status FROM task WHERE workflow_id = $1", w))
    assert set(in_db.values()) == {"D"}
    assert value(server.dsn, "SELECT status FROM workflow WHERE id = $1", w) == "D"


def test_update_config_value(tmp_path: Path) -> None:
    """Follows test_status_commands.py (test_update_config_value_success,
    test_update_config_value_validation_errors, test_update_config_preserves_yaml_structure)
    with our TOML file and names."""
    config = tmp_path / "jobmon.toml"
    config.write_text("# kept\n[http]\nrequest_timeout = 20.0\nservice_url = "
                      '"http://original.com"\n[db]\npool_max_size = 5\n')
    assert "Successfully updated 'http.request_timeout' from '20.0' to '15.0'" in \
        sc.update_config_value("http.request_timeout", "15", str(config))
    assert "'db.pool_max_size' from '5' to '8'" in \
        sc.update_config_value("db.pool.size", "8", str(config))
    assert "'heartbeat.report_by_buffer' from '3.1' to '2.5'" in \
        sc.update_config_value("heartbeat.report_by_buffer", "2.5", str(config))
    sc.update_config_value("http.service_url", "http://new.example.com", str(config))
    text = config.read_text()
    assert text.startswith("# kept\n")
    import tomllib

    assert tomllib.loads(text) == {
        "http": {"request_timeout": 15.0, "service_url": "http://new.example.com"},
        "db": {"pool_max_size": 8}, "heartbeat": {"report_by_buffer": 2.5}}
    for key, message in (
            ("invalid_section.key", "Section 'invalid_section' not found in configuration. "
                                    "Available sections:"),
            ("http.invalid_key", "Key 'invalid_key' not found in 'http'. Available keys:"),
            ("invalid_format", "must be in dot notation format"),
            ("http.request_timeout", "'http.request_timeout' takes a number")):
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            sc.update_config_value(key, "value", str(config))
    assert tomllib.loads(config.read_text())["http"]["request_timeout"] == 15.0


def test_names_and_a_light_import() -> None:
    """Follows test_status_commands.py's imports: every function it names exists here,
    and `import jobmon.client` stays light (pandas loads only when a DataFrame is made)."""
    for name in ("workflow_status", "workflow_tasks", "task_status", "task_template_resources",
                 "concurrency_limit", "update_task_status", "get_task_dependencies",
                 "get_sub_task_tree", "workflow_reset", "create_resource_yaml",
                 "get_filepaths", "resume_workflow_from_id", "update_config_value"):
        assert callable(getattr(sc, name)), name
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, jobmon.client, jobmon.client.status_commands; "
                               "print('pandas' in sys.modules, jobmon.client.__version__)"],
        capture_output=True, text=True, cwd=ROOT, check=True)
    assert loaded.stdout.split() == ["False", __import__("jobmon").__version__]
