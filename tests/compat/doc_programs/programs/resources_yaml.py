# docsource/user_guide/compute_resources.rst: "Resource Hierarchy" and "YAML Configuration",
# with docsource/user_guide/core_concepts.rst "YAML Configuration Files".
# Changed: cluster (DOCS_CLUSTER), queue (DOCS_QUEUE), paths (DOCS_DIR).
import os

from jobmon.client.tool import Tool

cluster = os.environ["DOCS_CLUSTER"]
queue = os.environ["DOCS_QUEUE"]
resources_yaml = os.path.join(os.environ["DOCS_DIR"], "resources.yaml")
with open(resources_yaml, "w") as f:
    f.write(f"""
# resources.yaml
task_template_resources:
  process_template:
    {cluster}:
      cores: 2
      memory: "8G"
      runtime: 3600
      queue: "{queue}"
""")

tool = Tool(name="my_application")

# Set defaults at tool level
tool.set_default_compute_resources_from_dict(
    cluster_name=cluster,
    compute_resources={
        "queue": queue,
        "project": "proj_scicomp"
    }
)

template = tool.get_task_template(
    template_name="process_template",
    command_template="echo {input_file} {output_file}",
    node_args=["input_file"],
    task_args=["output_file"],
    op_args=[],
    default_cluster_name=cluster,
    yaml_file=resources_yaml,
)

# Override at task level
task = template.create_task(
    compute_resources={"memory": "32G"},  # Override memory only
    input_file="/data/loc_1.csv",
    output_file="/output/loc_1.csv",
)
other = template.create_task(input_file="/data/loc_2.csv", output_file="/output/loc_2.csv")

workflow = tool.create_workflow(name="my_workflow", workflow_args="version_1")
workflow.add_tasks([task, other])
status = workflow.run()
print(f"status: {status}")
