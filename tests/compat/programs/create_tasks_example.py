"""docsource/create_tasks_example.py, the 'Arrays' example of advanced_usage.rst (adapted:
see README.md)."""
import sys  # adapted

from jobmon.client.api import Tool

cluster_name, script = sys.argv[1:3]  # adapted

tool = Tool(tool_name='my_example_tool')

example_task_template = tool.get_task_template(
    template_name="my_example_task_template",
    command_template=sys.executable + " " + script + " --loc_id {location_id}",  # adapted
    node_args=["location_id"],
    default_cluster_name=cluster_name,  # adapted: "slurm"
    default_compute_resources={"queue": "all.q"},
)

example_tasks = example_task_template.create_tasks(
    location_id=[1, 2, 3],
)

workflow = tool.create_workflow()
workflow.add_tasks(example_tasks)
print(workflow.run())  # adapted: prints the status the page leaves unused
