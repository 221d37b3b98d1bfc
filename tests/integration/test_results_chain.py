"""Issue 18 item 2: chained workflows. Three links; the middle one fails, is fixed, and the
chain resumes to the end, each link's tasks done exactly once (counted in files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jobmon.client.watch import WorkflowStatus
from jobmon.errors import ChainLinkError
from tests.integration.helpers import ROOT
from tests.integration.results_workflows import chain_link
from tests.support import ServerThread


@pytest.fixture(params=["local", "sequential"])
def cluster(request: pytest.FixtureRequest, server: ServerThread) -> str:
    return str(request.param)


def _counts(folder: Path) -> dict[int, list[str]]:
    return {link: sorted((folder / f"counts-{link}.txt").read_text().split())
            for link in (1, 2, 3) if (folder / f"counts-{link}.txt").exists()}


def test_a_broken_middle_link_stops_the_chain_and_a_resume_ends_it(
    cluster: str, tmp_path: Path
) -> None:
    settings = {"dir": str(tmp_path), "cluster": cluster, "link": 1}
    (tmp_path / "broken-2").touch()
    head = chain_link(settings)
    assert head.run(show_progress=False) == "E"  # the middle link's run ended in error
    chain = WorkflowStatus(head.workflow_id).chain()
    assert chain.state == "STOPPED"
    assert [link.status for link in chain.links] == ["D", "F"]
    middle = chain.links[1].workflow_id
    assert f"workflow {middle} (link 2 of the chain) ended FAILED" in chain.message
    assert chain.resume_workflow_id == middle
    assert _counts(tmp_path) == {1: ["a", "b", "c"], 2: ["a", "b"]}

    (tmp_path / "broken-2").unlink()  # fixed; the script runs again, with resume=True
    assert chain_link(settings).run(resume=True, show_progress=False) == "D"
    chain = WorkflowStatus(middle).chain()  # the same chain, seen from any link
    assert chain.state == "DONE", chain.message
    assert [link.status for link in chain.links] == ["D", "D", "D"]
    assert [json.loads(link.workflow_args).get("carried") for link in chain.links] == \
        [None, 3, 3]
    assert chain.links[0].workflow_id == head.workflow_id and chain.links[1].workflow_id == middle
    assert chain.links[-1].linker is None
    assert _counts(tmp_path) == {1: ["a", "b", "c"], 2: ["a", "b", "c"], 3: ["a", "b", "c"]}


def _jobmon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jobmon.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_failed_linker_stops_the_chain_and_the_cli_resumes_it(
    server: ServerThread, tmp_path: Path
) -> None:
    settings = {"dir": str(tmp_path), "cluster": "sequential", "link": 1}
    (tmp_path / "linker-broken-2").touch()
    head = chain_link(settings)
    with pytest.raises(ChainLinkError, match="the linker is broken, as asked"):
        head.run(show_progress=False)
    shown = _jobmon("workflow", "chain", "-w", str(head.workflow_id), "--json")
    assert shown.returncode == 0, shown.stderr
    chain = json.loads(shown.stdout)
    assert chain["state"] == "STOPPED" and "the linker is broken" in chain["message"]
    assert len(chain["links"]) == 2 and chain["links"][1]["error"]
    table = _jobmon("workflow", "chain", "-w", str(head.workflow_id))
    assert "STOPPED" in table.stdout and "next_link" in table.stdout

    (tmp_path / "linker-broken-2").unlink()
    resumed = _jobmon("workflow", "resume", "-w", str(head.workflow_id), "-c", "sequential")
    assert resumed.returncode == 0, resumed.stderr
    chain = json.loads(_jobmon("workflow", "chain", "-w", str(head.workflow_id),
                               "--json").stdout)
    assert chain["state"] == "DONE" and len(chain["links"]) == 3
    assert _counts(tmp_path) == {1: ["a", "b", "c"], 2: ["a", "b", "c"], 3: ["a", "b", "c"]}


def test_a_follow_on_that_leads_back_into_the_chain_is_refused(
    server: ServerThread, tmp_path: Path
) -> None:
    from tests.integration.results_workflows import loop_back

    head = chain_link({"dir": str(tmp_path), "cluster": "sequential", "link": 1})
    head.set_next(loop_back)
    with pytest.raises(ChainLinkError, match="a chain cannot loop"):
        head.run(show_progress=False)
    chain = WorkflowStatus(head.workflow_id).chain()
    assert chain.state == "STOPPED" and len(chain.links) == 1
    assert "cannot follow workflow" in (chain.links[0].error or "")
    assert _counts(tmp_path) == {1: ["a", "b", "c"]}  # the head ran once, and not again


def test_another_user_reads_a_chain_as_the_workflows_status_and_not_its_outputs(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chain is names, statuses, linkers and their errors: read like a workflow's status
    and errors (any token), unlike its outputs and declarations (its owner and admins)."""
    from jobmon import settings as settings_module
    from jobmon.server.auth import worker_credential
    from tests.integration.helpers import make_token, value
    from tests.integration.test_security_probes import raw

    alice = make_token(token_server.dsn, "alice")
    monkeypatch.setenv("JOBMON__HTTP__TOKEN", alice)
    settings_module.reset_cache()
    (tmp_path / "broken-2").touch()
    head = chain_link({"dir": str(tmp_path), "cluster": "sequential", "link": 1})
    assert head.run(show_progress=False) == "E"
    (tmp_path / "linker-broken-2").touch()  # then the middle link is fixed, its linker not
    (tmp_path / "broken-2").unlink()
    with pytest.raises(ChainLinkError):
        chain_link({"dir": str(tmp_path), "cluster": "sequential", "link": 1}).run(
            resume=True, show_progress=False)
    chain = WorkflowStatus(head.workflow_id).chain()
    assert [link.status for link in chain.links] == ["D", "D"] and chain.links[1].error
    instance = value(token_server.dsn, "SELECT min(id) FROM task_instance "
                                       "WHERE workflow_id = $1", head.workflow_id)
    key = bytes(value(token_server.dsn, "SELECT key FROM server_key"))
    callers = {"alice": alice, "bob": make_token(token_server.dsn, "bob"),
               "worker": worker_credential(key, instance)}

    def get(path: str, caller: str) -> tuple[int, object]:
        return raw(token_server.url, "GET", f"/api/v1/workflows/{path}",
                   {"Authorization": f"Bearer {callers[caller]}"})

    for workflow_id in (head.workflow_id, chain.links[1].workflow_id):
        for caller in ("bob", "worker"):
            for read in ("", "/status", "/errors", "/chain", "/tasks", "/outputs",
                         "/declarations"):
                status, answer = get(f"{workflow_id}{read}", caller)
                # the chain is answered to whoever may read the workflow's status
                expected = get(f"{workflow_id}{'/status' if read == '/chain' else read}",
                               caller)[0]
                assert status == expected, (caller, read, status, answer)
                if read == "/chain" and status == 200:
                    assert answer == get(f"{workflow_id}/chain", "alice")[1]
        status, answer = get(f"{workflow_id}/chain", "bob")
        assert status == 200 and "the linker is broken" in str(answer)
        assert get(f"{workflow_id}/outputs", "bob")[0] == 403
        assert get(f"{workflow_id}/declarations", "bob")[0] == 403
        assert get(f"{workflow_id}/chain", "worker")[0] == 403
    assert get("999999/chain", "bob")[0] == get("999999/status", "bob")[0] == 404
