# docsource/quickstart_health_example.py: a three-phase fork-and-join workflow (data prep,
# one task per location, summarization) connected with get_tasks_by_node_args.
# Changed: cluster, queue, the scripts' paths and the data directory.
import getpass
import os
import sys
import uuid

from jobmon.client.tool import Tool

user = getpass.getuser()
wf_uuid = uuid.uuid4()
cluster = os.environ["DOCS_CLUSTER"]
steps = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tasks",
                     "location_steps.py")
resources = {
    "queue": os.environ["DOCS_QUEUE"],
    "cores": 1,
    "memory": "1G",
    "runtime": "1m",
    "stdout": os.environ["DOCS_DIR"],
    "stderr": os.environ["DOCS_DIR"],
    "project": "my_slurm_account",
}

# Create a tool
tool = Tool(name="quickstart_tool_python")

# Create a workflow, and set the executor
workflow = tool.create_workflow(
    name=f"quickstart_workflow_{wf_uuid}",
)

# Create task templates

data_prep_template = tool.get_task_template(
    default_compute_resources=resources,
    template_name="quickstart_data_prep_template",
    default_cluster_name=cluster,
    command_template=f"{sys.executable} {steps} prepare "
                     "--location_set_id {location_set_id} "
                     "--root_data_dir {root_data_dir} "
                     "--log_level {log_level}",
    node_args=[],
    task_args=["location_set_id", "root_data_dir"],
    op_args=["log_level"],
)

parallel_by_location_template = tool.get_task_template(
    default_compute_resources={**resources, "cores": 2, "runtime": "10m"},
    template_name="quickstart_location_template",
    default_cluster_name=cluster,
    command_template=f"{sys.executable} {steps} location "
                     "--location_id {location_id} "
                     "--root_data_dir {root_data_dir} "
                     "--log_level {log_level} ",
    node_args=["location_id"],
    task_args=["root_data_dir"],
    op_args=["log_level"],
)

summarization_template = tool.get_task_template(
    default_compute_resources={**resources, "cores": 2, "runtime": "10m"},
    template_name="quickstart_summarization_template",
    default_cluster_name=cluster,
    command_template=f"{sys.executable} {steps} summarize "
                     "--root_data_dir {root_data_dir} "
                     "--log_level {log_level}",
    node_args=[],
    task_args=["root_data_dir"],
    op_args=["log_level"],
)


# Create tasks
location_set_id = 5
location_set = list(range(location_set_id))
root_data_dir = os.path.join(os.environ["DOCS_DIR"], "quickstart", "data")

data_prep_task = data_prep_template.create_task(
    name="data_prep_task",
    upstream_tasks=[],
    root_data_dir=root_data_dir,
    location_set_id=location_set_id,
    log_level="DEBUG"
)
workflow.add_tasks([data_prep_task])

location_tasks = parallel_by_location_template.create_tasks(
    root_data_dir=root_data_dir,
    location_id=location_set,
    log_level="DEBUG"
)
workflow.add_tasks(location_tasks)

summarization_task = summarization_template.create_task(
    root_data_dir=root_data_dir,
    log_level="DEBUG"
)
workflow.add_tasks([summarization_task])

# Connect the dependencies. Notice the use of get_tasks_by_node_args

for loc_id in location_set:
    foo = {"location_id": loc_id}
    single_task = workflow.get_tasks_by_node_args("quickstart_location_template", **foo)
    # Notice it returns a set. Should only be one
    single_task[0].add_upstream(data_prep_task)
    summarization_task.add_upstream(single_task[0])

# Calling workflow.bind() first just so that we can get the workflow id
workflow.bind()
print("Workflow creation complete.")
print(f"Running workflow with ID {workflow.workflow_id}.")

# run workflow
status = workflow.run()
print(f"Workflow {workflow.workflow_id} completed with status {status}.")
print(open(os.path.join(root_data_dir, "summary.txt")).read().strip())
