"""`jobmon workflow_resume` as Jobmon's advanced_usage.rst ('Resume by ID') describes it:
--increase-resource, the -t/--timeout wait for the old run to stop, and two resumes of
one workflow at once (issue 13, item 19: the one that loses says so in one line).

Each runs real `jobmon` processes against a real server, on workflows that ran on "local".
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow
from tests.compat.cli_support import (
    Ran,
    gated,
    jobmon_process,
    open_gates,
    ran,
    statuses,
    workflow_status,
)
from tests.compat.cli_support import jobmon as cli
from tests.integration.helpers import ROOT, fetch, value, wait_until
from tests.support import ServerThread

pytestmark = pytest.mark.timeout(600)
RUNNING = "SELECT count(*) FROM task_instance WHERE workflow_id = $1 AND status = 'R'"


def hungry(workflow_args: str, out: Path) -> Workflow:
    """One task that sleeps 2.5 s but asks for a runtime of 1 s (a resource error on
    "local"); each resource error may triple its runtime (scale 2.0: +200%)."""
    tool = Tool(name="compat-cli")
    template = tool.get_task_template(
        template_name="hungry", command_template="echo {label} >> {out}/ran.log; sleep 2.5",
        node_args=["label"], op_args=["out"], default_cluster_name="local")
    workflow = tool.create_workflow(name=f"hungry-{workflow_args}", workflow_args=workflow_args)
    workflow.add_task(template.create_task(
        label="hungry", out=str(out), max_attempts=1, compute_resources={"runtime": 1},
        resource_scales={"runtime": 2.0}))
    return workflow


def _runtimes(dsn: str, workflow_id: int) -> list[tuple[str, int]]:
    return [(row[0], int(row[1])) for row in fetch(
        dsn, "SELECT status, (compute_resources ->> 'runtime')::int FROM task_instance "
             "WHERE workflow_id = $1 ORDER BY id", workflow_id)]


@pytest.mark.parametrize("line", ["--increase-resource", "--increase-resource "
                                  "--reset-running-jobs"])
def test_increase_resource_scales_what_hit_a_resource_error(server: ServerThread,
                                                            tmp_path: Path, line: str) -> None:
    """Follows advanced_usage.rst ('Resume by ID': ``--increase-resource``, and
    ``--increase-resource --reset-running-jobs``) and Jobmon's test_status_commands.py
    (test_resume_workflow_with_use_original_resources_flag)."""
    workflow = hungry("increase" + line.replace(" ", "").replace("-", ""), tmp_path)
    workflow.run(show_progress=False)
    w = workflow.workflow_id
    assert w is not None and _runtimes(server.dsn, w) == [("Z", 1)]

    # the original resources: the same resource error again, and a non-zero exit
    original = jobmon_process(f"workflow_resume -w {w} -c local --use-original-resources")
    assert original.code == 1 and "did not resume to completion" in original.stderr
    assert _runtimes(server.dsn, w) == [("Z", 1), ("Z", 1)]

    # scaled by its resource_scales: 1 s * (1 + 2.0); the task now finishes
    scaled = jobmon_process(f"workflow_resume -w {w} -c local {line}")
    assert scaled.code == 0, scaled.stderr
    assert "scaled the resources of 1 task(s) whose last attempt hit a resource error" in \
        " ".join(scaled.stderr.split())
    assert _runtimes(server.dsn, w) == [("Z", 1), ("Z", 1), ("D", 3)]
    assert ran(tmp_path) == {"hungry": 3}


@contextmanager
def resume_process(line: str) -> Iterator[subprocess.Popen[str]]:
    """`jobmon LINE` running in the background; killed (by PID, with its children) at the
    end if it has not finished."""
    process = subprocess.Popen([sys.executable, "-m", "jobmon", *shlex.split(line)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)


def _finish(process: subprocess.Popen[str]) -> Ran:
    out, err = process.communicate(timeout=300)
    return Ran(process.returncode, out, err)


def _assert_says_it_lost(answer: Ran, workflow_id: int) -> None:
    assert answer.code == 1, answer
    assert "Traceback" not in answer.stderr and "cannot become" not in answer.stderr
    errors = [line for line in answer.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, answer.stderr
    assert f"workflow {workflow_id} was resumed twice at once" in errors[0]
    assert f"`jobmon workflow_status -w {workflow_id}`" in errors[0]


def _failed_sleepy(server: ServerThread, out: Path, workflow_args: str) -> int:
    """A workflow whose work-0 failed; the fix is in, and a rerun of it takes 3 s."""
    workflow = gated(workflow_args, out, cluster="local", width=1, seconds=3)
    workflow.run(show_progress=False)
    assert workflow.workflow_id is not None
    assert workflow_status(server.dsn, workflow.workflow_id) == "F"
    open_gates(out, 0)
    return workflow.workflow_id


def test_a_second_resume_takes_over_and_the_first_says_so(server: ServerThread,
                                                          tmp_path: Path) -> None:
    """Follows advanced_usage.rst ('Resume by ID': a resume while the old run still runs
    waits for it to stop) and issue 13 item 19: the resume taken over ends with one line
    saying who took over; the running task is not run twice (a hot resume adopts it)."""
    w = _failed_sleepy(server, tmp_path, "taken-over")
    with resume_process(f"workflow_resume -w {w} -c local") as first:
        wait_until(lambda: value(server.dsn, RUNNING, w) == 1, 60, "work-0 running again")
        second = jobmon_process(f"workflow_resume -w {w} -c local")
        lost = _finish(first)
    assert second.code == 0, second.stderr
    assert "has successfully resumed to completion" in second.stdout
    _assert_says_it_lost(lost, w)
    runs = fetch(server.dsn, "SELECT id, status FROM workflow_run WHERE workflow_id = $1 "
                             "ORDER BY id", w)
    assert f"run {runs[-1][0]} of " in lost.stderr and "took over" in lost.stderr
    assert [row[1] for row in runs] == ["E", "T", "D"]
    assert ran(tmp_path) == {"prep": 1, "work-0": 2, "report": 1}
    assert set(statuses(server.dsn, w).values()) == {"D"}


def test_two_resumes_started_at_once_one_wins(server: ServerThread, tmp_path: Path) -> None:
    """Issue 13 item 19 (Jobmon's advanced_usage.rst, 'Resume by ID'): two `jobmon
    workflow_resume` of one workflow started together; one resumes it to the end, the
    other ends with one clear line, never a raw transition error."""
    w = _failed_sleepy(server, tmp_path, "at-once")
    line = f"workflow_resume -w {w} -c local"
    with resume_process(line) as first, resume_process(line) as second:
        answers = [_finish(first), _finish(second)]
    winner, loser = sorted(answers, key=lambda answer: answer.code)
    assert winner.code == 0, winner.stderr
    assert "has successfully resumed to completion" in winner.stdout
    _assert_says_it_lost(loser, w)
    assert set(statuses(server.dsn, w).values()) == {"D"}
    assert ran(tmp_path) == {"prep": 1, "work-0": 2, "report": 1}


def test_timeout_is_how_long_to_wait_for_the_old_run_to_stop(server: ServerThread,
                                                             tmp_path: Path) -> None:
    """Follows advanced_usage.rst ('Resume by ID': ``-t/--timeout``, "how long Jobmon waits
    for the workflow to reach a resumable state before giving up"): a frozen old run does
    not stop within 1 s; the resume says so, and a later one succeeds."""
    w = _failed_sleepy(server, tmp_path, "frozen")
    with resume_process(f"workflow_resume -w {w} -c local") as first:
        wait_until(lambda: value(server.dsn, RUNNING, w) == 1, 60, "work-0 running again")
        os.kill(first.pid, signal.SIGSTOP)  # the swarm only: its distributor runs on
        try:
            impatient = cli(f"workflow_resume -w {w} -c local -t 1")
        finally:
            os.kill(first.pid, signal.SIGCONT)
        stopped = _finish(first)
    assert impatient.code == 1
    assert f"workflow {w} did not become resumable within 1 s" in impatient.stderr
    assert "HOT_RESUME" in impatient.stderr and "longer -t/--timeout" in impatient.stderr
    # the frozen one woke up told to stop, and said so
    assert stopped.code == 1 and "asked this run to stop" in stopped.stderr
    wait_until(lambda: value(server.dsn, RUNNING, w) == 0, 60, "work-0 to finish")
    finally_done = cli(f"workflow_resume -w {w} -c local")
    assert finally_done.code == 0, finally_done
    assert set(statuses(server.dsn, w).values()) == {"D"}


def test_another_user_may_not_reset_resume_or_rescale_a_workflow(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Follows advanced_usage.rst ('workflow_reset': "Must be the workflow owner") on a
    shared server: bob reads alice's workflow but changes nothing of it."""
    from tests.integration.helpers import act_as

    def as_user(name: str) -> None:
        act_as(monkeypatch, token_server.dsn, name)

    as_user("alice")
    workflow = gated("alices", tmp_path, cluster="local", width=1)
    workflow.run(show_progress=False)
    w = workflow.workflow_id
    before = statuses(token_server.dsn, w)
    as_user("bob")
    assert cli(f"workflow_status -w {w}").code == 0
    for line in (f"workflow_reset -w {w}", f"workflow_resume -w {w} -c local",
                 f"update_task_status -t {w} -w {w} -s G",
                 f"concurrency_limit -w {w} -m 3"):
        answer = cli(line)
        assert answer.code == 1, (line, answer)
        assert "only its owner or an admin" in answer.stderr, (line, answer.stderr)
    assert statuses(token_server.dsn, w) == before
    assert value(token_server.dsn, "SELECT count(*) FROM workflow_run WHERE workflow_id = $1",
                 w) == 1
