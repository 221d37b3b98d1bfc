# docsource/advanced/advanced_usage.rst, "Resuming a Workflow" / "Resume By Recreating the
# Workflow", and docsource/user_guide/workflows.rst, "Resuming Workflows": the first run
# fails because of a bug in an op arg (the script's path); the user fixes the script,
# runs it again without resume (Jobmon refuses), then with resume=True.
# Changed: cluster, queue, paths. DOCS_SCRIPT is the (fixed or broken) script path.
import os
import sys

from jobmon.client.tool import Tool
from jobmon.core.constants import WorkflowRunStatus
from jobmon.core.exceptions import WorkflowAlreadyExists

tool = Tool(name="resume_tutorial")
tool.set_default_compute_resources_from_dict(
    cluster_name=os.environ["DOCS_CLUSTER"],
    compute_resources={"queue": os.environ["DOCS_QUEUE"], "runtime": "10m"})
prepare = tool.get_task_template(
    template_name="prepare",
    command_template="echo prepared {release}",
    node_args=["release"],
)
model = tool.get_task_template(
    template_name="model",
    command_template="{python} {script} --location_id {location_id}",
    node_args=["location_id"],
    op_args=["python", "script"],
)
first = prepare.create_task(release=7)
models = [
    model.create_task(location_id=location, python=sys.executable,
                      script=os.environ["DOCS_SCRIPT"], max_attempts=1,
                      upstream_tasks=[first])
    for location in (1, 2, 3)
]

workflow = tool.create_workflow(name="my_workflow", workflow_args="v1")
workflow.add_tasks([first, *models])
resume = sys.argv[1] == "resume"
try:
    status = workflow.run(resume=resume)
except WorkflowAlreadyExists as error:
    print(f"refused: WorkflowAlreadyExists: {error}")
    sys.exit(3)
if status == WorkflowRunStatus.DONE:
    print("Workflow completed successfully!")
elif status == WorkflowRunStatus.ERROR:
    print("Workflow failed - check task statuses")
print(f"status: {status}; workflow_id={workflow.workflow_id}")
