"""The dashboard's pictures in Debian's chromium: resources against requests, the timeline of a
run (bars, and counts above a threshold), and template limits changed during the run.

One workflow serves every check. Templates: ``fit`` (uses a twentieth of its memory),
``hog`` (killed for memory), ``slow`` (killed for time), and ``wait`` (six tasks held by a
gate file, one at a time by their template's limit). The test raises that limit from the
page and then from the CLI, and sees the running swarm start more of them each time.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow
from jobmon.status import WorkflowRunStatus, status_label
from tests.compat.cli_support import jobmon
from tests.integration.helpers import fetch
from tests.integration.test_dashboard import (  # noqa: F401 (browser is a fixture)
    browser,
    db,
    eventually,
    in_thread,
    shoot,
)
from tests.support import ServerThread

pytestmark = pytest.mark.browser

WAITING = 6
FIT = 4
ALLOCATE = ("python3 -c \"import time; b = bytearray({mib} * 2**20); b[::4096] = b'x' * len("
            "b[::4096]); time.sleep({seconds})\"")
RUNNING_WAIT = ("SELECT count(*) FROM task_instance ti JOIN task_array a ON a.id = ti.array_id "
                "JOIN task_template_version v ON v.id = a.task_template_version_id "
                "JOIN task_template tt ON tt.id = v.task_template_id "
                "WHERE ti.workflow_id = $1 AND tt.name = 'wait' AND ti.status = 'R'")


def pictures_workflow(gate: Path) -> Workflow:
    tool = Tool(name="pictures")
    big = {"memory": "2G", "runtime": "10m", "cores": 1}

    def template(name: str, command: str, resources: dict[str, Any]) -> Any:
        return tool.get_task_template(
            template_name=name, command_template=command, node_args=["n"],
            default_cluster_name="local", default_compute_resources=resources)

    fit = template("fit", ALLOCATE.format(mib=100, seconds=0.8) + " # {n}", big)
    hog = template("hog", ALLOCATE.format(mib=300, seconds=20) + " # {n}",
                   {"memory": "64M", "runtime": "10m"})
    slow = template("slow", ALLOCATE.format(mib=1, seconds=30) + " # {n}",
                    {"memory": "1G", "runtime": "2s"})
    wait = template("wait", f"while [ ! -e {gate}/go ]; do sleep 0.2; done; echo {{n}}", big)
    workflow = tool.create_workflow(name="pictures", workflow_args="pictures-1",
                                    max_concurrently_running=50)
    workflow.add_tasks([fit.create_task(n=n, name=f"fit-{n}") for n in range(FIT)])
    workflow.add_task(hog.create_task(n=0, name="hog-0", max_attempts=1))
    workflow.add_task(slow.create_task(n=0, name="slow-0", max_attempts=1))
    workflow.add_tasks([wait.create_task(n=n, name=f"wait-{n}") for n in range(WAITING)])
    workflow.set_task_template_max_concurrency_limit("wait", 1)
    return workflow


@pytest.fixture
def running(server: ServerThread, monkeypatch: pytest.MonkeyPatch,
            tmp_path: Path) -> Iterator[tuple[Workflow, list[str], threading.Thread]]:
    monkeypatch.setenv("JOBMON__LOCAL__MAX_PARALLEL", "16")
    from jobmon import settings as settings_module
    settings_module.reset_cache()
    workflow = pictures_workflow(tmp_path)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(workflow.run(show_progress=False)),
                              daemon=True)
    thread.start()
    eventually(lambda: workflow.workflow_id is not None, 120, "the workflow to be bound")
    try:
        yield workflow, outcome, thread
    finally:
        (tmp_path / "go").touch()
        thread.join(120)


def finished_by_template(dsn: str, workflow_id: int) -> dict[str, int]:
    rows = in_thread(functools.partial(
        fetch, dsn,
        "SELECT tt.name, count(ti.id) FILTER (WHERE ti.status IN ('D','Z','X','U','F','E') "
        "AND ti.maxrss > 0) AS n FROM task_array a "
        "JOIN task_template_version v ON v.id = a.task_template_version_id "
        "JOIN task_template tt ON tt.id = v.task_template_id "
        "LEFT JOIN task_instance ti ON ti.array_id = a.id "
        "WHERE a.workflow_id = $1 GROUP BY tt.name", workflow_id))
    return {row["name"]: row["n"] for row in rows}


def ran_instances(dsn: str, workflow_id: int) -> int:
    return int(db(dsn, "SELECT count(DISTINCT s.task_instance_id) FROM task_instance_status s "
                       "JOIN task_instance ti ON ti.id = s.task_instance_id "
                       "WHERE ti.workflow_id = $1 AND s.status = 'R'", workflow_id))


def template_card(page: Any, name: str) -> Any:
    return page.locator(".res-template").filter(has=page.locator("h3", has_text=name))


def lane(page: Any, array_id: int) -> Any:
    return page.locator(f'#timeline .tl-lane[data-array-id="{array_id}"]')


@pytest.mark.timeout(420)
def test_pictures_of_resources_and_time_and_live_template_limits(
    server: ServerThread, browser: Any,  # noqa: F811
    running: tuple[Workflow, list[str], threading.Thread], tmp_path: Path,
) -> None:
    workflow, outcome, thread = running
    workflow_id = workflow.workflow_id
    assert workflow_id is not None
    dsn = server.dsn
    # fit done, hog and slow killed, and one wait task running: its template's limit is 1
    eventually(lambda: db(dsn, "SELECT count(*) FROM task WHERE workflow_id = $1 AND status "
                               "IN ('D', 'F')", workflow_id) == FIT + 2, 120,
               "fit, hog and slow to finish")
    eventually(lambda: db(dsn, RUNNING_WAIT, workflow_id) == 1, 60, "a wait task to run")
    wait_array = db(dsn, "SELECT a.id FROM task_array a JOIN task_template_version v ON "
                         "v.id = a.task_template_version_id JOIN task_template tt ON "
                         "tt.id = v.task_template_id WHERE a.workflow_id = $1 AND "
                         "tt.name = 'wait'", workflow_id)

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.goto(f"{server.url}/#/workflows/{workflow_id}")
    page.locator(".dag-node").first.wait_for(timeout=30_000)

    # ---- the DAG fits its card at 1,400 px: nothing scrolls, nothing is cut off
    fits = page.evaluate("""() => {
        const box = document.querySelector('#dag .dag-scroll');
        const svg = box.querySelector('svg').getBoundingClientRect();
        const card = box.getBoundingClientRect();
        return [box.scrollWidth <= box.clientWidth, svg.right <= card.right + 0.5,
                svg.left >= card.left - 0.5];
    }""")
    assert fits == [True, True, True]

    # ---- resources: one point per finished instance, the killed and the wasteful marked
    measured = finished_by_template(dsn, workflow_id)
    assert measured["fit"] == FIT and measured["hog"] == 1 and measured["slow"] == 1, measured
    fit = template_card(page, "fit")
    fit.locator(".res-panel").first.wait_for(timeout=30_000)
    for name in ("fit", "hog", "slow"):
        card = template_card(page, name)
        for measure in ("memory", "runtime"):
            points = card.locator(f'.res-panel[data-measure="{measure}"] .pt')
            assert points.count() == measured[name], (name, measure)
    memory = '.res-panel[data-measure="memory"]'
    assert fit.locator(f"{memory} .pt.under-fifth").count() == FIT
    assert template_card(page, "hog").locator(f"{memory} .pt.killed-memory").count() == 1
    assert template_card(page, "slow").locator(f"{memory} .pt.killed-runtime").count() == 1
    assert page.locator("#resources .pt.killed-memory, #resources .pt.killed-runtime").count() \
        == 4  # each killed instance, once per panel
    assert "1 killed for memory" in template_card(page, "hog").locator(".res-facts").inner_text()
    assert "1 killed for time" in template_card(page, "slow").locator(".res-facts").inner_text()
    assert fit.locator(f"{memory} .res-suggested").count() == 1
    # the suggestion is the CLI's: create_resource_yaml writes the same requests
    made = in_thread(jobmon, f"create_resource_yaml -w {workflow_id} -p -c local")
    assert made.code == 0, made.stderr
    written = yaml.safe_load(made.stdout)["task_template_resources"]
    fit_request = written["fit"]["local"]
    shown = fit.locator(".suggested").inner_text()
    assert shown.startswith("memory ") and f"cores {fit_request['cores']}" in shown, shown
    suggested_mib = int(fit_request["memory"].rstrip("M")) if fit_request["memory"].endswith(
        "M") else int(fit_request["memory"].rstrip("G")) * 1024
    assert 100 <= suggested_mib <= 400, fit_request  # ~100 MiB allocated, of 2 GiB asked

    # ---- the timeline: a bar per instance that ran, the running one still open
    bars = page.locator("#timeline .tl-bar")
    eventually(lambda: bars.count() == ran_instances(dsn, workflow_id), 30,
               "a bar for every instance that ran")
    assert bars.count() == FIT + 2 + 1
    assert lane(page, wait_array).locator(".tl-bar.tl-live").count() == 1
    assert page.locator("#timeline .tl-lane").count() == 4
    assert "Workflow run id" in page.locator("#timeline .tl-caption").inner_text()

    # ---- the template's limit, raised from the page: the running swarm starts two more
    form = page.locator(f'.template-limit-form[data-array-id="{wait_array}"]')
    eventually(lambda: form.locator("input").input_value() == "1", 30, "the current limit")
    form.locator("input").fill("3")
    form.get_by_role("button", name="Set").click()
    page.get_by_text("At most 3 tasks of wait run at once now.").wait_for(timeout=30_000)
    eventually(lambda: db(dsn, RUNNING_WAIT, workflow_id) == 3, 30,
               "the swarm to run three wait tasks")
    # ... and the timeline follows by itself
    eventually(lambda: lane(page, wait_array).locator(".tl-live").count() == 3, 30,
               "three open bars on the timeline")
    page.locator(".toast").last.wait_for(state="detached", timeout=30_000)
    shot = shoot(page, "workflow-pictures")
    for card in ("timeline", "resources"):  # each picture on its own, at full size
        page.locator(f"#{card}").screenshot(path=str(shot.with_name(f"{card}.png")))

    # ---- from the CLI, in Jobmon's spelling with the template option: five at once
    changed = in_thread(jobmon, f"concurrency_limit --workflow_id {workflow_id} --max_tasks 5 "
                                "--task_template wait")
    assert changed.code == 0, changed.stderr
    assert "'wait' max concurrently running updated to 5" in changed.stdout
    eventually(lambda: db(dsn, RUNNING_WAIT, workflow_id) == 5, 30,
               "the swarm to run five wait tasks")
    eventually(lambda: form.locator("input").input_value() == "5", 30, "the page to show 5")
    unknown = in_thread(jobmon, f"workflow concurrency -w {workflow_id} -t nosuch -m 2")
    assert unknown.code != 0
    assert "has no task template 'nosuch'" in unknown.stderr and "fit, hog, slow, wait" in \
        unknown.stderr

    # ---- above max_bars the timeline counts instances running per template instead
    counts = context.new_page()
    counts.goto(f"{server.url}/#/workflows/{workflow_id}?max_bars=3")
    areas = counts.locator("#timeline .tl-area")
    areas.first.wait_for(timeout=30_000)
    assert areas.count() == 4
    total = sum(int(areas.nth(i).get_attribute("data-instances")) for i in range(4))
    assert total == ran_instances(dsn, workflow_id)
    peak = counts.locator(f'#timeline .tl-lane[data-array-id="{wait_array}"] .tl-area')
    assert int(peak.get_attribute("data-peak")) == 5
    shoot(counts, "workflow-timeline-counts")
    counts.close()

    # ---- the run ends: every bar closes and the wait points appear, without a reload
    (tmp_path / "go").touch()
    thread.join(120)
    assert not thread.is_alive()
    assert outcome == [str(WorkflowRunStatus.ERROR)]  # hog and slow failed for good
    eventually(lambda: page.locator("#timeline .tl-live").count() == 0
               and bars.count() == ran_instances(dsn, workflow_id), 30, "every bar to close")
    eventually(lambda: template_card(page, "wait").locator(f"{memory} .pt").count()
               == finished_by_template(dsn, workflow_id)["wait"], 30, "the wait points")
    assert db(dsn, "SELECT count(*) FROM task_instance WHERE array_id = $1 AND status = 'D'",
              wait_array) == WAITING  # a point each, but those too short to be measured
    # the names are the CLI's: the run's pill reads as `jobmon` prints the status, in words
    run_pill = page.locator("#runs .pill").first
    run_pill.wait_for(timeout=30_000)
    assert run_pill.inner_text().split("\n")[-1] == status_label(WorkflowRunStatus.ERROR.name)
    assert page.locator("#runs .run-id").first.inner_text().startswith("Workflow run id ")

    # ---- a task's resources carry units; its instance says which run id it belongs to
    page.goto(f"{server.url}/#/tasks/"
              + str(db(dsn, "SELECT id FROM task WHERE workflow_id = $1 AND name = 'fit-0'",
                       workflow_id)))
    facts = page.locator(".facts")
    facts.wait_for(timeout=30_000)
    text = facts.inner_text()
    assert "memory 2.0 GiB" in text and "runtime 0:10:00" in text, text
    assert "workflow run id" in page.locator(".instance header").first.inner_text()
    assert not problems, problems
    context.close()

