"""A swarm paused past its deadline, a swarm sent SIGTERM, two users with one script, and
what a failed run tells its user (issue 13, items 10, 16, 4 and 19): real processes,
real PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobmon import settings as settings_module
from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow
from jobmon.errors import WorkflowAlreadyComplete
from tests.integration.fault_helpers import assert_each_done_once, run_swarm
from tests.integration.helpers import ROOT, count_lines, fetch, make_token, value, wait_until
from tests.integration.run_fault_workflows import sleepers
from tests.support import ServerThread, serving

pytestmark = pytest.mark.timeout(240)

def _build(workflow_args: str, out: Path, seconds: float, final: bool) -> Workflow:
    return sleepers(workflow_args, out, seconds, final)


@pytest.fixture
def quick_reaper(db_dsn: str, jobmon_env: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerThread]:
    """A server whose reaper looks every half second (runs are overdue after 6.2 s)."""
    monkeypatch.setenv("JOBMON__SERVER__REAPER_INTERVAL", "0.5")
    settings_module.reset_cache()
    with serving(db_dsn, monkeypatch) as running:
        yield running


def _ctrl_c_as_in_a_terminal() -> None:
    """SIGINT at its default in the swarm, as a terminal gives it: a test run started in
    the background by a non-interactive shell ignores SIGINT, and its children inherit that
    (a program started so never gets KeyboardInterrupt, rightly)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Swarm:
    """A swarm process (its own session) of ``sleepers``, stopped by PID at the end."""

    def __init__(self, tmp_path: Path, workflow_args: str, seconds: float, final: bool) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.run_fault_workflows", workflow_args,
             str(tmp_path), str(seconds), "final" if final else "-"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True, preexec_fn=_ctrl_c_as_in_a_terminal,
        )

    def finish(self, timeout: float) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        # its pipes too: left to the garbage collector, they warn in whichever test runs then
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def _workflow_id(dsn: str, workflow_args: str) -> int:
    wait_until(lambda: value(dsn, "SELECT id FROM workflow WHERE workflow_args = $1 AND bound",
                             workflow_args) is not None, 60, "the bind")
    return int(value(dsn, "SELECT id FROM workflow WHERE workflow_args = $1", workflow_args))


def _run_status(dsn: str, workflow_id: int) -> str:
    return str(value(dsn, "SELECT status FROM workflow_run WHERE workflow_id = $1 "
                          "ORDER BY id DESC LIMIT 1", workflow_id))


def _tasks(dsn: str, workflow_id: int, status: str) -> int:
    return int(value(dsn, "SELECT count(*) FROM task WHERE workflow_id = $1 AND status = $2",
                     workflow_id, status))


def _pause_until_reaped(swarm: Swarm, dsn: str, workflow_id: int) -> None:
    wait_until(lambda: _tasks(dsn, workflow_id, "R") >= 1, 60, "a running task")
    os.kill(swarm.process.pid, signal.SIGSTOP)  # the swarm only: its distributor runs on
    wait_until(lambda: _run_status(dsn, workflow_id) == "E", 30,
               "the reaper to take the paused run for lost")


def _paused_then_woken(dsn: str, tmp_path: Path, workflow_args: str,
                       final: bool) -> tuple[int, int, str, str]:
    """A swarm stopped (SIGSTOP) until its run is reaped and its three sleepers finished,
    then woken (SIGCONT): (workflow id, exit code, stdout, stderr)."""
    swarm = Swarm(tmp_path, workflow_args, seconds=1.5, final=final)
    try:
        workflow_id = _workflow_id(dsn, workflow_args)
        _pause_until_reaped(swarm, dsn, workflow_id)
        assert value(dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id) == "F"
        wait_until(lambda: _tasks(dsn, workflow_id, "D") == 3, 60,
                   "the sleepers to finish while the swarm is paused")
        os.kill(swarm.process.pid, signal.SIGCONT)
        code, out, err = swarm.finish(60)
    finally:
        swarm.close()
    assert "Traceback" not in err and "ExceptionGroup" not in err, err[-3000:]
    return workflow_id, code, out, err


def test_a_swarm_paused_while_its_tasks_finish_wakes_to_a_done_workflow(
    quick_reaper: ServerThread, tmp_path: Path
) -> None:
    """Issue 13, item 10: every task finished while the swarm was stopped (Ctrl-Z)."""
    dsn = quick_reaper.dsn
    workflow_id, code, out, err = _paused_then_woken(dsn, tmp_path, "paused-done", False)
    assert code == 0 and "status=D" in out, (out, err[-3000:])
    assert _run_status(dsn, workflow_id) == "D"
    assert value(dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id) == "D"
    assert count_lines(tmp_path / "done.log") == {"s0": 1, "s1": 1, "s2": 1}


