# docsource/create_tasks_example.py (advanced_usage.rst, "Arrays").
# Changed: cluster, queue and the script path. The page writes Tool(tool_name=...), which
# IHME Jobmon 3.6 itself rejects (its argument is name); it is accepted here.
import os

from jobmon.client.api import Tool

script = os.path.join(os.environ["DOCS_DIR"], "model_script.py")
with open(script, "w") as f:
    f.write("import sys; print('model for', sys.argv[-1])\n")

tool = Tool(tool_name='my_example_tool')

example_task_template = tool.get_task_template(
    template_name="my_example_task_template",
    command_template=f"python3 {script} --loc_id {{location_id}}",
    node_args=["location_id"],
    default_cluster_name=os.environ["DOCS_CLUSTER"],
    default_compute_resources={"queue": os.environ["DOCS_QUEUE"]},
)

example_tasks = example_task_template.create_tasks(
    location_id=[1, 2, 3],
)

workflow = tool.create_workflow()
workflow.add_tasks(example_tasks)
status = workflow.run()
print(f"status: {status}; tasks: {len(example_tasks)}")
