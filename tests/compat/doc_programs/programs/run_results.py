# docsource/advanced/advanced_usage.rst, "Workflow Run Results and Exception Handling", and
# docsource/user_guide/monitoring.rst, "Programmatic Access" (results, error logs).
# Changed: cluster, queue; the page's run(timeout=7200) is written run(seconds_until_timeout=
# 7200), run()'s real keyword in IHME Jobmon 3.6 as here. DOCS_FAIL=1 adds a failing task.
import os

from jobmon.client.tool import Tool
from jobmon.core.constants import WorkflowRunStatus
from jobmon.core.exceptions import DistributorNotAlive

tool = Tool(name="my_tool")
tool.set_default_compute_resources_from_dict(
    cluster_name=os.environ["DOCS_CLUSTER"], compute_resources={"queue": os.environ["DOCS_QUEUE"]})
workflow = tool.create_workflow(name="my_workflow", workflow_args="example")
template = tool.get_task_template(template_name="step", command_template="{arg}",
                                  node_args=["arg"])
# ... add tasks ...
workflow.add_tasks([template.create_task(arg=f"echo {i}") for i in range(3)])
if os.environ.get("DOCS_FAIL") == "1":
    workflow.add_task(template.create_task(arg="echo broken >&2; exit 3", max_attempts=1))

try:
    result = workflow.run(seconds_until_timeout=7200)  # 2 hour timeout

    # Check the result status
    if result.final_status == WorkflowRunStatus.DONE:
        print(f"Success! {result.done_count}/{result.total_tasks} tasks completed")
        print(f"Elapsed time: {result.elapsed_time:.1f} seconds")

    elif result.final_status == WorkflowRunStatus.ERROR:
        print(f"Workflow failed: {result.failed_count} tasks failed")
        # You can inspect individual task failures
        for task_id in result.failed_task_ids:
            print(f"  Task {task_id} failed with status: {result.task_final_statuses[task_id]}")

    elif result.final_status == WorkflowRunStatus.TERMINATED:
        print("Workflow was terminated - a resume was requested elsewhere")

    errors = workflow.get_errors(limit=100)
    for task_id, error_msg in errors.items():
        print(f"Task {task_id}: {error_msg}")

except DistributorNotAlive:
    print("CRITICAL: Distributor process died unexpectedly!")

except RuntimeError as e:
    if "timeout" in str(e).lower():
        print(f"Workflow timed out after {7200} seconds")
    else:
        raise  # Unexpected RuntimeError

except KeyboardInterrupt:
    print("Workflow stopped by user")
