"""Jobmon's documentation programs, end to end on "local" and "sequential".

Each program is Jobmon's own (tests/compat/programs, changed only in cluster, queue and
paths), run as a user runs it: ``python program.py CLUSTER ...`` against the test server.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.helpers import fetch
from tests.support import ServerThread

PROGRAMS = Path(__file__).resolve().parent / "programs"
CLUSTERS = ["local", "sequential"]


def _run(*args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


def _task_statuses(dsn: str) -> dict[str, str]:
    return {row["name"]: row["status"] for row in fetch(dsn, "SELECT name, status FROM task")}


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_quickstart_first_workflow(server: ServerThread, cluster: str) -> None:
    """Follows docsource/getting_started/quickstart.rst, 'Your First Workflow'."""
    done = _run(str(PROGRAMS / "quickstart_first.py"), cluster)
    assert "Workflow completed with status: D" in done.stdout
    assert _task_statuses(server.dsn) == {"say_hello": "D", "say_goodbye": "D"}
    # the message went into the command as it is (Jobmon's str.format), not quoted
    commands = {row["command"] for row in fetch(server.dsn, "SELECT command FROM task")}
    assert commands == {"echo Hello from Jobmon!", "echo Goodbye from Jobmon!"}


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_quickstart_realistic_example(server: ServerThread, cluster: str,
                                      tmp_path: Path) -> None:
    """Follows docsource/getting_started/quickstart.rst, 'A More Realistic Example' and
    'Running on a Cluster' (queue "all.q" and a project, ignored on this machine)."""
    out = tmp_path / "output"
    done = _run(str(PROGRAMS / "quickstart_realistic.py"), cluster, str(PROGRAMS), str(out))
    assert "Workflow completed with status: D" in done.stdout
    assert (out / "total.txt").read_text() == "15\n"
    statuses = _task_statuses(server.dsn)
    assert statuses == dict.fromkeys(
        [f"process_{i}" for i in range(1, 6)] + ["aggregate_results", "my_task"], "D")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_create_tasks_example(server: ServerThread, cluster: str, tmp_path: Path) -> None:
    """Follows docsource/create_tasks_example.py (advanced_usage.rst 'Arrays'), including its
    ``Tool(tool_name=...)`` and ``tool.create_workflow()`` without arguments."""
    script = tmp_path / "model_script.py"
    shutil.copy(PROGRAMS / "model_script.py", script)
    done = _run(str(PROGRAMS / "create_tasks_example.py"), cluster, str(script))
    assert done.stdout.strip().splitlines()[-1] == "D"
    written = sorted(path.name for path in tmp_path.glob("loc_*.txt"))
    assert written == ["loc_1.txt", "loc_2.txt", "loc_3.txt"]
    rows = fetch(server.dsn, "SELECT t.name, a.name AS array FROM task t "
                             "JOIN task_array a ON a.id = t.array_id ORDER BY t.name")
    assert [row["name"] for row in rows] == [
        f"my_example_task_template_location_id-{i}" for i in (1, 2, 3)]
    assert {row["array"] for row in rows} == {"my_example_task_template"}


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_quickstart_health_example(server: ServerThread, cluster: str, tmp_path: Path) -> None:
    """Follows docsource/quickstart_health_example.py: templates without node args, an array
    over locations, get_tasks_by_node_args for the dependencies, bind() then run()."""
    data, logs = tmp_path / "data", tmp_path / "logs"
    logs.mkdir()
    done = _run(str(PROGRAMS / "quickstart_health_example.py"), cluster, str(PROGRAMS),
                str(data), str(logs))
    assert "completed with status D." in done.stdout
    made = sorted(path.name for path in (data / "jobmon_quickstart_example").iterdir())
    assert made == sorted([f"data_shard_{i}.txt" for i in range(5)]
                          + [f"location_result_{i}.txt" for i in range(5)] + ["summaries.txt"])
    edges = fetch(server.dsn, "SELECT count(*) FROM edge")[0][0]
    assert edges == 10  # data prep -> 5 locations -> summary
    # its templates' "stdout"/"stderr" folders hold each task's logs (docs: "Where the logs go")
    logged = {path.name.split(".")[0] for path in logs.iterdir()}
    assert {"data_prep_task", "quickstart_summarization_template"} <= logged


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_six_job_smoke_test_with_its_resource_file(server: ServerThread) -> None:
    """Follows dev/workflows/six_job_test.py with six_job_test_resources.yaml (read with
    set_task_templates=True and ignore_missing_keys=True), on both clusters at once."""
    runs = {cluster: subprocess.Popen(
                [sys.executable, str(PROGRAMS / "six_job_test.py"), cluster],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for cluster in CLUSTERS}
    outputs = {}
    try:
        for cluster, process in runs.items():
            outputs[cluster] = process.communicate(timeout=360)
    finally:
        for process in runs.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    for cluster, (stdout, stderr) in outputs.items():
        assert runs[cluster].returncode == 0, f"{cluster}:\n{stdout}\n{stderr[-4000:]}"
        assert "All good, dancing pixies" in stdout
    rows = fetch(server.dsn, "SELECT w.name, count(*) FILTER (WHERE t.status = 'D') AS done, "
                             "w.default_cluster_name AS cluster FROM workflow w "
                             "JOIN task t ON t.workflow_id = w.id GROUP BY w.id")
    assert sorted((row["cluster"], row["done"]) for row in rows) == [
        ("local", 6), ("sequential", 6)]
