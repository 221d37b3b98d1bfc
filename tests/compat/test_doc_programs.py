"""IHME Jobmon 3.6's documentation, followed step by step by a new user.

Each program under doc_programs/programs/ follows one page of Jobmon's documentation
(repository ihmeuw-scicomp/jobmon, tag client-3.6.0) step by step, with the page's calls as
the page shows them, changed only in cluster name, queue names and paths (and where the page
is broken for IHME Jobmon too, as each file's header says). Each runs as its own Python
process against a real server, as a user runs it, on "local" and on "sequential"; the
deployment smoke test also on the dev Slurm (the resource-retry pages run on Slurm in
tests/compat/slurm/test_resource_retries.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.helpers import fetch
from tests.support import ServerThread

PROGRAMS = Path(__file__).parent / "doc_programs" / "programs"
CLUSTERS = ["local", "sequential"]
# the queue a user names on each cluster (Jobmon's own non-Slurm clusters have "null.q")
QUEUES = {"local": "null.q", "sequential": "null.q", "slurm": "debug"}

pytestmark = pytest.mark.timeout(240)


def run_program(name: str, cluster: str, workdir: Path, *args: str,
                env: dict[str, str] | None = None,
                timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The program as a user runs it: its own process, its own directory."""
    environment = {**os.environ, "DOCS_CLUSTER": cluster, "DOCS_QUEUE": QUEUES[cluster],
                   "DOCS_DIR": str(workdir), **(env or {})}
    return subprocess.run([sys.executable, str(PROGRAMS / name), *args], cwd=workdir,
                          env=environment, capture_output=True, text=True, timeout=timeout,
                          check=False)


def ran(result: subprocess.CompletedProcess[str]) -> str:
    """The program's output, once it exited 0; otherwise the failure, shown in full."""
    assert result.returncode == 0, (
        f"exit {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n"
        f"--- stderr\n{result.stderr[-6000:]}")
    return result.stdout


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_quickstart_first_workflow(server: ServerThread, tmp_path: Path, cluster: str) -> None:
    """quickstart.rst, 'Your First Workflow': two echo tasks, one upstream of the other."""
    out = ran(run_program("quickstart_first.py", cluster, tmp_path))
    assert "Workflow completed with status: D" in out
    rows = fetch(server.dsn, "SELECT name, status, command FROM task ORDER BY id")
    # the message went into the command as it is (Jobmon's str.format), not shell-quoted
    assert [tuple(row) for row in rows] == [
        ("say_hello", "D", "echo Hello from Jobmon!"),
        ("say_goodbye", "D", "echo Goodbye from Jobmon!")]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_quickstart_realistic_example(server: ServerThread, tmp_path: Path,
                                      cluster: str) -> None:
    """quickstart.rst, 'A More Realistic Example': five locations, then an aggregate that
    waits for all of them (its output counts what they wrote)."""
    out = ran(run_program("quickstart_locations.py", cluster, tmp_path))
    assert "Workflow completed with status: D" in out
    assert (tmp_path / "summary.txt").read_text() == "5 locations, total 20\n"


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_compute_resources_yaml_and_hierarchy(server: ServerThread, tmp_path: Path,
                                              cluster: str) -> None:
    """compute_resources.rst 'Resource Hierarchy' and 'YAML Configuration'; core_concepts.rst
    'YAML Configuration Files': tool defaults, a template's YAML file, a task override."""
    out = ran(run_program("resources_yaml.py", cluster, tmp_path))
    assert "status: D" in out


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_create_tasks_example(server: ServerThread, tmp_path: Path, cluster: str) -> None:
    """create_tasks_example.py (advanced_usage.rst 'Arrays'): create_tasks over a list of
    locations, and a workflow created with no arguments."""
    out = ran(run_program("create_tasks_example.py", cluster, tmp_path))
    assert "status: D; tasks: 3" in out


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_ordinary_retry(server: ServerThread, tmp_path: Path, cluster: str) -> None:
    """advanced_usage.rst 'Ordinary Retry': a command (given whole as the template's {arg})
    fails three times and succeeds on the fourth of its max_attempts=4."""
    out = ran(run_program("ordinary_retry.py", cluster, tmp_path))
    assert "status: D" in out
    assert "retry_task succeeded on attempt 4" in out


