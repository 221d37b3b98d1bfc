"""Tool, TaskTemplate, Task, Array and Workflow: checks made before anything is sent."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from jobmon.client.array import Array
from jobmon.client.prepare import prepare
from jobmon.client.task import Task
from jobmon.client.task_template import TaskTemplate
from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow
from jobmon.errors import (
    CyclicGraphError,
    DuplicateNodeArgsError,
    DuplicateTaskError,
    EmptyWorkflowError,
    InvalidCommandTemplate,
    InvalidResources,
    InvalidWorkflow,
    MissingUpstreamError,
)

COMMAND = "python model.py --loc {location_id} --year {year} --out {out_dir}"


@pytest.fixture
def tool() -> Tool:
    return Tool(name="burden")


@pytest.fixture
def template(tool: Tool) -> TaskTemplate:
    return tool.get_task_template(
        template_name="model", command_template=COMMAND, node_args=["location_id"],
        task_args=["year"], op_args=["out_dir"], default_cluster_name="local")


def make_task(template: TaskTemplate, location_id: Any = 1, **options: Any) -> Task:
    return template.create_task(location_id=location_id, year=2020, out_dir="/tmp/o",
                                **options)


def workflow_of(tool: Tool, *tasks: Task, **options: Any) -> Workflow:
    workflow = tool.create_workflow(name="w", workflow_args="w-1", **options)
    workflow.add_tasks(tasks)
    return workflow


# ------------------------------------------------------------------ command templates


def test_a_name_no_arg_list_declares_is_required_but_not_identity(tool: Tool) -> None:
    # as in Jobmon: the command's names must all be given; only node and task args identify
    template = tool.get_task_template(template_name="t", command_template="run {loc} {year}",
                                      node_args=["loc"])
    with pytest.raises(InvalidCommandTemplate, match="needs year, which was not given"):
        template.create_task(loc=1)
    first, second = template.create_task(loc=1, year=1), template.create_task(loc=1, year=2)
    assert first.command == "run 1 1" and second.command == "run 1 2"
    assert first == second and first.op_args == {"year": 1}


def test_declared_but_unused_arg_is_refused(tool: Tool) -> None:
    with pytest.raises(InvalidCommandTemplate, match=r"seed.*declared but not used"):
        tool.get_task_template(template_name="t", command_template="run {loc}",
                               node_args=["loc"], task_args=["seed"])


@pytest.mark.parametrize(
    ("command", "node_args"),
    [("run {loc", ["loc"]), ("run {0}", []), ("run {}", []), ("run {a.b}", ["a"]),
     ("run {a[0]}", ["a"])],
)
def test_malformed_command_templates_are_refused(tool: Tool, command: str,
                                                 node_args: list[str]) -> None:
    with pytest.raises(InvalidCommandTemplate):
        tool.get_task_template(template_name="t", command_template=command,
                               node_args=node_args)


@pytest.mark.parametrize(("command", "year", "expected"),
                         [("run {year:04d}", 7, "run 0007"), ("run {year!r}", "x", "run 'x'"),
                          ("run {year:>4}", 7, "run    7")])
def test_format_specs_and_conversions_work_as_in_str_format(
        tool: Tool, command: str, year: object, expected: str) -> None:
    template = tool.get_task_template(template_name="t", command_template=command,
                                      node_args=["year"])
    assert template.create_task(year=year).command == expected


def test_a_value_a_format_spec_cannot_format_is_a_clear_error(tool: Tool) -> None:
    template = tool.get_task_template(template_name="t", command_template="run {year:04d}",
                                      node_args=["year"])
    with pytest.raises(InvalidCommandTemplate, match=r"year='abc'.*Unknown format code"):
        template.create_task(year="abc")


@pytest.mark.parametrize("command", ["", "   ", "{a}"])
def test_an_empty_command_is_refused_at_create_task(tool: Tool, command: str) -> None:
    node_args = ["a"] if "{a}" in command else []
    template = tool.get_task_template(template_name="t", command_template=command,
                                      node_args=node_args)
    with pytest.raises(InvalidCommandTemplate, match="the command is empty"):
        template.create_task(**dict.fromkeys(node_args, " "))


def test_arg_listed_twice_is_refused(tool: Tool) -> None:
    with pytest.raises(InvalidCommandTemplate, match="more than one"):
        tool.get_task_template(template_name="t", command_template="run {a}",
                               node_args=["a"], task_args=["a"])


def test_arg_named_like_a_task_option_is_refused(tool: Tool) -> None:
    with pytest.raises(InvalidCommandTemplate, match="reserved"):
        tool.get_task_template(template_name="t", command_template="run {name}",
                               node_args=["name"])


def test_literal_braces_are_kept(tool: Tool) -> None:
    template = tool.get_task_template(template_name="t", command_template="awk '{{print}}' {f}",
                                      node_args=["f"])
    assert template.create_task(f="x.txt").command == "awk '{print}' x.txt"


# ------------------------------------------------------------------ create_task


def test_create_task_fills_the_command_and_splits_the_args(template: TaskTemplate) -> None:
    task = make_task(template, location_id=7)
    assert task.command == "python model.py --loc 7 --year 2020 --out /tmp/o"
    assert task.node_args == {"location_id": 7}
    assert task.task_args == {"year": 2020}
    assert task.op_args == {"out_dir": "/tmp/o"}
    assert task.name == "model_location_id-7"  # node args only, as in Jobmon


def test_missing_arg_is_named(template: TaskTemplate) -> None:
    with pytest.raises(InvalidCommandTemplate, match="needs year, which was not given"):
        template.create_task(location_id=1, out_dir="/tmp/o")


def test_unknown_kwarg_is_named(template: TaskTemplate) -> None:
    with pytest.raises(InvalidCommandTemplate, match="no argument yaer"):
        template.create_task(location_id=1, year=2020, out_dir="/tmp/o", yaer=2021)


@pytest.mark.parametrize("value", ["sleep 110", "a b; echo c", "$(date)", "it's", "x > y", ""])
def test_values_go_into_the_command_as_they_are(tool: Tool, value: str) -> None:
    # as in Jobmon (str.format): the template and its values are the user's own shell text
    template = tool.get_task_template(template_name="echo", command_template="echo {text} end",
                                      node_args=["text"])
    assert template.create_task(text=value).command == f"echo {value} end"


def test_op_args_do_not_change_identity(template: TaskTemplate) -> None:
    first = make_task(template)
    second = template.create_task(location_id=1, year=2020, out_dir="/elsewhere")
    assert first.key == second.key
    assert first.command != second.command
    assert make_task(template, location_id=2).key != first.key
    assert template.create_task(location_id=1, year=2021, out_dir="/o").key != first.key


def test_malformed_memory_is_refused_at_create_task(template: TaskTemplate) -> None:
    with pytest.raises(InvalidResources, match="4 gigs"):
        make_task(template, compute_resources={"memory": "4 gigs"})


@pytest.mark.parametrize("max_attempts", [0, -1, 1.5, "3"])
def test_bad_max_attempts_is_refused(template: TaskTemplate, max_attempts: Any) -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        make_task(template, max_attempts=max_attempts)


def test_bad_resource_scales_are_refused_at_create_task(template: TaskTemplate) -> None:
    with pytest.raises(InvalidResources, match="resource_scales"):
        make_task(template, resource_scales={"memory": "half"})


def test_a_task_cannot_depend_on_itself(template: TaskTemplate) -> None:
    task = make_task(template)
    with pytest.raises(ValueError, match="itself"):
        task.add_upstream(task)


# ------------------------------------------------------------------ create_tasks


def test_create_tasks_makes_the_product_of_list_args(tool: Tool) -> None:
    template = tool.get_task_template(template_name="grid", command_template="run {a} {b} {c}",
                                      node_args=["a", "b"], task_args=["c"])
    tasks = template.create_tasks(a=[1, 2], b=["x", "y", "z"], c="fixed")
    assert isinstance(tasks, list)
    assert len(tasks) == 6
    assert sorted(task.command for task in tasks) == sorted(
        f"run {a} {b} fixed" for a in (1, 2) for b in "xyz")
    assert len({task.key for task in tasks}) == 6
    array = tasks[0].array
    assert isinstance(array, Array) and all(task.array is array for task in tasks)
    assert list(array) == tasks
    workflow = workflow_of(tool)
    added = workflow.add_tasks(tasks)
    assert len(added) == 6 and len(workflow.tasks) == 6


def test_create_tasks_expands_node_args_only(tool: Tool) -> None:
    # as in Jobmon: a list given for a task or op arg is one value, not choices
    template = tool.get_task_template(template_name="grid", command_template="run {a} {c}",
                                      node_args=["a"], task_args=["c"])
    tasks = template.create_tasks(a=range(3), c=[1, 2])
    assert [task.command for task in tasks] == [f"run {a} [1, 2]" for a in range(3)]


def test_array_tasks_share_upstreams_and_pass_prepare(tool: Tool,
                                                      template: TaskTemplate) -> None:
    first = make_task(template, location_id=0)
    array = template.create_tasks(location_id=[1, 2, 3], year=2020, out_dir="/o",
                                  upstream_tasks=[first])
    workflow = workflow_of(tool, first)
    workflow.add_tasks(array)
    prepared = prepare(workflow)
    assert len(prepared.tasks) == 4
    assert prepared.upstreams == [[], [0], [0], [0]]


# ------------------------------------------------------------------ workflow.add_task


def test_the_same_task_twice_is_refused(tool: Tool, template: TaskTemplate) -> None:
    first = make_task(template)
    workflow = workflow_of(tool, first)
    with pytest.raises(DuplicateTaskError, match="already in the workflow"):
        workflow.add_task(first)  # as in Jobmon, even the very same object
    with pytest.raises(DuplicateTaskError, match="same template, node args and task args"):
        workflow.add_task(template.create_task(location_id=1, year="2020", out_dir="/other"))
    assert len(workflow.tasks) == 1


def test_same_node_args_with_other_task_args_are_refused(tool: Tool,
                                                         template: TaskTemplate) -> None:
    workflow = workflow_of(tool, make_task(template, name="first"))
    with pytest.raises(DuplicateNodeArgsError, match="same node args as task 'first'"):
        workflow.add_task(template.create_task(location_id=1, year=2021, out_dir="/o"))


def test_add_task_refuses_other_objects(tool: Tool) -> None:
    with pytest.raises(TypeError, match="Task"):
        workflow_of(tool).add_task("not a task")


# ------------------------------------------------------------------ prepare: the graph


def test_cycle_is_refused_naming_its_tasks(tool: Tool, template: TaskTemplate) -> None:
    a = make_task(template, location_id=1, name="task_a")
    b = make_task(template, location_id=2, name="task_b", upstream_tasks=[a])
    c = make_task(template, location_id=3, name="task_c", upstream_tasks=[b])
    a.add_upstream(c)
    with pytest.raises(CyclicGraphError) as caught:
        prepare(workflow_of(tool, a, b, c))
    names = re.findall(r"'(task_\w)'", str(caught.value))
    assert sorted(names[:-1]) == ["task_a", "task_b", "task_c"]
    assert names[0] == names[-1]
    depends_on = {"task_b": "task_a", "task_c": "task_b", "task_a": "task_c"}
    for up, down in itertools.pairwise(names):  # the path follows the dependencies
        assert depends_on[down] == up


def test_missing_upstream_names_both_tasks(tool: Tool, template: TaskTemplate) -> None:
    upstream = make_task(template, location_id=1, name="loader")
    downstream = make_task(template, location_id=2, name="model", upstream_tasks=[upstream])
    with pytest.raises(MissingUpstreamError) as caught:
        prepare(workflow_of(tool, downstream))
    assert "'model'" in str(caught.value) and "'loader'" in str(caught.value)


def test_empty_workflow_is_refused(tool: Tool) -> None:
    with pytest.raises(EmptyWorkflowError, match="no tasks"):
        prepare(workflow_of(tool))


def test_no_cluster_anywhere_is_refused(tool: Tool) -> None:
    template = tool.get_task_template(template_name="t", command_template="run {a}",
                                      node_args=["a"])
    with pytest.raises(InvalidWorkflow, match="no cluster"):
        prepare(workflow_of(tool, template.create_task(a=1)))


def test_unknown_cluster_is_refused_where_it_is_named(tool: Tool,
                                                     template: TaskTemplate) -> None:
    with pytest.raises(InvalidResources, match="unknown cluster 'pbs'"):
        make_task(template, cluster_name="pbs")
    with pytest.raises(InvalidResources, match="unknown cluster 'slurmm': did you mean 'slurm'"):
        make_task(template, cluster_name="slurmm")
    with pytest.raises(InvalidResources, match="did you mean 'local'"):
        tool.set_default_cluster_name("lcoal")
    with pytest.raises(InvalidResources, match="did you mean 'sequential'"):
        tool.create_workflow(default_cluster_name="sequentail")


def test_resource_the_cluster_does_not_know_is_refused(tool: Tool,
                                                       template: TaskTemplate) -> None:
    task = make_task(template, compute_resources={"gres": "gpu:1"})
    with pytest.raises(InvalidResources, match="gres"):
        prepare(workflow_of(tool, task))


# ------------------------------------------------------------------ prepare: configs


def test_resource_precedence_task_template_workflow_tool(tool: Tool) -> None:
    tool.set_default_compute_resources_from_dict(
        "slurm", {"cores": 1, "memory": "1G", "runtime": "10m", "queue": "tool.q",
                  "project": "tool_p"})
    template = tool.get_task_template(
        template_name="t", command_template="run {a}", node_args=["a"],
        default_cluster_name="slurm",
        default_compute_resources={"memory": "3G", "runtime": "30m", "queue": "tmpl.q"})
    workflow = tool.create_workflow(
        name="w", workflow_args="w-2",
        default_compute_resources_set={"slurm": {"memory": "2G", "runtime": "20m",
                                                 "project": "wf_p", "cores": 2}})
    overridden = template.create_task(a=1, compute_resources={"memory": "4G"})
    plain = template.create_task(a=2)
    workflow.add_tasks([overridden, plain])
    prepared = prepare(workflow)
    first, second = (prepared.configs[prepared.config_index[i]] for i in range(2))
    assert first.compute_resources == {"cores": 2, "memory": 4096, "runtime": 1800,
                                       "queue": "tmpl.q", "project": "wf_p"}
    assert second.compute_resources == {**first.compute_resources, "memory": 3072}


def test_identical_settings_share_one_config(tool: Tool, template: TaskTemplate) -> None:
    tasks = [make_task(template, location_id=i) for i in range(5)]
    bigger = make_task(template, location_id=99, compute_resources={"memory": "8G"})
    prepared = prepare(workflow_of(tool, *tasks, bigger))
    assert len(prepared.configs) == 2
    assert prepared.config_index == [0, 0, 0, 0, 0, 1]
    assert prepared.configs[1].compute_resources["memory"] == 8192


def test_max_attempts_defaults_to_three_and_can_be_set(tool: Tool) -> None:
    template = tool.get_task_template(template_name="t", command_template="run {a}",
                                      node_args=["a"], default_cluster_name="local",
                                      default_max_attempts=None)
    tasks = [template.create_task(a=1), template.create_task(a=2, max_attempts=7)]
    prepared = prepare(workflow_of(tool, *tasks))
    attempts = [prepared.configs[prepared.config_index[i]].max_attempts for i in range(2)]
    assert attempts == [3, 7]


def test_default_resource_scales_and_callable_scales(tool: Tool,
                                                     template: TaskTemplate) -> None:
    plain = make_task(template, location_id=1)
    custom = make_task(template, location_id=2,
                       resource_scales={"memory": [0.5, 1], "runtime": lambda v: v * 2})
    prepared = prepare(workflow_of(tool, plain, custom))
    plain_config = prepared.configs[prepared.config_index[0]]
    custom_index = prepared.config_index[1]
    assert plain_config.resource_scales == {"memory": 0.5, "runtime": 0.5}
    assert prepared.configs[custom_index].resource_scales == {"memory": [0.5, 1.0]}
    assert callable(prepared.scale_overrides[custom_index]["runtime"])


def test_callable_resources_are_kept_for_later(tool: Tool, template: TaskTemplate) -> None:
    def resources() -> dict[str, Any]:
        return {"memory": "2G"}

    task = make_task(template, compute_resources=resources)
    prepared = prepare(workflow_of(tool, task))
    assert prepared.dynamic_resources == {0: resources}


def test_task_hash_ignores_the_order_tasks_were_added(tool: Tool,
                                                      template: TaskTemplate) -> None:
    tasks = [make_task(template, location_id=i) for i in range(3)]
    forward = prepare(workflow_of(tool, *tasks)).task_hash
    backward = prepare(workflow_of(tool, *reversed(tasks))).task_hash
    assert forward == backward
    assert prepare(workflow_of(tool, *tasks[:2])).task_hash != forward


def test_two_templates_with_one_name_are_refused(tool: Tool, template: TaskTemplate) -> None:
    first = make_task(template)
    changed = tool.get_task_template(
        template_name="model", command_template=COMMAND + " --fast", node_args=["location_id"],
        task_args=["year"], op_args=["out_dir"], default_cluster_name="local")
    second = changed.create_task(location_id=2, year=2020, out_dir="/o")
    with pytest.raises(InvalidWorkflow, match="two different templates"):
        prepare(workflow_of(tool, first, second))


def test_tool_returns_the_same_template_for_the_same_definition(tool: Tool,
                                                                template: TaskTemplate) -> None:
    again = tool.get_task_template(template_name="model", command_template=COMMAND,
                                   node_args=["location_id"], task_args=["year"],
                                   op_args=["out_dir"])
    assert again is template


def test_workflow_limit_must_be_positive(tool: Tool) -> None:
    with pytest.raises(ValueError, match="max_concurrently_running"):
        tool.create_workflow(name="w", max_concurrently_running=0)


def test_reading_a_tasks_args_fixes_only_the_commands_that_share_them(tool: Tool) -> None:
    """A task's args handed out fix its command (as Jobmon's, made once); the tasks of one
    create_tasks share their op args' dict, so theirs are fixed with it, and nobody else's
    (a task of create_task has its own dicts: its array is not walked)."""
    template = tool.get_task_template(template_name="t", command_template="run {n} {out}",
                                      node_args=["n"], op_args=["out"])
    workflow = tool.create_workflow(name="w", workflow_args="w")
    singles = [template.create_task(n=i, out="a") for i in range(3)]
    batch = template.create_tasks(n=[10, 11], out="a")
    workflow.add_tasks([*singles, *batch])
    assert singles[0].array is singles[2].array is not None

    singles[0].op_args["out"] = "changed"
    assert singles[0].command == "run 0 a"
    assert [task._command for task in (*singles[1:], *batch)] == [None] * 4

    batch[0].op_args["out"] = "changed"
    assert [task.command for task in batch] == ["run 10 a", "run 11 a"]
    assert [task._command for task in singles[1:]] == [None, None]
    singles[1].op_args["out"] = "b"
    assert singles[1].command == "run 1 a"
