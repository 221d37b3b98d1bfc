"""The operator CLI end to end: every command against a real server and database.

Most commands run in this process through click's CliRunner (the same code path as the
`jobmon` executable, talking HTTP to the test server); failures that must never show a
traceback also run as real `python -m jobmon` processes.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobmon.cli.main import main
from jobmon.client.workflow import Workflow
from tests.integration.helpers import ROOT, fetch, make_token, value, wait_until
from tests.integration.operator_workflows import ERROR_LINE, OUTPUT, chain, mixed
from tests.support import ServerThread


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


def cli(*args: str, input: str | None = None) -> Ran:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False,
                                prog_name="jobmon")
    return Ran(result.exit_code, result.stdout, result.stderr)


def jobmon(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "jobmon", *args], cwd=ROOT, text=True,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def assert_one_line_failure(ran: Ran, *expected: str) -> None:
    assert ran.code != 0, ran
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def fits(text: str, width: int = 80) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, too_wide


def task_id(dsn: str, workflow_id: int, name: str) -> int:
    return int(value(dsn, "SELECT id FROM task WHERE workflow_id = $1 AND name = $2",
                     workflow_id, name))


def counts_in_db(dsn: str, workflow_id: int) -> dict[str, int]:
    return {row[0]: row[1] for row in fetch(
        dsn, "SELECT status, count(*) FROM task WHERE workflow_id = $1 GROUP BY status",
        workflow_id)}


@pytest.fixture
def finished(server: ServerThread) -> tuple[Workflow, Workflow]:
    """A FAILED workflow (one fatal task, its downstream never ran) and a DONE chain."""
    failed = mixed("cli-mixed", name="mixed <b>run</b>")
    assert failed.run(show_progress=False) == "E"  # the run's status, as in Jobmon
    done = chain("cli-chain", Path(os.environ["XDG_DATA_HOME"]))
    assert done.run(show_progress=False) == "D"
    return failed, done


@pytest.fixture
def running(server: ServerThread) -> Iterator[Workflow]:
    """A workflow whose tasks sleep, running in a background thread until stopped."""
    workflow = mixed("cli-running", name="sleepy", work_seconds=60, failing=None)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(workflow.run(show_progress=False)),
                              daemon=True)
    thread.start()
    wait_until(lambda: workflow.workflow_id is not None and value(
        server.dsn, "SELECT count(*) FROM task WHERE workflow_id = $1 AND status = 'R'",
        workflow.workflow_id) >= 2, 180, "work tasks running")
    yield workflow
    if thread.is_alive():
        cli("workflow", "stop", "-w", str(workflow.workflow_id))
    thread.join(120)
    assert outcome == ["S"]  # the run was stopped


def test_every_command_has_help() -> None:
    commands = [("server",), ("distributor",), ("worker",), ("db", "upgrade"),
                ("config", "show")]
    commands += [("workflow", name) for name in
                 ("status", "tasks", "resume", "concurrency", "stop", "prune", "archive")]
    commands += [("task", name) for name in ("status", "update", "dependencies")]
    for command in commands:
        ran = cli(*command, "--help")
        assert ran.code == 0, (command, ran)
        assert ran.stdout.startswith("Usage:"), command
        fits(ran.stdout)


def test_workflow_status_table_and_json_match_the_database(
    server: ServerThread, finished: tuple[Workflow, Workflow]
) -> None:
    failed, done = finished
    ran = cli("workflow", "status", "-w", str(failed.workflow_id), str(done.workflow_id),
              "--json")
    assert ran.code == 0, ran
    rows = {row["workflow_id"]: row for row in json.loads(ran.stdout)}
    assert set(rows) == {failed.workflow_id, done.workflow_id}
    for workflow_id, row in rows.items():
        assert row["counts"] == counts_in_db(server.dsn, workflow_id)
        assert row["status"] == value(server.dsn, "SELECT status FROM workflow WHERE id = $1",
                                      workflow_id)
        assert row["num_tasks"] == sum(row["counts"].values())
    mixed_row = rows[failed.workflow_id]
    assert mixed_row["name"] == "mixed <b>run</b>"
    assert mixed_row["status_name"] == "FAILED"
    # PENDING, SCHEDULED, RUNNING, DONE, FATAL: the groups of Jobmon's workflow_status
    assert mixed_row["tasks"] == {"PENDING": 1, "SCHEDULED": 0, "RUNNING": 0, "DONE": 4,
                                  "FATAL": 1}
    assert mixed_row["percent"]["DONE"] == 66.7
    assert mixed_row["retries"] == 0
    assert rows[done.workflow_id]["tasks"]["DONE"] == 4

    # the columns of Jobmon's workflow_status table (wider than 80 columns, as Jobmon's)
    table = cli("workflow", "status", "-w", str(failed.workflow_id))
    assert table.code == 0
    header, line = table.stdout.splitlines()[:2]
    assert header.split() == ["WF_ID", "WF_NAME", "WF_STATUS", "CREATED_DATE", "TASKS",
                              "PENDING", "SCHEDULED", "RUNNING", "DONE", "FATAL", "RETRIES"]
    assert line.split()[0] == str(failed.workflow_id)
    assert "FAILED" in line and "4 (66.7%)" in line and "1 (16.7%)" in line

    # without -w: the user's recent workflows, newest first
    mine = cli("workflow", "status")
    ids = [line.split()[0] for line in mine.stdout.splitlines()[1:] if line[:1].isdigit()]
    assert ids == [str(done.workflow_id), str(failed.workflow_id)]
    assert cli("workflow", "status", "-u", getpass.getuser(), "--json").stdout == \
        cli("workflow", "status", "--json").stdout
    nobody = cli("workflow", "status", "-u", "nobody-here")
    assert nobody.code == 0 and "no workflows of user nobody-here" in nobody.stdout


def test_workflow_tasks_filters_by_status(
    server: ServerThread, finished: tuple[Workflow, Workflow]
) -> None:
    failed, _ = finished
    workflow_id = str(failed.workflow_id)
    # newest first and at most -l/--limit of them (5 by default), as Jobmon lists them
    everything = json.loads(cli("workflow", "tasks", "-w", workflow_id, "--json",
                                "-l", "100").stdout)
    in_db = fetch(server.dsn, "SELECT id, name, status, num_attempts, max_attempts FROM task "
                              "WHERE workflow_id = $1 ORDER BY id DESC", failed.workflow_id)
    assert [(row["task_id"], row["name"], row["status"], row["num_attempts"],
             row["max_attempts"]) for row in everything] == [tuple(row) for row in in_db]

    fatal = json.loads(cli("workflow", "tasks", "-w", workflow_id, "-s", "F", "--json").stdout)
    assert [(row["name"], row["exit_code"], row["error"]) for row in fatal] == \
        [("work-2", 3, ERROR_LINE)]
    # several statuses after one flag, by letter, name or group
    some = json.loads(cli("workflow", "tasks", "-w", workflow_id, "-s", "FATAL", "G",
                          "--json").stdout)
    assert sorted(row["name"] for row in some) == ["report-final", "work-2"]

    # Jobmon's columns (STATUS is its group), then the last line of the error
    table = cli("workflow", "tasks", "-w", workflow_id, "-s", "F", "D")
    fits(table.stdout)
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["TASK_ID", "TASK_NAME", "STATUS", "RETRIES", "ERROR"]
    assert len(lines) == 1 + 5
    assert "the newest 5 of 5 tasks" not in table.stderr
    failing = next(line for line in lines if "work-2" in line)
    assert failing.split()[2:4] == ["FATAL", "0"] and ERROR_LINE in failing
    fewer = cli("workflow", "tasks", "-w", workflow_id, "-s", "D", "-l", "2")
    assert len(fewer.stdout.splitlines()) == 1 + 2
    assert "the newest 2 of 4 tasks; -l 4 shows them all" in fewer.stderr

    assert_one_line_failure(cli("workflow", "tasks", "-w", workflow_id, "-s", "Y"),
                            "'Y' is not a status")


def test_task_status_shows_every_instance_with_its_timeline(
    server: ServerThread, finished: tuple[Workflow, Workflow]
) -> None:
    failed, _ = finished
    bad = task_id(server.dsn, failed.workflow_id, "work-2")
    instance = fetch(server.dsn, "SELECT * FROM task_instance WHERE task_id = $1", bad)[0]
    history = fetch(server.dsn, "SELECT status, source FROM task_instance_status "
                                "WHERE task_instance_id = $1 ORDER BY id", instance["id"])

    [detail] = json.loads(cli("task", "status", "-t", str(bad), "--json").stdout)
    assert detail["status"] == "F" and detail["name"] == "work-2"
    [shown] = detail["instances"]
    for key in ("exit_code", "distributor_id", "nodename", "maxrss", "wallclock",
                "stdout_path", "stderr_path", "stderr_tail"):
        assert shown[key] == instance[key], key
    assert ERROR_LINE in shown["stderr_tail"]
    assert [(row["status"], row["source"]) for row in shown["timeline"]] == \
        [tuple(row) for row in history]
    assert shown["timeline"][-1]["status_name"] == "ERROR"

    table = cli("task", "status", "-t", str(bad))
    assert table.code == 0
    text = table.stdout
    assert f"task {bad} work-2" in text and "ERROR_FATAL" in text
    row = next(line for line in text.splitlines() if line.startswith(str(instance["id"])))
    assert row.split()[:4] == [str(instance["id"]), "1", "ERROR", instance["distributor_id"]]
    assert instance["nodename"] in row and " 3 " in row
    assert ERROR_LINE in text and instance["stderr_path"] in text
    timeline = text[text.index(f"instance {instance['id']} (try 1)"):].splitlines()
    assert [line.split()[3] for line in timeline
            if line[:4].isdigit() and line[4] == "-"] == [row[1] for row in history]
    # the task's own history, from queued by the swarm to failed for good (attempts used up)
    own = text[text.index(f"task {bad} history"):text.index(" TRY ")].splitlines()
    moves = [line.split()[2:] for line in own if line[:4].isdigit() and line[4] == "-"]
    assert "QUEUED" in moves[0] and "swarm" in moves[0]
    assert "ERROR_FATAL" in moves[-1] and "swarm" in moves[-1]
    assert [row["status"] for row in detail["history"]][-2:] == ["E", "F"]
    assert detail["history"][-1]["context"]["reason"] == "attempts used up"
    fits("\n".join(line for line in text.splitlines()
                   if not line.startswith(("stdout:", "stderr:"))))

    assert_one_line_failure(cli("task", "status", "-t", "999999"), "task 999999 does not exist")


def test_task_dependencies(server: ServerThread, finished: tuple[Workflow, Workflow]) -> None:
    failed, _ = finished
    work = task_id(server.dsn, failed.workflow_id, "work-1")
    answer = json.loads(cli("task", "dependencies", "-t", str(work), "--json").stdout)
    assert [(ref["name"], ref["status"]) for ref in answer["upstream"]] == [("prep-all", "D")]
    assert [(ref["name"], ref["status"]) for ref in answer["downstream"]] == \
        [("report-final", "G")]
    # the layout Jobmon's monitoring page documents, with names after the status letter
    text = cli("task", "dependencies", "-t", str(work)).stdout
    upstream, downstream = text.split("Downstream Tasks:")
    assert upstream.startswith("Upstream Tasks:\n\n")
    assert upstream.split("\n")[2].split() == ["Task", "ID", "Status", "Name"]
    prep = task_id(server.dsn, failed.workflow_id, "prep-all")
    assert upstream.split("\n")[3].split() == [str(prep), "D", "prep-all"]
    report = task_id(server.dsn, failed.workflow_id, "report-final")
    assert downstream.split("\n")[3].split() == [str(report), "G", "report-final"]
    text = cli("task", "dependencies", "-t", str(prep)).stdout
    upstream, downstream = text.split("Downstream Tasks:")
    assert "(none)" in upstream
    assert len([line for line in downstream.splitlines() if "work-" in line]) == 4


def test_task_update_marks_done_and_resets_downstream_then_resume_runs_them(
    server: ServerThread, finished: tuple[Workflow, Workflow], monkeypatch: pytest.MonkeyPatch
) -> None:
    failed, _ = finished
    workflow_id = failed.workflow_id
    ids = {name: task_id(server.dsn, workflow_id, name)
           for name in ("prep-all", "work-0", "work-2", "report-final")}

    # at a terminal, without --yes, it asks first; nobody answers: nothing changes
    monkeypatch.setattr("jobmon.cli.common.interactive", lambda: True)
    refused = cli("task", "update", "-w", str(workflow_id), "-t", str(ids["work-2"]), "-s", "D")
    assert refused.code == 1 and "Aborted" in refused.stderr
    assert counts_in_db(server.dsn, workflow_id) == {"D": 4, "F": 1, "G": 1}

    marked = cli("task", "update", "-w", str(workflow_id), "-t", str(ids["work-2"]),
                 str(ids["report-final"]), "-s", "D", input="y\n")
    assert marked.code == 0, marked
    assert "set 2 task(s) to DONE?" in marked.stderr
    assert "2 task(s) set to DONE; the workflow is DONE" in marked.stdout
    assert counts_in_db(server.dsn, workflow_id) == {"D": 6}
    assert value(server.dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id) == "D"

    reset = cli("task", "update", "-w", str(workflow_id), "-t", str(ids["work-0"]), "-s", "G",
                "--yes")
    assert reset.code == 0, reset
    assert "2 task(s) set to REGISTERING, 1 of them downstream; the workflow is HALTED" \
        in reset.stdout
    rows = dict(fetch(server.dsn, "SELECT name, status || num_attempts FROM task "
                                  "WHERE workflow_id = $1", workflow_id))
    assert rows == {"prep-all": "D1", "work-0": "G0", "work-1": "D1", "work-2": "D1",
                    "work-3": "D1", "report-final": "G0"}

    # a resumed run runs exactly the reset tasks
    again = mixed("cli-mixed", name="mixed <b>run</b>")
    assert again.run(show_progress=False, resume=True) == "D"
    ran = dict(fetch(server.dsn, "SELECT t.name, count(ti.id) FROM task t LEFT JOIN "
                                 "task_instance ti ON ti.task_id = t.id WHERE t.workflow_id = $1 "
                                 "GROUP BY t.name", workflow_id))
    assert ran == {"prep-all": 1, "work-0": 2, "work-1": 1, "work-2": 1, "work-3": 1,
                   "report-final": 1}

    other = task_id(server.dsn, finished[1].workflow_id, "t0")
    assert_one_line_failure(cli("task", "update", "-w", str(workflow_id), "-t", str(other),
                                "-s", "G", "--yes"), f"task {other} of workflow")
    assert_one_line_failure(cli("task", "update", "-w", str(workflow_id), "-t", "1", "-s", "X"),
                            "'X' is not one of 'D', 'G'")


def test_running_workflow_refuses_updates_and_prune_and_obeys_limits_and_stop(
    server: ServerThread, running: Workflow
) -> None:
    workflow_id = str(running.workflow_id)
    one = task_id(server.dsn, int(workflow_id), "work-1")
    busy = cli("task", "update", "-w", workflow_id, "-t", str(one), "-s", "G", "--yes")
    assert_one_line_failure(busy, f"workflow {workflow_id} is running",
                            "jobmon workflow stop")

    candidates = cli("workflow", "prune", "--before", "2999-01-01", "--dry-run")
    assert candidates.code == 0 and "would delete 0 workflow(s)" in candidates.stdout
    assert_one_line_failure(cli("workflow", "prune", "--before", "2999-01-01", "--status", "R"),
                            "never running ones")

    limited = cli("workflow", "concurrency", "-w", workflow_id, "-m", "3")
    assert limited.code == 0
    assert f"Workflow ID {workflow_id} max concurrently running updated to 3" in limited.stdout
    assert value(server.dsn, "SELECT max_concurrently_running FROM workflow WHERE id = $1",
                 int(workflow_id)) == 3

    listed = json.loads(cli("workflow", "status", "-w", workflow_id, "--json").stdout)
    assert listed[0]["status"] == "R" and listed[0]["tasks"]["RUNNING"] >= 2

    stopped = cli("workflow", "stop", "-w", workflow_id)
    assert stopped.code == 0 and "stopped" in stopped.stdout
    wait_until(lambda: value(server.dsn, "SELECT status FROM workflow WHERE id = $1",
                             int(workflow_id)) == "H", 120, "the workflow to halt")


TABLES = ("task", "task_instance", "task_instance_status", "edge", "workflow_run",
          "workflow_run_status", "task_array", "task_config", "workflow")


def _rows_of(dsn: str, workflow_id: int) -> dict[str, int]:
    queries = {
        "workflow": "SELECT count(*) FROM workflow WHERE id = $1",
        "task_instance_status": "SELECT count(*) FROM task_instance_status h JOIN task_instance "
                                "ti ON ti.id = h.task_instance_id WHERE ti.workflow_id = $1",
        "workflow_run_status": "SELECT count(*) FROM workflow_run_status h JOIN workflow_run r "
                               "ON r.id = h.workflow_run_id WHERE r.workflow_id = $1",
    }
    return {table: int(value(dsn, queries.get(
        table, f"SELECT count(*) FROM {table} WHERE workflow_id = $1"), workflow_id))
        for table in TABLES}


def test_prune_deletes_finished_workflows_in_batches(
    server: ServerThread, finished: tuple[Workflow, Workflow]
) -> None:
    failed, done = finished
    before = {workflow.workflow_id: _rows_of(server.dsn, workflow.workflow_id)
              for workflow in finished}
    assert all(count > 0 for rows in before.values() for count in rows.values())

    nothing = cli("workflow", "prune", "--before", "2000-01-01")
    assert nothing.code == 0 and "deleted 0 workflow(s)" in nothing.stdout

    dry = cli("workflow", "prune", "--before", "2999-01-01", "--status", "F", "--dry-run")
    assert dry.code == 0
    fits(dry.stdout)
    assert "mixed <b>run</b>" in dry.stdout and "chain" not in dry.stdout
    assert "would delete 1 workflow(s) with 6 task(s)" in dry.stdout
    assert _rows_of(server.dsn, failed.workflow_id) == before[failed.workflow_id]

    pruned = cli("workflow", "prune", "--before", "2999-01-01", "--status", "F",
                 "--batch-size", "2")
    assert pruned.code == 0, pruned
    assert "deleted 1 workflow(s) with 6 task(s)" in pruned.stdout
    assert f"deleted workflow {failed.workflow_id} 'mixed <b>run</b>' (6 tasks)" in pruned.stderr
    assert set(_rows_of(server.dsn, failed.workflow_id).values()) == {0}
    assert _rows_of(server.dsn, done.workflow_id) == before[done.workflow_id]

    assert_one_line_failure(cli("workflow", "status", "-w", str(failed.workflow_id)),
                            f"workflow {failed.workflow_id} does not exist")
    assert_one_line_failure(cli("workflow", "prune", "--before", "yesterday"), "--before")


def test_archive_holds_manifest_outputs_and_logs(
    server: ServerThread, finished: tuple[Workflow, Workflow], tmp_path: Path
) -> None:
    failed, _ = finished
    workflow_id = failed.workflow_id
    report_path = fetch(server.dsn, "SELECT ti.stdout_path FROM task_instance ti JOIN task t "
                                    "ON t.id = ti.task_id WHERE t.name = 'work-3' "
                                    "AND t.workflow_id = $1", workflow_id)[0][0]
    Path(report_path).unlink()  # a log file that no longer exists is left out, not an error
    target = tmp_path / "mixed.tar.gz"

    ran = cli("workflow", "archive", "-w", str(workflow_id), "-o", str(target))
    assert ran.code == 0, ran
    instances = int(value(server.dsn, "SELECT count(*) FROM task_instance WHERE workflow_id = $1",
                          workflow_id))
    assert f"6 task(s), {instances} instance(s), {2 * instances - 1} log file(s) " \
           "(1 no longer exist)" in ran.stdout
    root = f"workflow-{workflow_id}"
    with tarfile.open(target) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile(f"{root}/manifest.json"))  # type: ignore[arg-type]
        outputs = json.load(archive.extractfile(f"{root}/outputs.json"))  # type: ignore[arg-type]
        failing = next(entry for entry in manifest["instances"] if entry["exit_code"] == 3)
        stderr = archive.extractfile(f"{root}/{failing['stderr_member']}").read().decode()  # type: ignore[union-attr]
    assert manifest["format"] == "jobmon-archive" and manifest["version"] == 1
    assert manifest["workflow"]["workflow_id"] == workflow_id
    assert manifest["workflow"]["name"] == "mixed <b>run</b>"
    assert [task["name"] for task in manifest["tasks"]] == [
        "prep-all", "work-0", "work-1", "work-2", "work-3", "report-final"]
    assert len(manifest["instances"]) == instances
    history = int(value(server.dsn, "SELECT count(*) FROM task_instance_status h JOIN "
                                    "task_instance ti ON ti.id = h.task_instance_id "
                                    "WHERE ti.workflow_id = $1", workflow_id))
    assert len(manifest["status_history"]) == history
    assert [run["status"] for run in manifest["runs"]] == ["E"]
    assert len(manifest["edges"]["upstream_task_id"]) == 8
    prep = str(task_id(server.dsn, workflow_id, "prep-all"))
    assert outputs == {prep: {"name": "prep-all", "output": OUTPUT}}
    assert ERROR_LINE in stderr
    missing = [entry for entry in manifest["instances"] if entry["stdout_member"] is None]
    assert len(missing) == 1 and missing[0]["stdout_path"] == report_path
    assert {f"{root}/{entry[key]}" for entry in manifest["instances"]
            for key in ("stdout_member", "stderr_member") if entry[key]} <= names

    assert_one_line_failure(cli("workflow", "archive", "-w", "999999", "-o", str(target)),
                            "workflow 999999 does not exist")
    assert_one_line_failure(cli("workflow", "archive", "-w", str(workflow_id), "-o",
                                str(tmp_path / "no" / "such" / "dir.tar.gz")), "does not exist")


BAD_INPUT = [
    (("workflow", "status", "-w", "0"), "0 is not in the range"),
    (("workflow", "status", "--bogus"), "No such option"),
    (("workflow", "tasks",), "Missing option '-w'"),
    (("workflow", "prune", "--before", "2020-13-45"), "'--before'"),
    (("workflow", "archive", "-w", "1"), "Missing option '-o'"),
    (("task", "status", "-t", "abc"), "'abc' is not a valid integer"),
    (("task", "update", "-w", "1", "-t", "1"), "Missing option '-s'"),
    (("task", "dependencies",), "Missing option '-t'"),
    (("workflow", "concurrency", "-w", "1", "-m", "0"), "0 is not in the range"),
]

UNKNOWN_ID = [
    (("workflow", "status", "-w", "424242"), "workflow 424242 does not exist"),
    (("workflow", "tasks", "-w", "424242"), "workflow 424242 does not exist"),
    (("task", "status", "-t", "424242"), "task 424242 does not exist"),
    (("task", "dependencies", "-t", "424242"), "task 424242 does not exist"),
    (("task", "update", "-w", "424242", "-t", "1", "-s", "D", "--yes"),
     "workflow 424242 does not exist"),
    (("workflow", "stop", "-w", "424242"), "workflow 424242 does not exist"),
    (("workflow", "concurrency", "-w", "424242", "-m", "2"), "workflow 424242 does not exist"),
]

REACHING_THE_SERVER = [
    ("workflow", "status"), ("workflow", "status", "-w", "1"), ("workflow", "tasks", "-w", "1"),
    ("workflow", "prune", "--before", "2020-01-01", "--dry-run"),
    ("workflow", "prune", "--before", "2020-01-01"),
    ("workflow", "archive", "-w", "1", "-o", "/tmp/jobmon-unreachable.tar.gz"),
    ("workflow", "stop", "-w", "1"), ("workflow", "concurrency", "-w", "1", "-m", "2"),
    ("workflow", "resume", "-w", "1", "-c", "local"),
    ("task", "status", "-t", "1"), ("task", "dependencies", "-t", "1"),
    ("task", "update", "-w", "1", "-t", "1", "-s", "G", "--yes"),
    ("workflow_reset", "-w", "1"), ("get_filepaths", "-w", "1"),
    ("task_template_resources", "-t", "1"), ("create_resource_yaml", "-w", "1"),
]


def test_bad_input_and_unknown_ids_give_one_line(server: ServerThread) -> None:
    for args, expected in BAD_INPUT + UNKNOWN_ID:
        ran = cli(*args)
        assert_one_line_failure(ran, expected)
    usage = cli("workflow", "tasks")
    assert usage.code == 2 and "jobmon workflow tasks --help" in usage.stderr


@pytest.mark.timeout(300)
def test_an_unreachable_server_gives_one_line_from_a_real_process(jobmon_env: Path) -> None:
    env = {"JOBMON__HTTP__SERVICE_URL": "http://127.0.0.1:9", "JOBMON__HTTP__RETRY_SECONDS": "1"}
    for start in range(0, len(REACHING_THE_SERVER), 4):  # a few at a time: 2 cores
        processes = [(args, jobmon(*args, env=env))
                     for args in REACHING_THE_SERVER[start:start + 4]]
        for args, process in processes:
            out, err = process.communicate(timeout=120)
            assert_one_line_failure(Ran(process.returncode, out, err),
                                    "the Jobmon server at http://127.0.0.1:9 did not answer")
            assert process.returncode == 1, args
    config = jobmon("config", "show", env=env)
    out, err = config.communicate(timeout=60)
    assert config.returncode == 0 and "http://127.0.0.1:9" in out, err


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_api_documents_its_operator_routes_and_serves_the_dashboard(
    server: ServerThread, finished: tuple[Workflow, Workflow]
) -> None:
    failed, _ = finished
    _, _, body = _get(server.url + "/api/v1/openapi.json")
    paths = json.loads(body)["paths"]
    for path, method in [("/api/v1/workflows", "get"),
                         ("/api/v1/workflows/{workflow_id}/overview", "get"),
                         ("/api/v1/workflows/{workflow_id}/task_status", "post"),
                         ("/api/v1/workflows/{workflow_id}/prune", "post"),
                         ("/api/v1/tasks/{task_id}", "get"),
                         ("/api/v1/tasks/{task_id}/dependencies", "get"),
                         ("/api/v1/prune_candidates", "get")]:
        assert method in paths[path], path

    def names(query: str) -> list[str]:
        code, _, answer = _get(f"{server.url}/api/v1/workflows?{query}")
        assert code == 200, answer
        return [row["name"] for row in json.loads(answer)["workflows"]]

    assert names("") == ["chain", "mixed <b>run</b>"]
    assert names("name=MIXED") == ["mixed <b>run</b>"]
    assert names("name=%25") == []  # a part of a name, not a LIKE pattern
    assert names("status=D") == ["chain"]
    assert names(f"user={getpass.getuser()}&status=D,F&limit=1") == ["chain"]
    assert names("user=someone-else") == []
    code, _, answer = _get(f"{server.url}/api/v1/workflows?status=Y")
    assert code == 400 and b"unknown workflow status Y" in answer

    overview = json.loads(_get(f"{server.url}/api/v1/workflows/{failed.workflow_id}/overview")[2])
    assert {array["template_name"]: array["counts"] for array in overview["arrays"]} == \
        {"prep": {"D": 1}, "work": {"D": 3, "F": 1}, "report": {"G": 1}}
    [group] = overview["errors"]
    assert (group["exit_code"], group["message"], group["task_names"]) == \
        (3, ERROR_LINE, ["work-2"])
    edges = json.loads(_get(
        f"{server.url}/api/v1/workflows/{failed.workflow_id}/template_edges")[2])["edges"]
    arrays = {array["array_id"]: array["template_name"] for array in overview["arrays"]}
    assert sorted((arrays[edge["upstream_array_id"]], arrays[edge["downstream_array_id"]],
                   edge["edges"]) for edge in edges) == [("prep", "work", 4),
                                                         ("work", "report", 4)]

    status, headers, page = _get(server.url + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert b'<script type="module" src="/static/app.js">' in page
    status, headers, _ = _get(server.url + "/static/app.js")
    assert status == 200 and "javascript" in headers["Content-Type"]
    assert _get(server.url + "/static/../app.py")[0] in (403, 404)


def as_user(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    from jobmon import settings as settings_module

    monkeypatch.setenv("JOBMON__HTTP__TOKEN", token)
    settings_module.reset_cache()


def test_operators_change_only_their_own_workflows_on_a_shared_server(
    token_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = make_token(token_server.dsn, "alice"), make_token(token_server.dsn, "bob")
    as_user(monkeypatch, alice)
    alices = chain("shared-alice", Path(os.environ["XDG_DATA_HOME"]), length=2)
    assert alices.run(show_progress=False) == "D"
    as_user(monkeypatch, bob)
    bobs = chain("shared-bob", Path(os.environ["XDG_DATA_HOME"]), length=3)
    assert bobs.run(show_progress=False) == "D"

    # bob reads everything, but may not change alice's workflow
    listed = json.loads(cli("workflow", "status", "-w", str(alices.workflow_id),
                            str(bobs.workflow_id), "--json").stdout)
    assert sorted(row["user"] for row in listed) == ["alice", "bob"]
    first = task_id(token_server.dsn, alices.workflow_id, "t0")
    assert_one_line_failure(cli("task", "update", "-w", str(alices.workflow_id), "-t",
                                str(first), "-s", "G", "--yes"), "only its owner or an admin")

    # pruning everything old deletes bob's own and leaves alice's
    pruned = cli("workflow", "prune", "--before", "2999-01-01")
    assert pruned.code == 0, pruned
    assert "deleted 1 workflow(s) with 3 task(s); left 1 of other users" in pruned.stdout
    assert value(token_server.dsn, "SELECT array_agg(owner) FROM workflow") == ["alice"]

    as_user(monkeypatch, "jm_not-a-token")
    assert_one_line_failure(cli("workflow", "status"), "not valid")
