# docsource/advanced/advanced_usage.rst, "Concurrency Limiting": a workflow limit set
# statically, and a task template's limit. Each task records when it starts and ends, so the
# test can check that no more than 2 of them ever ran at once.
# Changed: cluster, queue; sleep {i} is 0.3 s, and each task logs its start and end.
import os

from jobmon.client.tool import Tool

log = os.path.join(os.environ["DOCS_DIR"], "intervals.log")

tool = Tool(name="example_concurrency_tt_tool")
tool.set_default_compute_resources_from_dict(
    cluster_name=os.environ["DOCS_CLUSTER"], compute_resources={"queue": os.environ["DOCS_QUEUE"]})

task_template = tool.get_task_template(
      template_name="concurrency_limit_task_template",
      command_template="{arg}",
      node_args=["arg"],
      task_args=[],
      op_args=[],
)
workflow = tool.create_workflow(
    name=f"template_workflow",
    max_concurrently_running=2000
)
tasks = []
for i in range(8):
      task = task_template.create_task(
          arg=f"echo start $(date +%s.%N) >> {log}; sleep 0.3; echo end $(date +%s.%N) >> {log}"
              f" # {i}")
      tasks.append(task)
workflow.add_tasks(tasks)
# Setting the concurrency limit it of the "concurrency_limit_task_template" to 2
workflow.set_task_template_max_concurrency_limit(task_template_name=task_template.template_name,
                                                 limit=2)
status = workflow.run()
print(f"status: {status}")
