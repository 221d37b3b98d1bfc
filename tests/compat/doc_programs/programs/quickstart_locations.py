# docsource/getting_started/quickstart.rst, "A More Realistic Example".
# Changed: cluster (DOCS_CLUSTER), the scripts' paths and the output directory (DOCS_DIR).
import os
import sys

from jobmon.client.tool import Tool

here = os.path.dirname(os.path.abspath(__file__))
steps = os.path.join(os.path.dirname(here), "tasks", "location_steps.py")

tool = Tool(name="location_processor")
tool.set_default_cluster_name(os.environ["DOCS_CLUSTER"])

# Template for processing one location
process_template = tool.get_task_template(
    template_name="process_location",
    command_template=f"{sys.executable} {steps} location --location_id {{location_id}} "
                     "--root_data_dir {output_dir}",
    node_args=["location_id"],
    op_args=["output_dir"],
)

# Template for aggregating results
aggregate_template = tool.get_task_template(
    template_name="aggregate",
    command_template=f"{sys.executable} {steps} summarize --root_data_dir {{output_dir}}",
    op_args=["output_dir"],
)

workflow = tool.create_workflow(
    name="process_all_locations",
    workflow_args="v1_2024"
)

locations = [1, 2, 3, 4, 5]
output_dir = os.environ["DOCS_DIR"]
for loc_id in locations:  # the inputs the location step reads
    with open(os.path.join(output_dir, f"input_{loc_id}.json"), "w") as f:
        f.write('{"value": %d}' % loc_id)

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

# Add all tasks and run
workflow.add_tasks(process_tasks + [agg_task])
status = workflow.run()
print(f"Workflow completed with status: {status}")
