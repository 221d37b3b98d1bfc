# The deployment smoke test of IHME Jobmon's dev/workflows (six_job_test.py and its resources
# YAML), as a user writes it: six tasks in four tiers, one template per tier, resources read
# from a YAML file with set_task_templates and ignore_missing_keys, configure_client_logging
# first. Usage: six_job_smoke.py CLUSTER [WORKFLOW_ID_FILE]. Queue and folders come from
# DOCS_QUEUE and DOCS_DIR; the tasks sleep about a second instead of 10-25 s.
import os
import sys
import uuid

from jobmon.client.api import Tool
from jobmon.client.logging import configure_client_logging

cluster = sys.argv[1]
queue = os.environ["DOCS_QUEUE"]
logs = os.path.join(os.environ["DOCS_DIR"], "logs")
os.makedirs(logs, exist_ok=True)

resource_file = os.path.join(os.environ["DOCS_DIR"], "six_job_resources.yaml")
other_cluster = "" if cluster == "sequential" else "  sequential:\n    queue: null.q\n"
with open(resource_file, "w") as f:
    f.write(
        "tool_resources:\n"
        f"  {cluster}:\n"
        "    memory: 1\n"           # a bare number: GiB
        "    cores: 1\n"
        "    runtime: 60\n"          # seconds
        "    project: proj_scicomp\n"
        f"    queue: {queue}\n"
        f"    stdout: {logs}\n"
        f"    stderr: {logs}\n"
        f"{other_cluster}"
        "task_template_resources:\n"
        "  phase_1:\n"
        "    buster:\n"
        "      queue: long.q\n"
        "      runtime: 90_000\n"
        f"    {cluster}:\n"
        f"      queue: {os.environ.get('DOCS_LONG_QUEUE', queue)}\n"
        "      runtime: 90_000\n"
    )

configure_client_logging()
tool = Tool(name=f"six job smoke test - {cluster}")


def tier(name):
    return tool.get_task_template(template_name=name, command_template="{command}",
                                  node_args=["command"])


t1 = tier("phase_1").create_task(name="t1", command="sleep 1")
t2 = tier("phase_2").create_task(name="t2", command="sleep 1.2", upstream_tasks=[t1])
t3 = tier("phase_2").create_task(name="t3", command="sleep 1.5", upstream_tasks=[t1])
t4 = tier("phase_3").create_task(name="t4", command="sleep 1.7", upstream_tasks=[t2, t3])
t5 = tier("phase_3").create_task(name="t5", command="sleep 1.3", upstream_tasks=[t2, t3])
t6 = tier("phase_4").create_task(name="t6", command="sleep 1.9", upstream_tasks=[t4, t5])

tool.set_default_compute_resources_from_yaml(
    default_cluster_name=cluster,
    yaml_file=resource_file,
    set_task_templates=True,
    ignore_missing_keys=True,
)

workflow = tool.create_workflow(workflow_args=f"six-job-test-{uuid.uuid4()}",
                                name="six_job_test")
workflow.add_tasks([t1, t2, t3, t4, t5, t6])
status = workflow.run()
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as f:
        f.write(str(workflow.workflow_id))
if status != "D":
    raise ValueError(f"the smoke test should end D, not {status}")
print(f"smoke test passed: workflow_id={workflow.workflow_id}")
