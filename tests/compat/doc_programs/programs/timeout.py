# docsource/advanced/advanced_usage.rst, "Workflow Run Results and Exception Handling":
# "RuntimeError (timeout) - Exception raised - Workflow exceeded timeout", then the resume
# the page advises ("Increase timeout and resume to wait for completion").
# Changed: cluster, queue; the timeout is seconds, not hours.
import os
import sys

from jobmon.client.tool import Tool

tool = Tool(name="timeout_tool")
tool.set_default_compute_resources_from_dict(
    cluster_name=os.environ["DOCS_CLUSTER"], compute_resources={"queue": os.environ["DOCS_QUEUE"]})
template = tool.get_task_template(template_name="slow", command_template="sleep {seconds}",
                                  node_args=["seconds"])
workflow = tool.create_workflow(name="timeout_demo", workflow_args="timeout-demo")
workflow.add_task(template.create_task(seconds=int(os.environ["DOCS_SLEEP"])))
try:
    status = workflow.run(seconds_until_timeout=int(sys.argv[1]), resume=sys.argv[2] == "resume")
    print(f"status: {status}")
except RuntimeError as e:
    if "timeout" in str(e).lower():
        print(f"timed out: {type(e).__name__}")
    else:
        raise
