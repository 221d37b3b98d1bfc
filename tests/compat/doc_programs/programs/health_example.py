# IHME Jobmon's quickstart_health_example (docsource/), as a user writes it: a data-prep task,
# one task per location made with create_tasks, and a summary; the dependencies are wired
# with workflow.get_tasks_by_node_args; bind() first to learn the workflow id, then run().
# Every template names its queue, cores, memory, runtime, project and the stdout/stderr
# folders. Cluster, queue and folders come from DOCS_CLUSTER, DOCS_QUEUE and DOCS_DIR.
import os
import sys
import uuid

from jobmon.client.tool import Tool

cluster = os.environ["DOCS_CLUSTER"]
steps = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tasks",
                     "location_steps.py")
data_dir = os.path.join(os.environ["DOCS_DIR"], "quickstart", "data")
logs = os.path.join(os.environ["DOCS_DIR"], "logs")


def resources(cores, runtime):
    return {"queue": os.environ["DOCS_QUEUE"], "cores": cores, "memory": "1G",
            "runtime": runtime, "stdout": logs, "stderr": logs,
            "project": "my_slurm_account"}


tool = Tool(name="quickstart_tool_python")
workflow = tool.create_workflow(name=f"quickstart_workflow_{uuid.uuid4()}")

prepare = tool.get_task_template(
    template_name="quickstart_data_prep_template",
    default_cluster_name=cluster,
    default_compute_resources=resources(1, "1m"),
    command_template=f"{sys.executable} {steps} prepare --location_set_id {{location_set_id}} "
                     "--root_data_dir {root_data_dir} --log_level {log_level}",
    node_args=[],
    task_args=["location_set_id", "root_data_dir"],
    op_args=["log_level"],
)
by_location = tool.get_task_template(
    template_name="quickstart_location_template",
    default_cluster_name=cluster,
    default_compute_resources=resources(2, "10m"),
    command_template=f"{sys.executable} {steps} location --location_id {{location_id}} "
                     "--root_data_dir {root_data_dir} --log_level {log_level}",
    node_args=["location_id"],
    task_args=["root_data_dir"],
    op_args=["log_level"],
)
summarize = tool.get_task_template(
    template_name="quickstart_summarization_template",
    default_cluster_name=cluster,
    default_compute_resources=resources(2, "10m"),
    command_template=f"{sys.executable} {steps} summarize --root_data_dir {{root_data_dir}} "
                     "--log_level {log_level}",
    node_args=[],
    task_args=["root_data_dir"],
    op_args=["log_level"],
)

locations = list(range(5))
prep_task = prepare.create_task(name="data_prep_task", upstream_tasks=[],
                                root_data_dir=data_dir, location_set_id=len(locations),
                                log_level="DEBUG")
workflow.add_tasks([prep_task])
location_tasks = by_location.create_tasks(root_data_dir=data_dir, location_id=locations,
                                          log_level="DEBUG")
workflow.add_tasks(location_tasks)
summary_task = summarize.create_task(root_data_dir=data_dir, log_level="DEBUG")
workflow.add_tasks([summary_task])

for location in locations:
    found = workflow.get_tasks_by_node_args("quickstart_location_template",
                                            location_id=location)
    found[0].add_upstream(prep_task)
    summary_task.add_upstream(found[0])

workflow.bind()
print(f"Running workflow with ID {workflow.workflow_id}.")
status = workflow.run()
print(f"Workflow {workflow.workflow_id} completed with status {status}.")
print(open(os.path.join(data_dir, "summary.txt")).read().strip())
