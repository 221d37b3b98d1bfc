# docsource/getting_started/quickstart.rst, "Your First Workflow", as a user types it.
# Changed: the cluster name comes from DOCS_CLUSTER.
import os

from jobmon.client.tool import Tool

# 1. Create a Tool (identifies your application)
tool = Tool(name="quickstart_tutorial")
tool.set_default_cluster_name(os.environ["DOCS_CLUSTER"])  # Run locally for this demo

# 2. Create a TaskTemplate (pattern for tasks)
template = tool.get_task_template(
    template_name="echo_template",
    command_template="echo {message}",
    node_args=["message"],
)

# 3. Create a Workflow
workflow = tool.create_workflow(
    name="my_first_workflow",
    workflow_args="quickstart_v1"
)

# 4. Create Tasks from the template
task1 = template.create_task(
    name="say_hello",
    message="Hello from Jobmon!"
)

task2 = template.create_task(
    name="say_goodbye",
    message="Goodbye from Jobmon!"
)

# 5. Set dependencies (task2 waits for task1)
task2.add_upstream(task1)

# 6. Add tasks to workflow
workflow.add_tasks([task1, task2])

# 7. Run the workflow
status = workflow.run()
print(f"Workflow completed with status: {status}")
