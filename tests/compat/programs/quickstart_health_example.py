"""docsource/quickstart_health_example.py (adapted: see README.md)."""
import getpass
import sys  # adapted
import uuid

from jobmon.client.tool import Tool

cluster_name, code_dir, root_data_dir, log_dir = sys.argv[1:5]  # adapted
python = sys.executable  # adapted: "python"

user = getpass.getuser()
wf_uuid = uuid.uuid4()

# Create a tool
tool = Tool(name="quickstart_tool_python")

# Create a workflow, and set the executor
workflow = tool.create_workflow(
    name=f"quickstart_workflow_{wf_uuid}",
)

# Create task templates

data_prep_template = tool.get_task_template(
    default_compute_resources={
        "queue": "all.q",
        "cores": 1,
        "memory": "1G",
        "runtime": "1m",
        "stdout": log_dir,  # adapted: "/tmp"
        "stderr": log_dir,  # adapted: "/tmp"
        "project": "my_slurm_account",
    },
    template_name="quickstart_data_prep_template",
    default_cluster_name=cluster_name,  # adapted: "slurm"
    command_template=python + " "  # adapted
                     f"{code_dir}/quickstart_tasks/data_prep.py "  # adapted
                     "--location_set_id {location_set_id} "
                     "--root_data_dir {root_data_dir} "
                     "--log_level {log_level}",
    node_args=[],
    task_args=["location_set_id", "root_data_dir"],
    op_args=["log_level"],
)

parallel_by_location_template = tool.get_task_template(
    default_compute_resources={
        "queue": "all.q",
        "cores": 2,
        "memory": "1G",
        "runtime": "10m",
        "stdout": log_dir,  # adapted: "/tmp"
        "stderr": log_dir,  # adapted: "/tmp"
        "project": "my_slurm_account"
    },
    template_name="quickstart_location_template",
    default_cluster_name=cluster_name,  # adapted: "slurm"
    command_template=python + " "  # adapted
                     f"{code_dir}/quickstart_tasks/one_location.py "  # adapted
                     "--location_id {location_id} "
                     "--root_data_dir {root_data_dir} "
                     "--log_level {log_level} ",
    node_args=["location_id"],
    task_args=["root_data_dir"],
    op_args=["log_level"],
)

summarization_template = tool.get_task_template(
    default_compute_resources={
        "queue": "all.q",
        "cores": 2,
        "memory": "1G",
        "runtime": "10m",
        "stdout": log_dir,  # adapted: "/tmp"
        "stderr": log_dir,  # adapted: "/tmp"
        "project": "my_slurm_account"
    },
    template_name="quickstart_summarization_template",
    default_cluster_name=cluster_name,  # adapted: "slurm"
    command_template=python + f" {code_dir}/quickstart_tasks/summarization.py "  # adapted
                     "--root_data_dir {root_data_dir} "
                     "--log_level {log_level}",
    node_args=[],
    task_args=["root_data_dir"],
    op_args=["log_level"],
)


# Create tasks
location_set_id = 5
location_set = list(range(location_set_id))
# root_data_dir = f"/home/{user}/quickstart/data"  # adapted: from the command line

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
print("If you have a Jobmon GUI deployed, see the Jobmon GUI for full information:")
print(f"https://jobmon-gui.mydomain.com/#/workflow/{workflow.workflow_id}")


# run workflow
status = workflow.run()
print(f"Workflow {workflow.workflow_id} completed with status {status}.")
