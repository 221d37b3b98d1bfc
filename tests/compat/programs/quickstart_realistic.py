"""docsource/getting_started/quickstart.rst, 'A More Realistic Example' and 'Running on a
Cluster' (adapted: see README.md)."""
import sys  # adapted

from jobmon.client.tool import Tool

cluster_name, scripts, output_dir = sys.argv[1:4]  # adapted
python = sys.executable  # adapted: "python" in the page

tool = Tool(name="location_processor")
tool.set_default_cluster_name(cluster_name)  # adapted: "slurm" in the page

# Template for processing one location
process_template = tool.get_task_template(
    template_name="process_location",
    command_template=python + " " + scripts + "/process.py --location {location_id} "  # adapted
                     "--output {output_dir}",
    node_args=["location_id"],
    op_args=["output_dir"],
)

# Template for aggregating results
aggregate_template = tool.get_task_template(
    template_name="aggregate",
    command_template=python + " " + scripts + "/aggregate.py --input {output_dir}",  # adapted
    op_args=["output_dir"],
)

workflow = tool.create_workflow(
    name="process_all_locations",
    workflow_args="v1_2024"
)

locations = [1, 2, 3, 4, 5]
# output_dir = "/path/to/output"  # adapted: from the command line

# Create a task for each location
process_tasks = []
for loc_id in locations:
    task = process_template.create_task(
        name=f"process_{loc_id}",
        location_id=loc_id,
        output_dir=output_dir,
        compute_resources={
            "cores": 2,
            "memory": "8G",
            "runtime": "1h",
        }
    )
    process_tasks.append(task)

# Create aggregation task that depends on all process tasks
agg_task = aggregate_template.create_task(
    name="aggregate_results",
    output_dir=output_dir,
    compute_resources={
        "cores": 4,
        "memory": "16G",
        "runtime": "30m",
    }
)

# Aggregation depends on all processing tasks
for task in process_tasks:
    agg_task.add_upstream(task)

# 'Running on a Cluster': a task with the full set of resources, as the page shows it
hello = tool.get_task_template(
    template_name="echo_template", command_template="echo {message}", node_args=["message"])
task = hello.create_task(
    name="my_task",
    message="Hello",
    compute_resources={
        "cores": 1,
        "memory": "2G",
        "runtime": "10m",
        "queue": "all.q",
        "project": "proj_yourproject",
    }
)
agg_task.add_upstream(task)  # adapted: the page runs it on its own

# Add all tasks and run
workflow.add_tasks(process_tasks + [agg_task, task])  # adapted: + task
status = workflow.run()
print(f"Workflow completed with status: {status}")
