"""Resume a workflow from the database alone (what `jobmon workflow resume` does)."""

from __future__ import annotations

from jobmon import wire
from jobmon.client.connection import open_requester
from jobmon.client.progress import ProgressReporter
from jobmon.client.swarm.result import WorkflowRunResult
from jobmon.client.swarm.runner import run_workflow
from jobmon.errors import InvalidWorkflow
from jobmon.settings import Settings


async def resume_workflow(settings: Settings, workflow_id: int, cluster_name: str, cold: bool,
                          seconds_until_timeout: float) -> WorkflowRunResult:
    async with open_requester(settings) as requester:
        info = await requester.get(f"/api/v1/workflows/{workflow_id}", wire.WorkflowInfo)
        page = await requester.get(f"/api/v1/workflows/{workflow_id}/tasks", wire.TaskRows,
                                   {"limit": 1})
        clusters = {config.cluster_name for config in page.configs}
        if clusters and cluster_name not in clusters:
            raise InvalidWorkflow(
                f"workflow {workflow_id} runs on {', '.join(sorted(clusters))}, "
                f"not on {cluster_name!r}"
            )
        with ProgressReporter(info.name) as progress:
            return await run_workflow(
                requester, settings, workflow_id, None, fail_fast=False,
                seconds_until_timeout=seconds_until_timeout, resume=True, cold_resume=cold,
                progress=progress,
            )
