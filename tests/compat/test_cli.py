"""Jobmon's command line, line by line as its documentation writes it.

Every `jobmon ...` line of Jobmon 3.6's pages (docsource/user_guide/cli_reference.rst,
monitoring.rst, workflows.rst, compute_resources.rst; docsource/advanced/
monitoring_debugging.rst, advanced_usage.rst, troubleshooting.rst; docsource/ihme/
quickstart_ihme.rst) runs here against a real server, on workflows that really ran on
"local" or "sequential", with only ids, cluster names and paths changed; each test checks
what a user reads in the answer. The options follow jobmon_client/src/jobmon/client/cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import jobmon
from tests.compat.cli_support import (
    ERROR_LINE,
    gated,
    jobmon_process,
    open_gates,
    ran,
    statuses,
    table_rows,
    task_ids,
    user,
    workflow_status,
)
from tests.compat.cli_support import jobmon as cli
from tests.integration.helpers import fetch, value
from tests.support import ServerThread

pytestmark = pytest.mark.timeout(600)


def test_the_status_command_lines_of_jobmons_pages(server: ServerThread,
                                                   tmp_path: Path) -> None:
    """Follows monitoring_debugging.rst ('Jobmon Command Line Interface (CLI) Status
    Commands', 'JSON Flag', 'get_filepaths'), monitoring.rst ('Command Line Interface'),
    cli_reference.rst ('Status Commands'), troubleshooting.rst ('Using the CLI'),
    workflows.rst and quickstart_ihme.rst: every status command line on them."""
    failed_out, done_out = tmp_path / "failed", tmp_path / "done"
    failed_out.mkdir()
    done_out.mkdir()
    open_gates(failed_out, 0, 1, 3)  # work-2 fails; report never runs
    open_gates(done_out, 0, 1, 2, 3)
    failed = gated("docs-failed", failed_out, cluster="local")
    failed.run(show_progress=False)
    done = gated("docs-done", done_out, cluster="sequential")
    done.run(show_progress=False)
    f, d = failed.workflow_id, done.workflow_id
    assert f is not None and d is not None
    assert workflow_status(server.dsn, f) == "F" and workflow_status(server.dsn, d) == "D"
    ids = task_ids(server.dsn, f)

    # workflow_status: a table of each workflow's tasks by status, with their share
    for line in (f"workflow_status -u {user()}", f"workflow_status -w {d} {f}"):
        answer = cli(line)
        assert answer.code == 0, (line, answer)
        rows = {int(row["WF_ID"]): row for row in table_rows(answer.stdout)}
        assert set(rows) == {f, d}, line
        assert rows[f]["WF_STATUS"] == "FAILED" and rows[d]["WF_STATUS"] == "DONE"
        assert rows[f]["TASKS"] == "6" and rows[f]["DONE"] == "4 (66.7%)"
        assert rows[f]["FATAL"] == "1 (16.7%)" and rows[f]["PENDING"] == "1 (16.7%)"
        assert rows[d]["DONE"] == "6 (100.0%)" and rows[d]["RETRIES"] == "0"
        assert rows[f]["SCHEDULED"] == rows[f]["RUNNING"] == "0 (0.0%)"
    one = table_rows(cli(f"workflow_status -w {f}").stdout)
    assert [int(row["WF_ID"]) for row in one] == [f]
    [as_json] = json.loads(cli(f"workflow_status -w {f} -n").stdout)  # monitoring.rst
    assert as_json["workflow_id"] == f and as_json["tasks"]["FATAL"] == 1
    assert as_json["status_name"] == "FAILED"

    # workflow_tasks: the tasks of a workflow, by status group
    everything = cli(f"workflow_tasks -w {f}")
    assert everything.code == 0
    newest = table_rows(everything.stdout.replace(ERROR_LINE, "-"))
    # as Jobmon's: the 5 newest (highest id) first; the line under it says there are more
    assert [row["TASK_NAME"] for row in newest] == ["report", "work-3", "work-2", "work-1",
                                                     "work-0"]
    assert "the newest 5 of 6 tasks" in everything.stderr
    assert {row["TASK_NAME"]: row["STATUS"] for row in newest}["work-2"] == "FATAL"
    for line in (f"workflow_tasks -w {f} -s PENDING", f"workflow_tasks -w {f} -s PENDING RUNNING"):
        assert [row["TASK_NAME"] for row in table_rows(cli(line).stdout)] == ["report"], line
    fatal = cli(f"workflow_tasks -w {f} -s FATAL")  # workflows.rst, troubleshooting.rst
    assert "work-2" in fatal.stdout and ERROR_LINE in fatal.stdout
    assert len(fatal.stdout.strip().splitlines()) == 2

    # task_status: every instance of a task, its status, job id and logs
    work = ids["work-2"]
    single = cli(f"task_status -t {work}")
    assert single.code == 0
    instance = fetch(server.dsn, "SELECT * FROM task_instance WHERE task_id = $1", work)[0]
    assert f"task {work} work-2" in single.stdout and "ERROR_FATAL" in single.stdout
    assert instance["stderr_path"] in single.stdout and ERROR_LINE in single.stdout
    filtered = cli(f"task_status -t {work} {ids['work-1']} -s done")
    assert f"task {ids['work-1']} work-1" in filtered.stdout
    assert "no instances in those statuses" in filtered.stdout  # work-2 has no DONE one
    shown = json.loads(cli(f"task_status -t {work} {ids['work-1']} -s done -n").stdout)
    assert {task["name"]: [i["status"] for i in task["instances"]] for task in shown} == \
        {"work-2": [], "work-1": ["D"]}
    errors = cli(f"task_status -t {work} -s ERROR")  # monitoring.rst: a status name
    assert errors.code == 0 and str(instance["id"]) in errors.stdout

    # task_dependencies: the layout monitoring_debugging.rst shows
    dependencies = cli(f"task_dependencies -t {work}").stdout
    upstream, downstream = dependencies.split("Downstream Tasks:")
    assert upstream.startswith("Upstream Tasks:")
    assert [line.split()[:2] for line in upstream.splitlines()[2:] if line.strip()] == \
        [["Task", "ID"], [str(ids["prep"]), "D"]]
    assert [line.split()[:2] for line in downstream.splitlines()[2:] if line.strip()] == \
        [["Task", "ID"], [str(ids["report"]), "G"]]

    # get_filepaths: where each instance wrote stdout and stderr
    in_db = {row[0]: (row[1], row[2]) for row in fetch(
        server.dsn, "SELECT ti.id, ti.stdout_path, ti.stderr_path FROM task_instance ti "
                    "WHERE ti.workflow_id = $1", f)}
    first_five = table_rows(cli(f"get_filepaths -w {f}").stdout)
    assert len(first_five) == 5  # the default limit, as Jobmon's
    all_of_them = table_rows(cli(f"get_filepaths -w {f} -l 20").stdout)
    assert {int(row["TASK_INSTANCE_ID"]): (row["OUTPUT_PATH"], row["ERROR_PATH"])
            for row in all_of_them} == in_db
    assert {row["ARRAY_NAME"] for row in all_of_them} == {"prep", "work"}

    version = cli("version")
    assert version.code == 0 and version.stdout.strip() == jobmon.__version__


def test_the_self_service_command_lines_of_jobmons_pages(server: ServerThread,
                                                         tmp_path: Path) -> None:
    """Follows advanced_usage.rst ('Resume by ID', 'Jobmon Self-Service Commands':
    concurrency_limit, workflow_reset, workflow_resume, update_task_status),
    cli_reference.rst ('Self-Service Commands') and workflows.rst ('By ID (CLI)'): each
    line resumes, resets or updates a workflow that really failed."""
    out = tmp_path / "work"
    out.mkdir()
    open_gates(out, 0, 1, 3)
    workflow = gated("self-service", out, cluster="local")
    workflow.run(show_progress=False)
    w = workflow.workflow_id
    assert w is not None
    ids = task_ids(server.dsn, w)
    assert statuses(server.dsn, w)["work-2"] == "F"

    limited = cli(f"concurrency_limit --workflow_id {w} --max_tasks 20")
    assert limited.stdout.strip() == f"Workflow ID {w} max concurrently running updated to 20"
    assert value(server.dsn, "SELECT max_concurrently_running FROM workflow WHERE id = $1",
                 w) == 20

    # the last run ended in ERROR: workflow_reset puts every task back to REGISTERING
    reset = cli(f"workflow_reset -w {w}")
    assert reset.code == 0 and f"Workflow {w} has been reset." in reset.stdout
    assert set(statuses(server.dsn, w).values()) == {"G"}
    assert workflow_status(server.dsn, w) == "G"  # REGISTERING, as Jobmon documents
    # ... and a resume runs them all again; the fix is in: work-2 passes
    open_gates(out, 2)
    resumed = cli(f"workflow_resume -w {w} -c local")
    assert resumed.code == 0, resumed
    assert f"Workflow {w} has successfully resumed to completion" in resumed.stdout
    assert ran(out) == {"prep": 2, "work-0": 2, "work-1": 2, "work-2": 2, "work-3": 2,
                        "report": 1}
    again = cli(f"workflow_reset -w {w}")  # the latest run is DONE: nothing to reset
    assert again.code == 1 and "was not reset" in again.stderr and "DONE" in again.stderr

    # update_task_status -s G: the task and everything downstream run again on resume
    back = cli(f"update_task_status -t {ids['work-3']} -w {w} -s G")
    assert back.code == 0 and "2 task(s) set to REGISTERING" in back.stdout
    assert workflow_status(server.dsn, w) == "H"
    for line in (f"workflow_resume -w {w} -c local --seconds-until-timeout 7200",
                 f"workflow_resume -w {w} -c local --timeout 300 --seconds-until-timeout 14400",
                 f"workflow_resume -w {w} -c local --reset-running-jobs "
                 "--seconds-until-timeout 21600"):
        assert cli(f"update_task_status -t {ids['report']} -w {w} -s G").code == 0
        answer = cli(line)
        assert answer.code == 0 and "successfully resumed" in answer.stdout, (line, answer)
        assert workflow_status(server.dsn, w) == "D"
    assert ran(out)["report"] == 4 and ran(out)["work-3"] == 3 and ran(out)["work-2"] == 2

    # a resume that does not end DONE exits non-zero and says why
    (out / "ok-1").unlink()
    assert cli(f"update_task_status -t {ids['work-1']} -w {w} -s G").code == 0
    failing = cli(f"workflow_resume -w {w} -c local")
    assert failing.code == 1 and "Traceback" not in failing.stderr
    # progress lines, then one line with the reason
    [reason] = [line for line in failing.stderr.splitlines() if line.startswith("Error:")]
    assert failing.stderr.strip().splitlines()[-1] == reason
    assert f"workflow {w} did not resume to completion: it is FAILED" in reason
    assert "1 task(s) failed for good" in reason

    # update_task_status -s D: mark it done by hand, and the workflow is complete
    marked = cli(f"update_task_status -t {ids['work-1']} {ids['report']} -w {w} -s D")
    assert marked.code == 0 and "the workflow is DONE" in marked.stdout
    assert set(statuses(server.dsn, w).values()) == {"D"}

    # the cluster of the resume must be the workflow's
    wrong = cli(f"workflow_resume -w {w} -c slurm")
    assert wrong.code == 1 and "runs on local, not on 'slurm'" in wrong.stderr


def test_resume_by_id_on_sequential_as_a_real_process(server: ServerThread,
                                                      tmp_path: Path) -> None:
    """Follows advanced_usage.rst ('workflow_resume': ``jobmon workflow_resume -w 123 -c
    dummy --reset-running-jobs``, here on "sequential"), run as the `jobmon` program."""
    out = tmp_path / "work"
    out.mkdir()
    workflow = gated("sequential-resume", out, cluster="sequential", width=2)
    workflow.run(show_progress=False)
    assert workflow_status(server.dsn, workflow.workflow_id) == "F"
    open_gates(out, 0, 1)
    answer = jobmon_process(f"workflow_resume -w {workflow.workflow_id} -c sequential "
                            "--reset-running-jobs")
    assert answer.code == 0, answer.stderr
    assert "has successfully resumed to completion" in answer.stdout
    assert set(statuses(server.dsn, workflow.workflow_id).values()) == {"D"}


def test_resource_command_lines_of_jobmons_pages(server: ServerThread, tmp_path: Path) -> None:
    """Follows advanced_usage.rst ('TaskTemplate Resource Usage', 'TaskTemplate Resource
    Prediction to YAML'), cli_reference.rst ('task_template_resources') and
    compute_resources.rst ('Checking Resource Usage'): the usage of a template and a
    resource file for the templates of a workflow."""
    out = tmp_path / "work"
    out.mkdir()
    open_gates(out, 0, 1, 2, 3)
    workflow = gated("resources", out, cluster="local", seconds=0.3)
    workflow.run(show_progress=False)
    w = workflow.workflow_id
    version = int(value(server.dsn, "SELECT task_template_version_id FROM task_array "
                                    "WHERE workflow_id = $1 AND name = 'work'", w))

    usage = cli(f"task_template_resources -t {version}")
    assert usage.code == 0
    assert "task template 'work'" in usage.stdout and "4 finished instance(s)" in usage.stdout
    rows = {line.split()[0]: line.split()[1:] for line in usage.stdout.splitlines()[2:]}
    assert rows["count"][1] == "4" and rows["min"][1].endswith("s")

    # -w and -a narrow it down: items 1 and 2 of this workflow only
    narrowed = json.loads(cli(f"task_template_resources -t {version} -w {w} 999999 "
                              "-a '{\"item\":[1,2]}' -n").stdout)
    assert narrowed["num_tasks"] == 2 and narrowed["tasks"] == 2
    unknown = cli(f"task_template_resources -t {version} -w {w} -a '{{\"sex\":[1]}}'")
    assert unknown.code == 1 and "sex is not a node arg of task template 'work'" in \
        unknown.stderr

    # the documented forms: -w alone prints a resource file; `-p f FILE` also writes it
    printed = cli(f"task_template_resources -w {w}")
    assert printed.code == 0
    resources = yaml.safe_load(printed.stdout)["task_template_resources"]
    assert set(resources) == {"prep", "work", "report"}
    assert resources["work"]["slurm"]["cores"] == 1
    assert resources["work"]["slurm"]["runtime"] >= 1
    target = tmp_path / "resources.yaml"
    written = cli(f"task_template_resources -w {w} -p f {target}")
    assert written.code == 0 and yaml.safe_load(target.read_text()) == \
        yaml.safe_load(written.stdout)

    made = cli(f"create_resource_yaml -w {w} -p -f {tmp_path / 'out.yaml'} -c local")
    assert made.code == 0
    assert set(yaml.safe_load(made.stdout)["task_template_resources"]["work"]) == {"local"}
    assert (tmp_path / "out.yaml").read_text() == made.stdout
    neither = cli("create_resource_yaml -p")
    assert neither.code == 2 and "either -w or -t but not both" in neither.stderr


def test_update_config_lines_of_jobmons_pages(server: ServerThread, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Follows advanced_usage.rst ('update_config') and cli_reference.rst: each example
    line; Jobmon's names map onto ours where one exists, and the others say so."""
    config = tmp_path / "jobmon.toml"
    config.write_text("# my settings\n[http]\nrequest_timeout = 30.0\n")
    monkeypatch.setenv("JOBMON__CONFIG_FILE", str(config))

    polled = cli("update_config distributor.poll_interval 5")
    assert polled.code == 0
    assert "Jobmon's 'distributor.poll_interval' is 'distributor.poll_wait' here" in \
        polled.stdout
    assert "Successfully updated 'distributor.poll_wait' from '10.0' to '5.0'" in polled.stdout
    pool = cli("update_config db.pool.size 20")
    assert pool.code == 0 and "'db.pool_max_size' from '10' to '20'" in pool.stdout
    for line, reason in (("update_config http.retries_attempts 15", "http.retry_seconds"),
                         ("update_config telemetry.tracing.requester_enabled true",
                          "no OpenTelemetry")):
        answer = cli(line)
        assert answer.code == 1, line
        assert "is a setting of IHME Jobmon that does not exist here" in answer.stderr
        assert reason in answer.stderr
    elsewhere = tmp_path / "other.toml"
    moved = cli(f'update_config http.service_url "http://new-server.com" '
                f"--config-file {elsewhere}")
    assert moved.code == 0 and str(elsewhere) in moved.stdout
    text = config.read_text()
    assert text.startswith("# my settings\n") and "poll_wait = 5.0" in text
    assert "service_url" not in text and 'service_url = "http://new-server.com"' in \
        elsewhere.read_text()
    # the file holds it now; an environment variable still wins, and the answer said so
    assert "the environment variable JOBMON__DISTRIBUTOR__POLL_WAIT still overrides it" in \
        polled.stdout
    shown = {row["setting"]: row for row in json.loads(cli("config show --json").stdout)}
    assert shown["db.pool_max_size"]["value"] == 20
    assert shown["db.pool_max_size"]["source"] == str(config)


def test_each_command_has_two_spellings_and_its_help_names_both() -> None:
    """Follows cli_reference.rst ('Usage'): `jobmon <command> [options]` for each of
    Jobmon's commands; ours stay, one implementation under two names."""
    pairs = {
        "workflow_status": "workflow status", "workflow_tasks": "workflow tasks",
        "task_status": "task status", "task_dependencies": "task dependencies",
        "update_task_status": "task update", "concurrency_limit": "workflow concurrency",
        "workflow_resume": "workflow resume", "workflow_reset": "workflow reset",
        "get_filepaths": "workflow filepaths", "task_template_resources": "template resources",
        "create_resource_yaml": "template yaml", "update_config": "config update",
    }
    for jobmon_name, ours in pairs.items():
        for spelling in (jobmon_name, ours):
            answer = cli(f"{spelling} --help")
            assert answer.code == 0, spelling
            assert f"Usage: jobmon {spelling} " in answer.stdout
            flat = " ".join(answer.stdout.split())
            assert f"`jobmon {ours}`" in flat and f"`jobmon {jobmon_name}`" in flat, spelling
    assert cli("--help").stdout.count("workflow_status") == 2  # the list and the note
