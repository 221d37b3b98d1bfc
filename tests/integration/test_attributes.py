"""Workflow and task attributes: stored on bind, merged on a re-bind, shown by status answers."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio

from jobmon import wire
from jobmon.client.connection import open_requester
from jobmon.client.prepare import prepare
from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow
from tests.integration.helpers import ROOT
from tests.support import ServerThread


def _workflow(attributes: dict[str, str | None]) -> Workflow:
    tool = Tool(name="attributes")
    template = tool.get_task_template(template_name="echo", command_template="echo {x}",
                                      node_args=["x"], default_cluster_name="local")
    workflow = tool.create_workflow(name="attributes", workflow_args="attributes-1")
    workflow.workflow_attributes = attributes
    workflow.add_tasks([template.create_task(x=1), template.create_task(x=2)])
    return workflow


def _bind(workflow: Workflow, resume: bool) -> None:
    async def bind() -> None:
        async with open_requester() as requester:
            await workflow._bind(requester, prepare(workflow), resume=resume)

    anyio.run(bind)


def _cli_json(*args: str) -> object:
    ran = subprocess.run([sys.executable, "-m", "jobmon", *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def _send(method: str, path: str, body: object, answer: type[object]) -> object:
    async def send() -> object:
        async with open_requester() as requester:
            if method == "GET":
                return await requester.get(path, answer)
            return await requester.post(path, body, answer)

    return anyio.run(send)


def test_attributes_are_kept_merged_and_shown(server: ServerThread) -> None:
    """Follows tests/integration/client/test_workflow.py, test_workflow_attribute and
    test_resume_with_old_and_new_workflow_attributes (a re-bind adds new names and takes new
    values, and keeps the others), and Task.add_attribute / bind_task_attributes."""
    first = _workflow({"location_id": "5", "year": "2019"})
    first.bind()
    workflow_id = first.workflow_id
    assert workflow_id is not None
    info = _send("GET", f"/api/v1/workflows/{workflow_id}", None, wire.WorkflowInfo)
    assert isinstance(info, wire.WorkflowInfo)
    assert info.attributes == {"location_id": "5", "year": "2019"}

    again = _workflow({"year": "2022", "sex": "F", "pending": None})
    _bind(again, resume=True)
    assert again.workflow_id == workflow_id
    (listed,) = _cli_json("workflow", "status", "-w", str(workflow_id))  # type: ignore[misc]
    assert listed["attributes"] == {"location_id": "5", "year": "2022", "sex": "F",
                                    "pending": None}

    # Jobmon's add_attributes on a bound workflow
    _send("POST", f"/api/v1/workflows/{workflow_id}/attributes",
          wire.AttributesRequest(attributes={"age_group_id": "1", "sex": "M"}),
          wire.AttributesResponse)
    info = _send("GET", f"/api/v1/workflows/{workflow_id}", None, wire.WorkflowInfo)
    assert isinstance(info, wire.WorkflowInfo)
    assert info.attributes["sex"] == "M" and info.attributes["age_group_id"] == "1"

    # task attributes ride with the tasks of a bind chunk, and merge the same way
    task = next(iter(again.tasks.values()))
    assert task.task_id is not None
    rows = _send("GET", f"/api/v1/workflows/{workflow_id}/tasks", None, wire.TaskRows)
    assert isinstance(rows, wire.TaskRows)
    for attributes in ({"draws": "100", "model": "a"}, {"model": "b"}):
        chunk = wire.TasksChunk(
            configs=rows.configs, array_id=[rows.array_id[0]],
            node_args_hash=[task.node_args_hash], task_args_hash=[task.task_args_hash],
            name=[task.name], command=[task.command], config_index=[rows.config_index[0]],
            args=[{"x": "1"}], attributes=[attributes], resume=True)
        _send("POST", f"/api/v1/workflows/{workflow_id}/tasks", chunk, wire.TasksResponse)
    (detail,) = _cli_json("task", "status", "-t", str(task.task_id))  # type: ignore[misc]
    assert detail["attributes"] == {"draws": "100", "model": "b"}
