"""The web dashboard in a real browser: Debian's chromium, driven by Playwright.

A workflow runs in a background thread against the test server while the test looks at
the pages as a person would: the progress moves, the failed task shows its stderr, the
stop button stops the run. Screenshots of every page land in tests/artifacts/.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from jobmon.client.workflow import Workflow
from tests.integration.helpers import ROOT, make_token, value
from tests.integration.operator_workflows import ERROR_LINE, dashboard, mixed
from tests.support import ServerThread

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("JOBMON_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags chromium keeps calling home on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
NAME = "nightly <script>window.__pwned = 1</script> & co"


def _unavailable(reason: str) -> None:
    if os.environ.get("JOBMON_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and JOBMON_REQUIRE_BROWSER=1 says the browser tests must run")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield launched
        finally:
            launched.close()


def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Playwright's sync API keeps an event loop on this thread: database calls go elsewhere."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


def db(dsn: str, query: str, *args: object) -> Any:
    return in_thread(value, dsn, query, *args)


def eventually(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def running(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[Workflow, list[str], threading.Thread]]:
    # all tasks at once, whatever the machine's cores: the test wants them side by side
    monkeypatch.setenv("JOBMON__LOCAL__MAX_PARALLEL", "16")
    from jobmon import settings as settings_module
    settings_module.reset_cache()
    # finished neighbours in the list: one DONE, one FAILED
    done = mixed("dash-done", name="daily report", width=2, failing=None)
    failed = mixed("dash-failed", name="weekly model fit", width=2, failing=1)
    for finished, status in ((done, "D"), (failed, "E")):  # the runs' statuses
        assert in_thread(functools.partial(finished.run, show_progress=False)) == status
    workflow = dashboard("dash-1", NAME, tmp_path)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(workflow.run(show_progress=False)),
                              daemon=True)
    thread.start()
    eventually(lambda: workflow.workflow_id is not None, 180, "the workflow to be bound")
    try:
        yield workflow, outcome, thread
    finally:
        if thread.is_alive():
            in_thread(_stop, server.url, workflow.workflow_id)
            thread.join(60)


def _stop(url: str, workflow_id: int) -> None:
    import urllib.request
    urllib.request.urlopen(urllib.request.Request(
        f"{url}/api/v1/workflows/{workflow_id}/stop", method="POST"), timeout=30).read()


def release(gate: Path, item: int) -> None:
    """Let work-<item> finish."""
    (gate / f"go-{item}").touch()


def shoot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def finished_count(text: str) -> int:
    match = re.match(r"\s*([\d,]+)\s*/", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


@pytest.mark.timeout(600)
def test_dashboard_shows_a_live_workflow_and_stops_it(
    server: ServerThread, browser: Any, running: tuple[Workflow, list[str], threading.Thread],
    tmp_path: Path,
) -> None:
    # tmp_path is also the running workflow's gate: release(tmp_path, i) lets work-i finish
    workflow, outcome, thread = running
    workflow_id = workflow.workflow_id
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" else None)

    # ---- the list: the workflow, its name shown literally, its progress moving
    page.goto(server.url + "/")
    row = page.locator(f'.wf-row[data-workflow-id="{workflow_id}"]')
    row.wait_for(timeout=30_000)
    assert row.locator(".wf-name").inner_text() == NAME
    assert page.evaluate("window.__pwned") is None
    eventually(lambda: finished_count(row.locator(".progress-count").inner_text()) == 2, 180,
               "prep and the failing task to finish")
    release(tmp_path, 0)
    eventually(lambda: finished_count(row.locator(".progress-count").inner_text()) == 3,
               180, "the list's progress to move")
    assert row.locator(".pill").inner_text().endswith("Running")
    page.locator('input[name="name"]').fill("no such workflow")
    page.get_by_text("No workflow matches these filters.").wait_for(timeout=10_000)
    assert "name=no+such+workflow" in page.url
    page.locator('input[name="name"]').fill("nightly")
    row.wait_for(timeout=10_000)
    assert page.locator(".wf-row").count() == 1
    page.locator('select[name="status"]').select_option("F")
    page.get_by_text("No workflow matches these filters.").wait_for(timeout=10_000)
    page.locator('select[name="status"]').select_option("")
    page.locator('input[name="name"]').fill("")
    eventually(lambda: page.locator(".wf-row").count() == 3, 30, "all three workflows")
    assert page.locator(".wf-row .pill").all_inner_texts()[1:] == ["F\nFailed", "D\nDone"]
    shoot(page, "list")

    # ---- the workflow page: counts, DAG by template, failed tasks grouped by error
    row.click()
    page.wait_for_url(f"**/#/workflows/{workflow_id}")
    assert page.locator("#workflow-name").inner_text(timeout=30_000) == NAME
    nodes = page.locator(".dag-node")
    nodes.first.wait_for(timeout=30_000)
    assert sorted(nodes.locator(".dag-name").all_text_contents()) == \
        ["hold", "prep", "report", "work"]
    assert page.locator(".dag-edge").count() == 4  # prep->work, prep->hold, work/hold->report
    count = page.locator("#finished-count")
    assert finished_count(count.inner_text()) == 3
    release(tmp_path, 1)
    eventually(lambda: finished_count(count.inner_text()) == 4, 180,
               "the workflow page's progress to move")
    group = page.locator(".error-group").filter(has_text=ERROR_LINE)
    group.wait_for(timeout=60_000)
    assert "exit 3" in group.inner_text() and "1 task" in group.inner_text()
    # the task list's filter chips, from the served vocabulary (jobmon.status.TASK_FILTERS)
    chips = page.locator('[aria-label="Filter tasks"] .chip')
    assert chips.all_text_contents() == ["All", "Running", "Fatal", "Retrying", "Queued",
                                         "Registering", "Done"]
    assert chips.nth(3).get_attribute("data-filter") == "E,A"

    # polling: at most one request a second while the page is open (the browser's own
    # resource timings: Playwright's events arrive late, in bursts)
    page.evaluate("performance.clearResourceTimings()")
    time.sleep(6)
    starts = page.evaluate("performance.getEntriesByType('resource')"
                           ".filter(e => e.name.includes('/api/')).map(e => e.startTime)")
    assert 3 <= len(starts) <= 7, starts
    # ticks start 1000 ms apart; a request leaves a few ms into its tick, busy machines vary
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= 900, gaps
    shoot(page, "workflow")

    # ---- the task page: the failed instance's timeline and stderr tail
    group.locator("a.task-link", has_text="work-2").click()
    page.wait_for_url(re.compile(r".*#/tasks/\d+$"))
    tail = page.locator(".stderr-tail")
    tail.wait_for(timeout=30_000)
    assert ERROR_LINE in tail.inner_text()
    assert page.locator("#task-name").inner_text() == "work-2"
    timeline = page.locator(".timeline li .pill").all_inner_texts()
    assert [text.split(maxsplit=1)[0] for text in timeline][-1] == "E", timeline
    assert "Queued" in timeline[0]
    assert "Exit code\n3" in page.locator(".facts").inner_text()
    page.locator("#dependencies h3", has_text="Upstream (1)").wait_for(timeout=30_000)
    assert "prep-all" in page.locator("#dependencies").inner_text()
    assert "report-final" in page.locator("#dependencies").inner_text()
    shoot(page, "task")

    # ---- narrow screens: the same pages still read well
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    small = phone.new_page()
    small.goto(f"{server.url}/#/workflows/{workflow_id}")
    small.locator(".dag-node").first.wait_for(timeout=30_000)
    shoot(small, "workflow-narrow")
    small.goto(f"{server.url}/#/")
    small.locator(".wf-row").first.wait_for(timeout=30_000)
    shoot(small, "list-narrow")
    phone.close()

    # ---- the actions: concurrency, then stop (through the same API as the CLI)
    page.goto(f"{server.url}/#/workflows/{workflow_id}")
    limit = page.locator("#limit")
    limit.wait_for(timeout=30_000)
    eventually(lambda: limit.input_value() == "50", 30, "the current limit")
    limit.fill("7")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("At most 7 tasks run at once now.").wait_for(timeout=30_000)
    assert db(server.dsn, "SELECT max_concurrently_running FROM workflow WHERE id = $1",
              workflow_id) == 7

    page.locator("#stop").click()
    page.locator("#stop-confirm").click()
    page.locator(".wf-head .pill", has_text="Halted").wait_for(timeout=90_000)
    thread.join(90)
    assert not thread.is_alive(), "the swarm did not exit after the stop"
    assert outcome == ["S"]  # the run was stopped
    assert db(server.dsn, "SELECT status FROM workflow WHERE id = $1", workflow_id) == "H"
    assert db(server.dsn, "SELECT count(*) FROM task_instance WHERE workflow_id = $1 "
                          "AND status IN ('Q', 'I', 'O', 'R')", workflow_id) == 0
    assert page.locator("#stop").is_disabled()
    # the tables follow: the run is STOPPED, no task shows as running any more
    page.locator("#runs .pill", has_text="Stopped").wait_for(timeout=30_000)
    eventually(lambda: "Running" not in page.locator("#tasks tbody").inner_text(), 30,
               "the task table to show the stop")
    page.locator(".toast").last.wait_for(state="detached", timeout=30_000)
    shoot(page, "workflow-stopped")
    assert not problems, problems

    # the browser itself logs the 404 of a workflow that is not there: that one is expected
    page.goto(f"{server.url}/#/workflows/999999")
    page.locator("main").get_by_text("workflow 999999 does not exist").wait_for(timeout=30_000)
    assert page.locator(".toast", has_text="999999").count() == 0  # said once, in the page
    context.close()


@pytest.mark.timeout(300)
def test_a_shared_server_asks_the_page_for_an_api_token(
    token_server: ServerThread, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobmon import settings as settings_module

    token = in_thread(make_token, token_server.dsn, "alice")
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", token)
    settings_module.reset_cache()
    owned = mixed("shared-1", name="alice's model", width=2, failing=None)
    assert in_thread(functools.partial(owned.run, show_progress=False)) == "D"

    page = browser.new_page(viewport={"width": 1280, "height": 700})
    page.goto(token_server.url + "/")
    form = page.locator("#token-form")
    form.wait_for(timeout=30_000)
    assert "This server needs an API token" in form.inner_text()
    page.locator("#token").fill("jm_wrong")
    page.get_by_role("button", name="Use token").click()
    page.locator("#token-form", has_text="This token was not accepted").wait_for(timeout=30_000)
    shoot(page, "token")
    page.locator("#token").fill(token)
    page.get_by_role("button", name="Use token").click()
    page.locator(".wf-row", has_text="alice's model").wait_for(timeout=30_000)
    assert page.locator("#token-form").count() == 0
    assert page.evaluate("window.localStorage.getItem('jobmon.token')") == token


@pytest.mark.timeout(300)
def test_the_workflow_page_shows_the_chain_it_is_in(
    server: ServerThread, browser: Any, tmp_path: Path,
) -> None:
    """Issue 18 item 2: a chain stopped at its failed middle link, seen from its first."""
    from tests.integration.results_workflows import chain_link

    (tmp_path / "broken-2").touch()
    head = chain_link({"dir": str(tmp_path), "cluster": "sequential", "link": 1})
    assert in_thread(functools.partial(head.run, show_progress=False)) == "E"
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(f"{server.url}/#/workflows/{head.workflow_id}")
    card = page.locator("#chain")
    card.locator(".chain-link").nth(1).wait_for(timeout=30_000)
    assert card.locator("#chain-state").inner_text() == "STOPPED"
    assert "(link 2 of the chain) ended FAILED" in card.inner_text()
    links = card.locator(".chain-link")
    assert links.count() == 2
    assert links.nth(0).get_attribute("class") == "chain-link current"
    assert links.nth(1).locator(".pill").inner_text().endswith("Failed")
    shoot(page, "chain")
    links.nth(1).locator("a").click()  # the failed link's own page shows the same chain
    page.wait_for_url(f"**/#/workflows/{links.nth(1).get_attribute('data-workflow-id')}")
    page.locator("#chain .chain-link.current").wait_for(timeout=30_000)
    assert page.locator("#chain .chain-link").nth(1).get_attribute("class") == \
        "chain-link current"
    assert not problems, problems
