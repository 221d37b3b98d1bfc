# dev/workflows/six_job_test.py with dev/workflows/six_job_test_resources.yaml: the smoke
# test IHME runs on a new deployment (six tasks in four tiers, resources from YAML with
# set_task_templates and ignore_missing_keys, configure_client_logging first).
# Changed: cluster (argv[1]), queue and paths in the YAML, and the sleeps (10-25 s) cut to
# about a second each.
import os
import sys
import uuid

from jobmon.client.api import Tool
from jobmon.client.logging import configure_client_logging


def get_task_template(tool, template_name):
    tt = tool.get_task_template(
        template_name=template_name,
        command_template="{command}",
        node_args=['command']
    )
    return tt


def write_resources_yaml(cluster_name: str) -> str:
    path = os.path.join(os.environ["DOCS_DIR"], "six_job_test_resources.yaml")
    queue = os.environ["DOCS_QUEUE"]
    # the page's file also holds resources of a second cluster; keys are cluster names
    other = "" if cluster_name == "sequential" else f'  sequential:\n    queue: "{queue}"\n'
    with open(path, "w") as f:
        f.write(f"""tool_resources:
  {cluster_name}:
    memory: 1
    cores: 1
    runtime: 60
    project: 'proj_scicomp'
    queue: '{queue}'
    stderr: '{os.environ["DOCS_DIR"]}'
    stdout: '{os.environ["DOCS_DIR"]}'
{other}task_template_resources:
  phase_1:
    buster:
      queue: 'long.q'
      runtime: 90_000
    {cluster_name}:
      queue: '{queue}'
      runtime: 90_000
""")
    return path


def six_job_test(cluster_name: str, wf_id_file: str = None):
    """
    Creates and runs one workflow with six jobs. Used to 'smoke test' a
    new deployment of jobmon.
    """
    # Configure client logging first to enable OTLP logging from the start
    configure_client_logging()

    tool = Tool(name=f"Jackalope alpha testing - {cluster_name}")

    t1 = get_task_template(tool, "phase_1").create_task(
        name='t1',
        command="sleep 1"
    )

    # Second Tier, both depend on first tier
    t2 = get_task_template(tool, "phase_2").create_task(
        name='t2',
        command="sleep 1.2",
        upstream_tasks=[t1]
    )

    t3 = get_task_template(tool, "phase_2").create_task(
        name='t3',
        command="sleep 1.5",
        upstream_tasks=[t1]
    )

    # Third Tier, cross product dependency on second tier
    t4 = get_task_template(tool, "phase_3").create_task(
        name='t4',
        command="sleep 1.7",
        upstream_tasks=[t2, t3]
    )

    t5 = get_task_template(tool, "phase_3").create_task(
        name='t5',
        command="sleep 1.3",
        upstream_tasks=[t2, t3]
    )

    # Fourth Tier, ties it all back together
    t6 = get_task_template(tool, "phase_4").create_task(
        name='t6',
        command="sleep 1.9",
        upstream_tasks=[t4, t5]
    )

    tool.set_default_compute_resources_from_yaml(
        default_cluster_name=cluster_name,
        yaml_file=write_resources_yaml(cluster_name),
        set_task_templates=True,
        ignore_missing_keys=True
    )

    wf = tool.create_workflow(
        workflow_args="six-job-test-{}".format(uuid.uuid4()),
        name='six_job_test')
    wf.add_tasks([t1, t2, t3, t4, t5, t6])
    print("Running the workflow, about 70 seconds minimum")
    wfr_status = wf.run()
    print(f"workflow_id={wf.workflow_id}")
    if wf_id_file is not None:
        f = open(wf_id_file, "w")
        f.write(str(wf.workflow_id))
        f.close()
    if wfr_status == 'D':
        print("All good, dancing pixies, with the following workflow_id.")
        print(f"workflow_id={wf.workflow_id}")
    else:
        raise ValueError(f"Workflow should be successful, not state {wfr_status}")


if __name__ == "__main__":
    cluster_name = sys.argv[1]
    wf_id_file = None
    if len(sys.argv) > 2:
        wf_id_file = sys.argv[2]
    six_job_test(cluster_name, wf_id_file)
