# docsource/advanced/advanced_usage.rst, "Retries" / "Ordinary Retry".
# Changed: cluster, queue, paths; the page's unquoted names and broken quotes are fixed.
import getpass
import os

from jobmon.client.tool import Tool

user = getpass.getuser()

tool = Tool(name="ordinary_resume_tutorial")

wf = tool.create_workflow(name="ordinary_resume_wf", workflow_args="wf_with_many_retries")

retry_tt = tool.get_task_template(
    template_name="retry_tutorial_template",
    command_template="{arg}",
    node_args=["arg"],
    task_args=[],
    op_args=[]
)
output_file_name = os.path.join(os.environ["DOCS_DIR"], "retry_output")
this_file = os.path.dirname(__file__)
remote_sleep_and_write = os.path.abspath(
    os.path.expanduser(f"{this_file}/../tasks/sleep_and_write.py")
)
retry_task = retry_tt.create_task(
    name="retry_task",
    max_attempts=4,
    compute_resources={
        'cores': 1,
        'runtime': '100s',
        'memory': '1Gb',
        'queue': os.environ["DOCS_QUEUE"],
        'project': 'proj_scicomp',
    },
    cluster_name=os.environ["DOCS_CLUSTER"],
    arg=f"python3 {remote_sleep_and_write} --sleep_secs 1 --output_file_path {output_file_name} --name retry_task --fail-count 3"

)

wf.add_task(retry_task)

# 3 TaskInstances will fail before ultimately succeeding
workflow_run_status = wf.run()
print(f"status: {workflow_run_status}")
print(open(output_file_name).read().strip())