def test_a_woken_swarm_with_work_left_stops_with_one_line_and_the_workflow_resumes(
    quick_reaper: ServerThread, tmp_path: Path
) -> None:
    """Issue 13, item 10: the final task was never queued while the swarm was stopped."""
    dsn = quick_reaper.dsn
    workflow_id, code, out, err = _paused_then_woken(dsn, tmp_path, "paused-left", True)
    assert code == 0 and "status=E" in out, (out, err[-3000:])
    # the one line that says what happened and what to do
    lines = [line for line in err.splitlines() if "marked lost" in line]
    assert len(lines) == 1 and "paused" in lines[0] and "resume=True" in lines[0], err

    resumed = _build("paused-left", tmp_path, 1.5, final=True)
    assert resumed.run(show_progress=False, resume=True) == "D"
    assert resumed.workflow_id == workflow_id
    assert count_lines(tmp_path / "done.log") == {"s0": 1, "s1": 1, "s2": 1, "final": 1}


def test_a_workflow_whose_tasks_all_finished_after_its_swarm_died_is_done(
    quick_reaper: ServerThread, tmp_path: Path
) -> None:
    """Issue 13, item 10: the paused swarm never wakes (killed); a resume finds every task
    DONE, marks the workflow DONE and says it is complete."""
    dsn = quick_reaper.dsn
    swarm = Swarm(tmp_path, "paused-killed", seconds=1.5, final=False)
    try:
        workflow_id = _workflow_id(dsn, "paused-killed")
        _pause_until_reaped(swarm, dsn, workflow_id)
        wait_until(lambda: _tasks(dsn, workflow_id, "D") == 3, 60, "the tasks to finish")
    finally:
        swarm.close()
    assert value(dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id) == "F"
    with pytest.raises(WorkflowAlreadyComplete):
        _build("paused-killed", tmp_path, 1.5, final=False).run(show_progress=False,
                                                                 resume=True)
    assert value(dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id) == "D"


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_stops_the_run_at_once_and_it_resumes(
    server: ServerThread, tmp_path: Path, signal_number: int
) -> None:
    """Issue 13, item 16: SIGTERM is handled as Ctrl-C (SIGINT) is: the run is recorded as
    stopped right away (not left R for the reaper), the distributor goes, the process exits."""
    dsn = server.dsn
    swarm = Swarm(tmp_path, "signalled", seconds=30, final=True)
    try:
        workflow_id = _workflow_id(dsn, "signalled")
        wait_until(lambda: _tasks(dsn, workflow_id, "R") >= 1, 60, "a running task")
        distributors = _distributors_of(swarm.process.pid)
        assert distributors
        swarm.process.send_signal(signal_number)
        code, _, err = swarm.finish(60)
    finally:
        swarm.close()
    if signal_number == signal.SIGTERM:
        assert code == 128 + signal.SIGTERM, (code, err[-3000:])
        assert "Traceback" not in err, err[-3000:]
    else:  # Python's own way: KeyboardInterrupt
        assert code != 0 and "KeyboardInterrupt" in err, (code, err[-3000:])
    assert _run_status(dsn, workflow_id) == "S"  # at once, not after the reaper
    assert value(dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id) == "H"
    for pid in distributors:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert value(dsn, "SELECT count(*) FROM task_instance WHERE workflow_id = $1 AND status "
                      "IN ('Q', 'I', 'O', 'R')", workflow_id) == 0

    resumed = _build("signalled", tmp_path, 0.1, final=True)
    assert resumed.run(show_progress=False, resume=True) == "D"


def _distributors_of(pid: int) -> list[int]:
    children = [int(child) for thread in Path(f"/proc/{pid}/task").iterdir()
                for child in (thread / "children").read_text().split()]
    return [child for child in children
            if b"distributor" in Path(f"/proc/{child}/cmdline").read_bytes()]


