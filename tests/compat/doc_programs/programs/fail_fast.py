# docsource/advanced/advanced_usage.rst, "Fail Fast".
# Changed: cluster, queue; a failing task is added so that fail-fast has something to do.
import os

from jobmon.client.tool import Tool

tool = Tool(name="fail_fast_tool")
tool.set_default_cluster_name(os.environ["DOCS_CLUSTER"])
task_template = tool.get_task_template(
    template_name="fail_fast_template", command_template="{arg}", node_args=["arg"])

workflow = tool.create_workflow(name="test_fail_fast", workflow_args="testing")
task = task_template.create_task(name="fail_fast_task",
                                 compute_resources={"runtime": "100s",
                                                    "queue": os.environ["DOCS_QUEUE"]},
                                 arg="sleep 1")
failing = task_template.create_task(name="failing_task", arg="exit 7", max_attempts=1)
later = task_template.create_task(name="never_started", arg="echo never", upstream_tasks=[task])
workflow.add_tasks([task, failing, later])

# This line makes the workflow fail fast
wfr_status = workflow.run(fail_fast=True)
print(f"status: {wfr_status}")
print("final statuses:", sorted((t.name, t.final_status) for t in workflow.tasks.values()))