@pytest.mark.parametrize("cluster", CLUSTERS)
@pytest.mark.parametrize("scales", ["default", "iterator"])
def test_resource_retry(server: ServerThread, tmp_path: Path, cluster: str,
                        scales: str) -> None:
    """advanced_usage.rst 'Resource Retry' (runtime +50% after a timeout) and 'Custom
    Resource Scales' (an iterator of absolute runtimes): killed for time, then it fits."""
    # the page's 90 s runtime for a 110 s sleep, scaled down: the retry's 9 s leaves the
    # 7 s sleep a margin, as 135 s leaves 110 s one (2 s for 3 s had none on a busy machine)
    env = {"DOCS_RUNTIME": "6", "DOCS_SLEEP": "7", "DOCS_SCALES": scales}
    out = ran(run_program("resource_retry.py", cluster, tmp_path, env=env))
    assert "status: D" in out


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_resume_after_fixing_the_script(server: ServerThread, tmp_path: Path,
                                        cluster: str) -> None:
    """advanced_usage.rst 'Resuming a Workflow' / workflows.rst 'Resuming Workflows': the
    first run fails on a broken script (an op arg); run() again without resume is refused
    with WorkflowAlreadyExists; after the fix, run(resume=True) ends D without rerunning
    what was DONE."""
    broken = tmp_path / "model_broken.py"
    broken.write_text("import sys\nsys.exit('bug: division by zero')\n")
    fixed = tmp_path / "model.py"
    fixed.write_text("import sys\nopen(sys.argv[-1] + '.done', 'a').write('x')\n")
    first = run_program("resume_after_fix.py", cluster, tmp_path, "new",
                        env={"DOCS_SCRIPT": str(broken)})
    assert "Workflow failed - check task statuses" in ran(first)
    assert "status: E" in first.stdout
    refused = run_program("resume_after_fix.py", cluster, tmp_path, "new",
                          env={"DOCS_SCRIPT": str(fixed)})
    assert refused.returncode == 3, refused.stderr[-3000:]
    assert "refused: WorkflowAlreadyExists" in refused.stdout
    resumed = ran(run_program("resume_after_fix.py", cluster, tmp_path, "resume",
                              env={"DOCS_SCRIPT": str(fixed)}))
    assert "Workflow completed successfully!" in resumed
    assert sorted(path.name for path in tmp_path.glob("*.done")) == ["1.done", "2.done",
                                                                   "3.done"]
    assert all(path.read_text() == "x" for path in tmp_path.glob("*.done"))


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_fail_fast(server: ServerThread, tmp_path: Path, cluster: str) -> None:
    """advanced_usage.rst 'Fail Fast': after the first fatal task no new task starts."""
    out = ran(run_program("fail_fast.py", cluster, tmp_path))
    assert "status: E" in out
    assert "('failing_task', 'F')" in out
    assert "('never_started', 'D')" not in out


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_run_results_when_every_task_succeeds(server: ServerThread, tmp_path: Path,
                                              cluster: str) -> None:
    """advanced_usage.rst 'Workflow Run Results and Exception Handling', the success path."""
    out = ran(run_program("run_results.py", cluster, tmp_path))
    assert "Success! 3/3 tasks completed" in out
    assert re.search(r"Elapsed time: \d+\.\d seconds", out)


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_run_results_and_errors_when_a_task_fails(server: ServerThread, tmp_path: Path,
                                                  cluster: str) -> None:
    """advanced_usage.rst 'Workflow Run Results and Exception Handling' (failed_task_ids,
    task_final_statuses) and monitoring.rst 'Error Logs' (workflow.get_errors)."""
    out = ran(run_program("run_results.py", cluster, tmp_path, env={"DOCS_FAIL": "1"}))
    assert "Workflow failed: 1 tasks failed" in out
    assert re.search(r"  Task \d+ failed with status: F", out)
    assert re.search(r"Task \d+: .*broken", out)


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_timeout_raises_and_resume_finishes(server: ServerThread, tmp_path: Path,
                                            cluster: str) -> None:
    """advanced_usage.rst: 'RuntimeError (timeout) - Exception raised', then 'increase
    timeout and resume to wait for completion'."""
    env = {"DOCS_SLEEP": "6"}
    result = run_program("timeout.py", cluster, tmp_path, "2", "new", env=env)
    assert "timed out: " in ran(result), result.stderr[-4000:]
    second = ran(run_program("timeout.py", cluster, tmp_path, "120", "resume", env=env))
    assert "status: D" in second


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_dynamic_task_resources(server: ServerThread, tmp_path: Path, cluster: str) -> None:
    """advanced_usage.rst 'Dynamic Task Resources': a callable, evaluated when the task is
    ready, reads the resources its upstream task wrote."""
    out = ran(run_program("dynamic_resources.py", cluster, tmp_path))
    assert "status: D" in out


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_task_template_concurrency_limit(server: ServerThread, tmp_path: Path,
                                         cluster: str) -> None:
    """advanced_usage.rst 'Concurrency Limiting': set_task_template_max_concurrency_limit
    caps the template at 2 tasks running at once."""
    out = ran(run_program("concurrency.py", cluster, tmp_path))
    assert "status: D" in out
    events = sorted(
        (float(stamp), +1 if kind == "start" else -1)
        for kind, stamp in (line.split() for line in
                            (tmp_path / "intervals.log").read_text().splitlines()))
    assert len(events) == 16
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak <= 2


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_resource_usage_errors_attributes_and_logging(server: ServerThread, tmp_path: Path,
                                                      cluster: str) -> None:
    """advanced_usage.rst 'Resource Usage', 'Error Logs', 'Python Logging'; tasks.rst 'Task
    Attributes' and 'Checking Task Status'; workflows.rst 'Workflow Attributes'."""
    out = ran(run_program("usage_and_errors.py", cluster, tmp_path))
    assert "status: E" in out
    memory = int(re.search(r"Memory used: (\d+) bytes", out).group(1))  # type: ignore[union-attr]
    assert memory > 60 * 2**20  # it held a 60 MiB buffer
    assert "Attempts: 1" in out
    assert "template usage: " in out
    assert re.search(r"Task \d+: ", out)  # the broken task's errors
    assert "broken_task" in out.split("task_errors: ", 1)[1]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_quickstart_health_example(server: ServerThread, tmp_path: Path, cluster: str) -> None:
    """quickstart_health_example.py: data prep, one task per location, a summary, wired
    with get_tasks_by_node_args; logs go where the stdout/stderr resources say."""
    out = ran(run_program("health_example.py", cluster, tmp_path))
    assert re.search(r"Workflow \d+ completed with status D\.", out)
    assert "5 locations, total 105" in out
    # each task's stdout and stderr went to the folders its resources name
    logs = {path.name for path in (tmp_path / "logs").iterdir()}
    assert any(name.startswith("data_prep_task.o") for name in logs)
    assert any(name.startswith("data_prep_task.e") for name in logs)


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_six_job_smoke_test(server: ServerThread, tmp_path: Path, cluster: str) -> None:
    """dev/workflows/six_job_test.py with its resources YAML: IHME's deployment smoke test."""
    out = ran(run_program("six_job_smoke.py", cluster, tmp_path, cluster))
    assert "smoke test passed" in out
    _check_six_job_resources(server, tmp_path, queue="null.q", long_queue="null.q")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_task_generator_page(server: ServerThread, tmp_path: Path, cluster: str) -> None:
    """advanced/task_generator.rst: functions become tasks (a single task, an array, a custom
    type's serializer, special characters, a naming function, a generator's own defaults);
    on the node each function gets back the very values it was given."""
    out = ran(run_program("task_generator_page.py", cluster, tmp_path))
    assert "status: D" in out
    names = re.findall(r"^task: (.*)$", out, re.MULTILINE)
    assert len(names) == 7
    assert {"simple_function:foo=1", "simple_function_with_serializer:year=2021", "Lala_7",
            "defaults_function:foo=5", "special_chars_function:foo=&#x27;aaa&#x27;"} <= set(names)
    assert "found: ['simple_function_foo-2_bar-_[a,b]_']" in out
    assert "Command Line Documentation for generator_funcs:simple_function" in out
    printed = sorted(line for path in (tmp_path / "logs").iterdir() if ".o" in path.name
                     for line in path.read_text().splitlines())
    assert printed == sorted([
        "simple_function foo: 1", "simple_function bar: ['a', 'b']",
        "simple_function foo: 2", "simple_function bar: ['a', 'b']",
        "simple_function foo: 3", "simple_function bar: ['a', 'b']",
        "simple_function_with_serializer year: TestYear 2021",
        "special_chars_function foo: 'aaa'",
        "custom_named_function foo: 7 bar: []",
        "defaults_function foo: 5 bar: []",
    ])
    # the generator ran as the tool the page names, one template per function
    rows = fetch(server.dsn, "SELECT DISTINCT tt.name FROM task_template tt ORDER BY 1")
    assert [row["name"] for row in rows] == sorted([
        "custom_named_function", "defaults_function", "simple_function",
        "simple_function_with_serializer", "special_chars_function"])


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.usefixtures("slurm_cluster")
def test_six_job_smoke_test_on_slurm(server: ServerThread, tmp_path: Path) -> None:
    """dev/workflows/six_job_test.py on cluster "slurm": the tool's resources (memory a bare
    number of GiB, runtime seconds, a queue, log folders) and phase_1's own queue and
    runtime, read from the YAML file, reach Slurm."""
    out = ran(run_program("six_job_smoke.py", "slurm", tmp_path, "slurm",
                          env={"DOCS_LONG_QUEUE": "batch"}, timeout=400))
    assert "smoke test passed" in out
    _check_six_job_resources(server, tmp_path, queue="debug", long_queue="batch")


def _check_six_job_resources(server: ServerThread, workdir: Path, queue: str,
                             long_queue: str) -> None:
    rows = fetch(server.dsn, "SELECT t.name, ti.compute_resources FROM task t "
                             "JOIN task_instance ti ON ti.task_id = t.id ORDER BY t.name")
    used = {row["name"]: row["compute_resources"] for row in rows}
    assert sorted(used) == ["t1", "t2", "t3", "t4", "t5", "t6"]
    assert used["t1"]["runtime"] == 90_000 and used["t1"].get("queue", long_queue) == long_queue
    assert used["t2"]["runtime"] == 60 and used["t2"]["memory"] == 1024
    assert used["t2"].get("queue", queue) == queue
    # the tool's stdout and stderr folders hold the tasks' logs
    assert {path.name.split(".")[0] for path in (workdir / "logs").iterdir()} >= {"t1", "t6"}