def _as_user(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", token)
    settings_module.reset_cache()


def _shared_script(out: Path, fail: bool) -> Workflow:
    """The same script, run by two people: same tool, workflow_args and tasks."""
    tool = Tool(name="team-pipeline")
    template = tool.get_task_template(
        template_name="step", command_template="echo {step} >> {out}; exit {code}",
        node_args=["step"], op_args=["out", "code"], default_cluster_name="local")
    workflow = tool.create_workflow(name="shared", workflow_args="release-2026-01")
    workflow.add_tasks([template.create_task(step=step, out=str(out), code=int(fail and step == 2),
                                             max_attempts=1) for step in (1, 2)])
    return workflow


def test_two_users_running_one_script_get_a_workflow_each(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13, item 4: a workflow is (tool, owner, workflow_args). Alice and Bob run the
    same script with the same workflow_args; neither blocks nor resumes the other."""
    dsn = token_server.dsn
    alice, bob = make_token(dsn, "alice"), make_token(dsn, "bob")

    _as_user(monkeypatch, alice)
    alices = _shared_script(tmp_path / "alice.log", fail=True)
    assert alices.run(show_progress=False) == "E"

    _as_user(monkeypatch, bob)
    bobs = _shared_script(tmp_path / "bob.log", fail=False)
    assert bobs.run(show_progress=False) == "D"  # his own workflow, not Alice's
    assert bobs.workflow_id != alices.workflow_id
    assert count_lines(tmp_path / "bob.log") == {"1": 1, "2": 1}
    with pytest.raises(WorkflowAlreadyComplete):
        _shared_script(tmp_path / "bob.log", fail=False).run(show_progress=False, resume=True)

    _as_user(monkeypatch, alice)  # Alice fixes her step 2 and resumes her own workflow
    fixed = _shared_script(tmp_path / "alice.log", fail=False)
    assert fixed.run(show_progress=False, resume=True) == "D"
    assert fixed.workflow_id == alices.workflow_id
    assert count_lines(tmp_path / "alice.log") == {"1": 1, "2": 2}
    owners = dict(fetch(dsn, "SELECT id, owner FROM workflow"))
    assert owners == {alices.workflow_id: "alice", bobs.workflow_id: "bob"}

    # resuming someone else's workflow by id is refused, and the message says whose it is
    resume = subprocess.run(
        [sys.executable, "-m", "jobmon", "workflow", "resume", "-w", str(bobs.workflow_id),
         "-c", "local"], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert resume.returncode == 1
    assert "user 'alice' may not change a workflow of 'bob'" in resume.stderr
    assert "Traceback" not in resume.stderr


def test_a_failed_run_says_why_and_what_to_run_next(
    server: ServerThread, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Issue 13, item 19: the last stderr line of a few failed tasks, "and N more", and the
    commands to list them and to resume."""
    tool = Tool(name="reasons")
    template = tool.get_task_template(
        template_name="broken", command_template="echo 'step {n}: input [x] missing' >&2; "
                                                 "exit 2", node_args=["n"],
        default_cluster_name="local")
    workflow = tool.create_workflow(name="reasons", workflow_args="reasons")
    workflow.add_tasks(template.create_task(n=n, max_attempts=1) for n in range(8))
    capfd.readouterr()
    assert workflow.run() == "E"
    err = capfd.readouterr().err
    reasons = [line for line in err.splitlines() if "input [x] missing" in line]
    assert len(reasons) == 5, err
    assert "and 3 more" in err
    assert f"jobmon workflow_tasks -w {workflow.workflow_id} -s FATAL" in err
    assert f"jobmon workflow_resume -w {workflow.workflow_id} -c local" in err
    assert "resume=True" in err


def test_a_distributor_that_keeps_dying_raises_distributor_not_alive(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Follows docsource/advanced/advanced_usage.rst, 'When Exceptions Are Raised':
    ``except DistributorNotAlive`` when the distributor died (here: it keeps dying, past the
    restart window), not a RuntimeError inside an ExceptionGroup."""
    import threading

    from jobmon.core.exceptions import DistributorNotAlive

    monkeypatch.setenv("JOBMON__HTTP__RETRY_SECONDS", "2")  # the restart window
    settings_module.reset_cache()
    workflow = _build("dying", tmp_path, 60, final=False)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            workflow.run(show_progress=False)
        except BaseException as error:  # the test looks at what run() raised
            raised.append(error)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    killed = 0
    deadline = time.monotonic() + 120
    while runner.is_alive() and time.monotonic() < deadline:
        for pid in _distributors_of(os.getpid()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.3)
    runner.join(60)
    assert killed >= 2
    assert len(raised) == 1 and isinstance(raised[0], DistributorNotAlive), raised
    assert "died" in str(raised[0])


@pytest.mark.usefixtures("fast_local")
@pytest.mark.parametrize(("mode", "reaped"), [("hot", False), ("cold", False), ("hot", True)])
def test_a_swarm_killed_between_its_run_and_start_resumes_with_nothing_lost_or_twice(
    quick_reaper: ServerThread, tmp_path: Path, mode: str, reaped: bool
) -> None:
    """SIGKILL after POST .../runs and before POST .../start leaves a run BOUND. A resume
    (hot or cold; before or after the reaper took the stuck run for lost) runs each task
    once and ends DONE; the stuck run ends too."""
    dsn = quick_reaper.dsn
    workflow_args = f"killed-before-start-{mode}-{reaped}"
    with run_swarm(tmp_path, workflow_args, "two_hundred",
                   JOBMON_TEST_KILLED_BEFORE_START="1") as first:
        first.wait(120)
        assert first.returncode == -signal.SIGKILL
        with contextlib.suppress(ProcessLookupError):  # its distributors, left behind
            os.killpg(first.pid, signal.SIGKILL)
    workflow_id = _workflow_id(dsn, workflow_args)
    stuck = value(dsn, "SELECT id FROM workflow_run WHERE workflow_id = $1", workflow_id)
    assert value(dsn, "SELECT status FROM workflow_run WHERE id = $1", stuck) == "B"
    assert value(dsn, "SELECT count(*) FROM task_instance WHERE workflow_id = $1",
                 workflow_id) == 0
    if reaped:
        wait_until(lambda: value(dsn, "SELECT status FROM workflow_run WHERE id = $1",
                                 stuck) == "E", 30, "the reaper to take the stuck run")
    with run_swarm(tmp_path, workflow_args, "two_hundred", mode) as second:
        out, err = second.communicate(timeout=180)
    assert "status=D" in out, err[-3000:]
    assert_each_done_once(tmp_path)
    wait_until(lambda: value(dsn, "SELECT status FROM workflow_run WHERE id = $1",
                             stuck) in ("E", "T"), 30, "the stuck run to end")
    assert value(dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id) == "D"
