# docsource/advanced/task_generator.rst, step by step: a single task, a task array, a custom
# type with its serializer, special characters, a custom naming function, and a generator
# with default cluster and resources.
# Changed: cluster, queue, tool name, and a "stdout" folder in the compute resources so the
# functions' prints can be read back. The page's own slips, broken in IHME Jobmon too: it
# passes the workflow as create_task's first argument (accepted here: the workflow's cluster
# applies), and adds `task_array` (undefined) with wf.add_task_array (use add_tasks).
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tasks"))

from jobmon.client.api import Tool  # noqa: E402
from jobmon.core import task_generator  # noqa: E402

import generator_funcs  # noqa: E402
from generator_funcs import (  # noqa: E402
    TestYear,
    custom_named_function,
    defaults_function,
    simple_function,
    simple_function_with_serializer,
    special_chars_function,
)

cluster = os.environ["DOCS_CLUSTER"]
queue = os.environ["DOCS_QUEUE"]
logs = os.path.join(os.environ["DOCS_DIR"], "logs")

tool = Tool("doc_generator_tool")
tool.set_default_compute_resources_from_dict(
    cluster_name=cluster, compute_resources={"queue": queue}
)
wf = tool.create_workflow()
compute_resources = {"queue": queue, "project": "proj_scicomp", "stdout": logs}

# a single task
task = simple_function.create_task(wf, foo=1, bar=["a", "b"], compute_resources=compute_resources)
wf.add_task(task)

# a task array
tasks = simple_function.create_tasks(compute_resources=compute_resources, foo=[2, 3],
                                     bar=[["a", "b"]])
wf.add_tasks(tasks)

# a complex input type
task = simple_function_with_serializer.create_task(wf,
           year=TestYear(2021),
           compute_resources=compute_resources)
wf.add_task(task)

# special characters
simple = generator_funcs.special_chars_function
task = simple.create_task(compute_resources=compute_resources, foo=f"\'aaa\'")
wf.add_task(task)

# a custom naming function
task = custom_named_function.create_task(compute_resources=compute_resources, foo=7)
wf.add_task(task)

# a generator with a default cluster name and compute resources: nothing to give
task = defaults_function.create_task(foo=5)
wf.add_task(task)

status = wf.run()
print(f"status: {status}")
for name in sorted(t.name for t in wf.tasks.values()):
    print(f"task: {name}")
print(
    "found:",
    [t.name for t in task_generator.get_tasks_by_node_args(wf, simple_function, {"foo": 2})],
)
print(simple_function.help())
