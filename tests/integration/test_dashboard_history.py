"""The dashboard's history lists, in Debian's chromium: a task's changes with who made them,
and a workflow's, with an operator's action and its user."""

from __future__ import annotations

import functools
import getpass
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import value
from tests.integration.test_dashboard import browser, in_thread, shoot  # noqa: F401 - fixture
from tests.integration.workflows import sleepers
from tests.support import ServerThread

pytestmark = pytest.mark.browser


def _post(url: str, body: bytes) -> None:
    urllib.request.urlopen(urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}),
        timeout=30).read()


@pytest.mark.timeout(120)
def test_the_pages_list_every_change_with_who_made_it(
    server: ServerThread, browser: Any, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    workflow = sleepers("dash-history", tmp_path, count=1, seconds=0)
    assert in_thread(functools.partial(workflow.run, show_progress=False)) == "D"
    workflow_id = workflow.workflow_id
    in_thread(_post, f"{server.url}/api/v1/workflows/{workflow_id}/concurrency",
              b'{"max_concurrently_running": 3}')
    task_id = in_thread(value, server.dsn, "SELECT min(id) FROM task WHERE workflow_id = $1",
                        workflow_id)
    me = getpass.getuser()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    page.goto(f"{server.url}/#/workflows/{workflow_id}")
    rows = page.locator("#history .history-row")
    page.locator('#history .history-row[data-kind="run"]').first.wait_for(timeout=30_000)
    # newest first: the concurrency change, by this user, from 10 to 3
    newest = rows.first
    assert newest.get_attribute("data-source") == "operator"
    assert "concurrency" in newest.inner_text() and me in newest.inner_text()
    assert "to 3" in newest.locator(".history-context").inner_text()
    kinds = [rows.nth(i).get_attribute("data-kind") for i in range(rows.count())]
    # the workflow's own changes (bound, running, done) and its run's 7 statuses
    assert kinds.count("run") == 7 and kinds.count("workflow") >= 4
    page.locator(".wf-head .pill").wait_for(timeout=30_000)
    shoot(page, "workflow-history")

    page.goto(f"{server.url}/#/tasks/{task_id}")
    page.locator("#history .history-row").first.wait_for(timeout=30_000)
    rows = page.locator("#history .history-row")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    # the task's own changes and its one instance's (Q, I, R, D), newest first
    recorded = in_thread(value, server.dsn,
                         "SELECT (SELECT count(*) FROM task_status WHERE task_id = $1) + "
                         "(SELECT count(*) FROM task_instance_status h JOIN task_instance i "
                         "ON i.id = h.task_instance_id WHERE i.task_id = $1)", task_id)
    assert len(texts) == recorded >= 7, texts
    assert "Done" in texts[0] and "distributor" in texts[0]
    assert "Registering" in texts[-1] or "Queued" in texts[-1]
    assert any("swarm" in text and me in text for text in texts)
    page.locator("#task-name").wait_for(timeout=30_000)
    shoot(page, "task-history")
    assert not problems, problems
    context.close()
