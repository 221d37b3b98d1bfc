"""Issue 18 item 1: a task finds its upstream tasks' outputs at JOBMON_INPUTS, and the
files an output names travel with it (to downstream tasks, and into the archive)."""

from __future__ import annotations

import asyncio
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from jobmon import settings as settings_module
from jobmon.client.archive import write_archive
from jobmon.client.watch import WorkflowStatus
from tests.integration.helpers import act_as, fetch, make_token, value
from tests.integration.results_workflows import diamond, results_tool
from tests.integration.test_security_probes import raw
from tests.support import ServerThread


@pytest.fixture(params=["local", "sequential"])
def cluster(request: pytest.FixtureRequest, server: ServerThread) -> str:
    return str(request.param)


def test_a_task_reads_its_upstream_outputs_and_files(cluster: str, tmp_path: Path) -> None:
    counts = tmp_path / "counts.txt"
    workflow = diamond(results_tool(cluster), cluster, counts, f"inputs-{cluster}")
    assert workflow.run(show_progress=False) == "D"
    outputs = WorkflowStatus(workflow.workflow_id).outputs()
    assert [outputs[name][0]["value"] for name in "abc"] == [1, 1, 3]
    assert outputs["a"][0]["seen"] == []
    assert outputs["c"][0]["seen"] == ["a", "b"]
    # c read the files a and b named, by the absolute paths the worker recorded
    assert outputs["c"][0]["upstream_data"] == ["data of a\n", "data of b\n"]
    path = Path(outputs["a"][0]["jobmon_files"][0])
    assert path.is_absolute() and path.name == "data.txt" and path.read_text() == "data of a\n"
    assert sorted(counts.read_text().split()) == ["a", "b", "c"]


def test_names_outside_the_files_folder_are_dropped_and_said(
    server: ServerThread, tmp_path: Path
) -> None:
    tool = results_tool("sequential")
    template = tool.get_task_template(
        template_name="liar", command_template="{command}", node_args=["command"])
    command = ("echo '{\"jobmon_files\": [\"../../escape.txt\", \"/etc/hostname\", \"ok.txt\"]}'"
               " > \"$JOBMON_OUTPUT\"")
    workflow = tool.create_workflow(workflow_args="liar", default_cluster_name="sequential")
    workflow.add_task(template.create_task(name="liar", command=command))
    assert workflow.run(show_progress=False) == "D"
    [output] = WorkflowStatus(workflow.workflow_id).outputs()["liar"]
    assert [Path(p).name for p in output["jobmon_files"]] == ["ok.txt"]
    message = value(server.dsn, "SELECT error_message FROM task_instance WHERE workflow_id = $1",
                    workflow.workflow_id)
    assert "outside JOBMON_FILES" in message and "/etc/hostname" in message


def test_the_archive_holds_the_named_files_of_each_instance_only(
    server: ServerThread, tmp_path: Path
) -> None:
    counts = tmp_path / "counts.txt"
    workflow = diamond(results_tool("local"), "local", counts, "archive-files")
    assert workflow.run(show_progress=False) == "D"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET\n")
    rows = fetch(server.dsn, "SELECT id, name, output FROM task WHERE workflow_id = $1 "
                             "ORDER BY name", workflow.workflow_id)
    a_output, b_output = rows[0]["output"], rows[1]["output"]
    # b's record is tampered with: its file becomes a link out of its folder, and a second
    # name points at a file of another folder
    b_file = Path(b_output["jobmon_files"][0])
    b_file.unlink()
    b_file.symlink_to(secret)
    tampered = {**b_output, "jobmon_files": [str(b_file), str(secret)]}
    fetch(server.dsn, "UPDATE task SET output = $1 WHERE id = $2", tampered, rows[1]["id"])
    target = tmp_path / "wf.tar.gz"
    summary = asyncio.run(write_archive(settings_module.get(), workflow.workflow_id, target,
                                        lambda *_: None))
    assert (summary.files, summary.missing_files, summary.refused_files) == (2, 1, 1)
    root = f"workflow-{workflow.workflow_id}"
    with tarfile.open(target) as archive:
        names = archive.getnames()
        contents = {name: archive.extractfile(name).read() for name in names  # type: ignore[union-attr]
                    if "/files/" in name}
        manifest = json.load(archive.extractfile(f"{root}/manifest.json"))  # type: ignore[arg-type]
    assert sorted(contents.values()) == [b"data of a\n", b"data of c\n"]
    assert b"TOPSECRET\n" not in contents.values()
    a_instance = Path(a_output["jobmon_files"][0]).parent.name.removesuffix(".files")[2:]
    assert f"{root}/files/{a_instance}/data.txt" in names
    left_out = [entry for entry in manifest["files"] if entry["member"] is None]
    assert [entry["path"] for entry in left_out] == [str(b_file)]


def test_a_worker_credential_reads_its_own_instances_inputs_only(
    token_server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jobmon.server.auth import worker_credential

    act_as(monkeypatch, token_server.dsn, "alice")
    workflow = diamond(results_tool("sequential"), "sequential", tmp_path / "n", "credential")
    assert workflow.run(show_progress=False) == "D"
    ids = {row["name"]: row["id"] for row in fetch(
        token_server.dsn, "SELECT t.name, ti.id FROM task_instance ti JOIN task t "
        "ON t.id = ti.task_id WHERE ti.workflow_id = $1", workflow.workflow_id)}
    key = bytes(value(token_server.dsn, "SELECT key FROM server_key"))

    def inputs(instance_ids: list[int], credential: str) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {credential}", "Content-Type": "application/json"}
        return raw(token_server.url, "POST", "/api/v1/task_instances/inputs", headers,
                   json.dumps({"task_instance_ids": instance_ids}).encode())

    status, body = inputs([ids["c"]], worker_credential(key, ids["c"]))
    assert status == 200
    [entry] = body["instances"]
    assert sorted(entry["inputs"]) == ["a", "b"] and entry["inputs"]["a"]["value"] == 1
    assert inputs([ids["c"]], worker_credential(key, ids["a"]))[0] == 403
    assert inputs([ids["a"], ids["c"]], worker_credential(key, ids["a"]))[0] == 403
    bob = make_token(token_server.dsn, "bob")
    assert inputs([ids["c"]], bob)[0] == 403
    alice = make_token(token_server.dsn, "alice")
    status, body = inputs([ids["a"], ids["c"]], alice)  # the owner reads them all
    assert status == 200 and [len(e["inputs"]) for e in body["instances"]] == [0, 2]


def test_a_named_file_is_read_only_from_inside_its_instances_folder(tmp_path: Path) -> None:
    """The archive's reader: no link, of a folder or of the files folder itself, leads out."""
    import getpass

    from jobmon.client.owner_files import OwnerReader

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOPSECRET\n")
    folder = tmp_path / "workflow-1" / "ti2.files"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "ok.txt").write_text("fine\n")
    (folder / "linked").symlink_to(outside)
    reader = OwnerReader(getpass.getuser())
    with reader.open(folder / "sub" / "ok.txt", within=folder) as handle:
        assert handle.read() == b"fine\n"
    with pytest.raises(PermissionError, match="outside"):
        reader.open(folder / "linked" / "secret.txt", within=folder)
    moved = tmp_path / "workflow-1" / "ti3.files"
    moved.symlink_to(outside)  # the files folder itself is a link elsewhere
    with pytest.raises(PermissionError, match="not a folder"):
        reader.open(moved / "secret.txt", within=moved)
