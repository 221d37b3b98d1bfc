# docsource/advanced/advanced_usage.rst, "Resource Retry" and "Custom Resource Scales".
# Changed: cluster, queue, and the times scaled down (runtime 90s/sleep 110 become
# DOCS_RUNTIME/DOCS_SLEEP) so a test finishes in seconds; DOCS_SCALES picks the page's
# default 50% scaling ("default") or its iterator of absolute runtimes ("iterator").
import os

from jobmon.client.tool import Tool

# The Task will time out and get killed by the cluster. Jobmon will scale the runtime
# and retry the job, at which point it will succeed.

runtime = int(os.environ["DOCS_RUNTIME"])
sleep = int(os.environ["DOCS_SLEEP"])

tool = Tool(name="resource_resume_tutorial")

wf = tool.create_workflow(name="resource_resume_wf", workflow_args="wf_with_resource_retries")

retry_tt = tool.get_task_template(
    template_name="resource_retry_tutorial_template",
    command_template="{arg}",
    node_args=["arg"],
    task_args=[],
    op_args=[]
)

if os.environ["DOCS_SCALES"] == "iterator":
    retry_task = retry_tt.create_task(
                        arg=f"sleep {sleep}",
                        name="retry_task",
                        # job should succeed on third try.
                        max_attempts=3,
                        compute_resources={
                            'cores': 1,
                            'runtime': f'{runtime}s',
                            'memory': '1Gb',
                            'queue': os.environ["DOCS_QUEUE"],
                            'project': 'proj_scicomp'},
                        resource_scales={"runtime": iter([runtime + 1, sleep * 3])},
                        cluster_name=os.environ["DOCS_CLUSTER"]
                    )
else:
    retry_task = retry_tt.create_task(
                        arg=f"sleep {sleep}",
                        name="retry_task",
                        # job should succeed on second try.
                        max_attempts=2,
                        compute_resources={
                            'cores': 1,
                            'runtime': f'{runtime}s',
                            'memory': '1Gb',
                            'queue': os.environ["DOCS_QUEUE"],
                            'project': 'proj_scicomp'},
                        cluster_name=os.environ["DOCS_CLUSTER"]
                    )

wf.add_task(retry_task)

status = wf.run()
print(f"status: {status}")
