# docsource/advanced/advanced_usage.rst, "Dynamic Task Resources".
# Changed: cluster, queue, paths; the page's typo compute_resouces= is compute_resources=,
# and wf.add_task(task1, task2) is wf.add_tasks([task1, task2]) (the page's call is an error
# in IHME Jobmon too); the upstream task writes the resources file the callable reads.
import ast
import os
import sys

from jobmon.client.tool import Tool

fp = os.path.join(os.environ["DOCS_DIR"], "resources.txt")
queue = os.environ["DOCS_QUEUE"]


def assign_resources(*args, **kwargs):
    """ Callable to be evaluated when the task is ready to be scheduled
    to run"""
    with open(fp, "r") as file:
        resources = file.read()
        resource_dict = ast.literal_eval(resources)
    memory = resource_dict['memory']
    runtime = int(resource_dict['runtime'])
    cores = int(resource_dict['cores'])
    queue = resource_dict['queue']

    compute_resources = {"memory": memory, "runtime": runtime, "cores": cores,
                        "queue": queue}
    return compute_resources


tool = Tool(name="dynamic_tool")

dynamic_tt = tool.get_task_template(
            template_name="random_template",
            command_template="{python} {script}",
            node_args=[],
            task_args=[],
            op_args=["python", "script"],
            default_cluster_name=os.environ["DOCS_CLUSTER"])
tt = tool.get_task_template(template_name="simple", command_template="{arg}", node_args=["arg"],
                            default_cluster_name=os.environ["DOCS_CLUSTER"])

assign_script = os.path.join(os.environ["DOCS_DIR"], "assign_resources.py")
with open(assign_script, "w") as f:
    f.write(f"open({fp!r}, 'w').write(repr({{'memory': '600M', 'runtime': 120, "
            f"'cores': 1, 'queue': {queue!r}}}))\n")

# task with static resources that assigns the resources for the 2nd task
# when it runs
wf = tool.create_workflow(name="dynamic_tasks", workflow_args="dynamic")
task1 = dynamic_tt.create_task(
                    name="task_to_assign_resources",
                    python=sys.executable,
                    script=assign_script,
                    compute_resources={
                        'cores': 1,
                        'runtime': '200s',
                        'memory': '1Gb',
                        'queue': queue,
                        'project': 'proj_scicomp'},
                    max_attempts=1,
                )
task2 = tt.create_task(
            name="dynamic_resource_task",
            arg="echo hello",
            max_attempts=2,
            compute_resources=assign_resources
        )
task2.add_upstream(task1) # make task2 dependent on task 1

wf.add_tasks([task1, task2])
wfr_status = wf.run()
print(f"status: {wfr_status}")
