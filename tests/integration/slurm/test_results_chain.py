"""Issue 18 items 2 and 4 on the dev Slurm: a three-link chain whose middle link fails, is
fixed, and resumes to the end, each link's tasks done exactly once; then a summary
workflow over the three links, whose Slurm tasks read them at JOBMON_RUNS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobmon.client.status import WorkflowStatus
from tests.integration.helpers import act_as
from tests.integration.results_workflows import chain_link, results_tool, summary
from tests.integration.slurm.support import instances
from tests.support import ServerThread

pytestmark = pytest.mark.slurm

TIMEOUT = 120


def _counts(folder: Path) -> dict[int, list[str]]:
    return {link: sorted((folder / f"counts-{link}.txt").read_text().split())
            for link in (1, 2, 3) if (folder / f"counts-{link}.txt").exists()}


@pytest.mark.timeout(300)
def test_slurm_a_broken_middle_link_is_fixed_and_the_chain_resumes_to_the_end(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    act_as(monkeypatch, token_server.dsn, "alice", tmp_path / "jobmon-logs")
    settings = {"dir": str(tmp_path), "cluster": "slurm", "link": 1}
    (tmp_path / "broken-2").touch()
    head = chain_link(settings)
    assert head.run(show_progress=False, seconds_until_timeout=TIMEOUT) == "E"
    chain = WorkflowStatus(head.workflow_id).chain()
    assert chain.state == "STOPPED" and [link.status for link in chain.links] == ["D", "F"]
    middle = chain.links[1].workflow_id
    assert chain.resume_workflow_id == middle
    assert _counts(tmp_path) == {1: ["a", "b", "c"], 2: ["a", "b"]}

    (tmp_path / "broken-2").unlink()  # fixed; the script runs again, with resume=True
    assert chain_link(settings).run(resume=True, show_progress=False,
                                    seconds_until_timeout=TIMEOUT) == "D"
    chain = WorkflowStatus(middle).chain()
    assert chain.state == "DONE", chain.message
    assert [link.status for link in chain.links] == ["D", "D", "D"]
    assert [json.loads(link.workflow_args).get("carried") for link in chain.links] == \
        [None, 3, 3]
    assert _counts(tmp_path) == {1: ["a", "b", "c"], 2: ["a", "b", "c"], 3: ["a", "b", "c"]}
    link_ids = [link.workflow_id for link in chain.links]
    for workflow_id in link_ids:  # each task DONE by one Slurm job; c of the middle failed once
        rows = instances(token_server.dsn, workflow_id)
        assert sorted(str(row["name"]) for row in rows if row["status"] == "D") == \
            ["a", "b", "c"]
        assert all(str(row["distributor_id"]).split("_")[0].isdigit() for row in rows)
    assert sorted(str(row["name"]) for row in instances(token_server.dsn, middle)
                  if row["status"] != "D") == ["c"]

    # a summary over the three links: its Slurm workers read them at JOBMON_RUNS
    over = summary(results_tool("slurm"), "slurm", link_ids, "slurm-chain-summary")
    assert over.run(show_progress=False, seconds_until_timeout=TIMEOUT) == "D"
    assert over.workflow_id is not None
    read = {name: found[0] for name, found in WorkflowStatus(over.workflow_id).outputs().items()}
    for name in ("first", "second"):
        assert read[name]["runs"] == link_ids
        assert read[name]["c_values"] == [3, 3, 3]
        assert [json.loads(args)["link"] for args in read[name]["workflow_args"]] == [1, 2, 3]
    assert read["second"]["inputs"]["first"]["runs"] == link_ids
    assert all(str(row["distributor_id"]).split("_")[0].isdigit()
               for row in instances(token_server.dsn, over.workflow_id))
