# docsource/advanced/advanced_usage.rst, "Resource Usage" (Task and TaskTemplate), "Error
# Logs" (workflow.get_errors) and "Python Logging" (configure_client_logging);
# docsource/user_guide/tasks.rst, "Task Attributes" and "Checking Task Status";
# docsource/user_guide/workflows.rst, "Workflow Attributes".
# Changed: cluster, queue.
import os

from jobmon.client.logging import configure_client_logging
from jobmon.client.tool import Tool

configure_client_logging()

tool = Tool(name="usage_tool")
tool.set_default_compute_resources_from_dict(
    cluster_name=os.environ["DOCS_CLUSTER"], compute_resources={"queue": os.environ["DOCS_QUEUE"]})
template = tool.get_task_template(
    template_name="usage_template",
    command_template="python3 -c 'import sys; x = bytearray({mbytes} * 2**20); sys.exit({code})'",
    node_args=["mbytes", "code"],
)
workflow = tool.create_workflow(
    name="usage_workflow",
    workflow_args="usage-v1",
    workflow_attributes={
        "release_id": 123,
        "description": "Production run for Q4"
    }
)
big = template.create_task(name="my_task", mbytes=60, code=0,
                           task_attributes={"location_id": 1, "model_version": "2.1"})
small = template.create_task(name="small_task", mbytes=5, code=0)
broken = template.create_task(name="broken_task", mbytes=1, code=5, max_attempts=2)
workflow.add_tasks([big, small, broken])
status = workflow.run()
print(f"status: {status}")

# Get resource usage for a completed task
usage = big.resource_usage()
print(f"Memory used: {usage['memory']} bytes")
print(f"Runtime: {usage['runtime']} seconds")
print(f"Attempts: {usage['num_attempts']}")

stats = template.resource_usage(workflows=[workflow.workflow_id])
print(f"template usage: {stats}")

errors = workflow.get_errors(limit=10)
for task_id, error_msg in errors.items():
    print(f"Task {task_id}: {error_msg}")
print(f"task_errors: {workflow.task_errors}")
