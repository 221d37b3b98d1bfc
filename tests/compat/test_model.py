"""Tool, TaskTemplate, Task, Array and Workflow as Jobmon 3.6's client tests use them.

Most checks here need no server: the model is built in memory and checked before anything is
sent. Where a workflow binds or runs, the test server is used, on "local" and "sequential".
"""

from __future__ import annotations

import gc
import getpass
import importlib
import importlib.util
import logging
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import anyio
import pytest

import jobmon.client
from jobmon.client import api
from jobmon.client.array import Array
from jobmon.client.logging import JobmonLoggerConfig, configure_client_logging
from jobmon.client.prepare import prepare
from jobmon.client.task import Task
from jobmon.client.task_template import TaskTemplate
from jobmon.client.tool import InvalidToolError, InvalidToolVersionError, Tool
from jobmon.client.workflow import Workflow
from jobmon.core.constants import MaxConcurrentlyRunning
from jobmon.core.exceptions import (
    CyclicGraphError,
    DuplicateNodeArgsError,
    EmptyWorkflowError,
    NodeDependencyNotExistError,
)
from tests.integration.helpers import fetch
from tests.support import ServerThread

CLUSTERS = ["local", "sequential"]


@pytest.fixture
def tool() -> Tool:
    return Tool()


@pytest.fixture
def task_template(tool: Tool) -> TaskTemplate:
    """The fixture of Jobmon's tests/integration/client/conftest.py: "{arg}" on sequential."""
    tool.set_default_compute_resources_from_dict(
        cluster_name="sequential", compute_resources={"queue": "null.q"})
    return tool.get_task_template(
        template_name="simple_template", command_template="{arg}", node_args=["arg"],
        task_args=[], op_args=[], default_cluster_name="sequential",
        default_compute_resources={"queue": "null.q"})


# ------------------------------------------------------------------ item 1: imports


def test_jobmon_import_paths_give_our_classes() -> None:
    """Follows create_tasks_example.py and six_job_test.py (``from jobmon.client.api import
    Tool``), the quickstart (``from jobmon.client.tool import Tool``) and test_array.py
    (``from jobmon.client.array import Array``)."""
    assert api.Tool is Tool and api.TaskTemplate is TaskTemplate and api.Task is Task
    assert api.Workflow is Workflow and api.Array is Array
    assert jobmon.client.Tool is Tool
    assert jobmon.client.__version__ == metadata.version("jobmon")


@pytest.mark.parametrize(("name", "module"), [
    ("workflow_status", "jobmon.client.status_commands"),
    ("task_status", "jobmon.client.status_commands"),
    ("workflow_tasks", "jobmon.client.status_commands"),
    ("add_task_attributes", "jobmon.client.attributes"),
])
def test_api_exports_jobmons_server_backed_names_from_their_modules(name: str,
                                                                    module: str) -> None:
    """Follows jobmon_client/src/jobmon/client/api.py: these names come from the status
    commands and attributes modules, looked up on first use."""
    if importlib.util.find_spec(module) is None:
        with pytest.raises(ModuleNotFoundError, match=module):
            getattr(api, name)
    else:
        assert getattr(api, name) is getattr(importlib.import_module(module), name)
    with pytest.raises(AttributeError):
        api.no_such_name  # noqa: B018


def test_configure_client_logging_shows_client_records(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """Follows advanced_usage.rst 'Python Logging' (configure_client_logging) and
    configuration.rst 'Migration from Legacy System' (JobmonLoggerConfig)."""
    client_logger = logging.getLogger("jobmon.client")
    before = list(client_logger.handlers), client_logger.level
    try:
        configure_client_logging()
        configure_client_logging()  # a second call replaces, never doubles, the handler
        logging.getLogger("jobmon.client.workflow").info("bound workflow 7")
        JobmonLoggerConfig.attach_default_handler("my.logger", logging.WARNING)
        logging.getLogger("my.logger").info("not shown")
        logging.getLogger("my.logger").warning("shown")
        out = capsys.readouterr().out.splitlines()
        assert len([line for line in out if "bound workflow 7" in line]) == 1
        assert "INFO" in out[0] and "[jobmon.client.workflow]" in out[0]
        assert any("WARNING" in line and "shown" in line for line in out)
        assert not any("not shown" in line for line in out)
    finally:
        for name in ("jobmon.client", "jobmon.retry", "my.logger"):
            logger = logging.getLogger(name)
            for handler in list(logger.handlers):
                if handler not in before[0]:
                    logger.removeHandler(handler)
        client_logger.setLevel(before[1])


# ------------------------------------------------------------------ item 5: defaults


def test_tool_works_without_a_name() -> None:
    """Follows test_tool.py test_create_tool and test_workflow.py test_add_same_node_args_twice
    (``Tool()``)."""
    assert Tool().name == f"unknown-{getpass.getuser()}"
    assert Tool("foo").name == "foo" and Tool(name="foo").name == "foo"
    assert Tool(tool_name="bar").name == "bar"  # as create_tasks_example.py writes it
    assert Tool("foo", "latest").name == "foo"
    with pytest.raises(InvalidToolVersionError, match="latest"):
        Tool("foo", active_tool_version_id=3)
    assert issubclass(InvalidToolError, Exception)


def test_resources_from_dict_make_their_cluster_the_default(tool: Tool) -> None:
    """Follows tool.py set_default_compute_resources_from_dict: "If no default cluster is
    specified when this method is called, cluster_name will become the default cluster."""
    tool.set_default_compute_resources_from_dict("sequential", {"queue": "null.q"})
    assert tool.default_cluster_name == "sequential"
    tool.set_default_compute_resources_from_dict("local", {"cores": 1})
    assert tool.default_cluster_name == "sequential"  # only when none was set
    assert tool.default_compute_resources_set == {"sequential": {"queue": "null.q"},
                                                  "local": {"cores": 1}}
    tool.update_default_compute_resources("local", memory="2G")
    assert tool.default_compute_resources_set["local"] == {"cores": 1, "memory": "2G"}


def test_max_attempts_defaults_and_their_precedence(tool: Tool) -> None:
    """Follows test_task.py test_default_max_attemps: task > template > workflow > tool > 3.

    One difference: Jobmon 3.6's test shows a template's own default never reaching its
    tasks (task4 gets 3); here it does, as the docs' precedence says."""
    tt = tool.get_task_template(template_name="test_tt1",
                                command_template="true|| abc {arg1} {arg2}",
                                node_args=["arg1"], task_args=["arg2"])
    task1 = tt.create_task(name="task1", arg1="arg1_1", arg2="arg2_1", max_attempts=2)
    task2 = tt.create_task(name="task2", arg1="arg1_2", arg2="arg2_2")
    wf = tool.create_workflow()
    wf.add_tasks([task1, task2])
    assert task1.max_attempts == 2 and task2.max_attempts == 3

    task3 = tt.create_task(name="task3", arg1="arg1_3", arg2="arg2_3")
    assert tt.default_max_attempts is None
    wf2 = tool.create_workflow(default_max_attempts=1000)
    assert wf2.default_max_attempts == 1000
    wf2.add_task(task3)
    assert task3.max_attempts == 1000

    tt2 = tool.get_task_template(template_name="test_tt1",
                                 command_template="true|| def {arg1} {arg2}",
                                 node_args=["arg1"], task_args=["arg2"])
    tt2.set_default_max_attempts(7)
    task4 = tt2.create_task(name="task4", arg1="arg1_4", arg2="arg2_4")
    wf3 = tool.create_workflow()
    assert wf3.default_max_attempts is None
    wf3.add_task(task4)
    assert task4.max_attempts == 7  # Jobmon 3.6: 3 (its template default is lost)

    tool.set_default_max_attempts(17)
    assert tool.default_max_attempts == 17
    tt3 = tool.get_task_template(template_name="test_tt1",
                                 command_template="true|| ghi {arg1} {arg2}",
                                 node_args=["arg1"], task_args=["arg2"])
    assert tt3.default_max_attempts == 17
    task5 = tt3.create_task(name="task5", arg1="arg1_5", arg2="arg2_5")
    wf4 = tool.create_workflow()
    assert wf4.default_max_attempts == 17
    wf4.add_task(task5)
    assert task5.max_attempts == 17
    wf5 = tool.create_workflow(default_max_attempts=None)
    assert wf5.default_max_attempts == tool.default_max_attempts == 17
    # and the max attempts each task binds with
    tt2.set_default_max_attempts(7)
    wf6 = tool.create_workflow(default_cluster_name="local", default_max_attempts=5)
    wf6.add_tasks([tt3.create_task(arg1="a6", arg2="b6"),
                   tt3.create_task(arg1="a8", arg2="b8", max_attempts=1)])
    wf7 = tool.create_workflow(default_cluster_name="local", default_max_attempts=5)
    wf7.add_task(tt2.create_task(arg1="a7", arg2="b7"))
    attempts = [config.max_attempts for wf in (wf6, wf7) for prepared in [prepare(wf)]
                for config in (prepared.configs[i] for i in prepared.config_index)]
    assert attempts == [5, 1, 7]


def test_create_workflow_takes_workflow_args_first_and_the_tools_defaults(tool: Tool) -> None:
    """Follows tool.py create_workflow (workflow_args, name, description,
    workflow_attributes, max_concurrently_running, chunk_size, default_cluster_name,
    default_compute_resources_set, default_resource_scales_set, default_max_attempts) and
    test_workflow.py test_wfargs_update (``tool.create_workflow("v1")``)."""
    tool.set_default_compute_resources_from_dict("local", {"memory": "1G"})
    tool.set_default_resource_scales_from_dict("local", {"memory": 0.2})
    tool.set_default_max_attempts(4)
    wf = tool.create_workflow("v1", "name", "about it", {"release": 7}, 50, 100)
    assert (wf.workflow_args, wf.name, wf.description) == ("v1", "name", "about it")
    assert wf.workflow_attributes == {"release": "7"}
    assert (wf.max_concurrently_running, wf.chunk_size) == (50, 100)
    assert wf.tool is tool
    assert wf.default_cluster_name == "local"
    assert wf.default_compute_resources_set == {"local": {"memory": "1G"}}
    assert wf.default_resource_scales_set == {"local": {"memory": 0.2}}
    assert wf.default_max_attempts == 4
    own = tool.create_workflow(
        default_cluster_name="sequential",
        default_compute_resources_set={"sequential": {"queue": "null.q"}},
        default_resource_scales_set={"runtime": 0.3}, default_max_attempts=9)
    assert own.default_cluster_name == "sequential"
    assert own.default_compute_resources_set == {"sequential": {"queue": "null.q"}}
    assert own.default_resource_scales_set == {"sequential": {"runtime": 0.3}}
    assert own.default_max_attempts == 9
    assert tool.create_workflow().workflow_args != tool.create_workflow().workflow_args
    default = tool.create_workflow()
    assert default.max_concurrently_running == 10_000  # the docs' default
    default.set_default_cluster_name("sequential")
    default.set_default_max_attempts(2)
    assert (default.default_cluster_name, default.default_max_attempts) == ("sequential", 2)


@pytest.mark.parametrize(("given", "kept"), [
    (["NUM_CORES", "NUM_YEARS"], {"NUM_CORES": None, "NUM_YEARS": None}),
    ({"LOCATION_ID": 1, "AGE_GROUP_ID": 5}, {"LOCATION_ID": "1", "AGE_GROUP_ID": "5"}),
])
def test_workflow_and_task_attributes(tool: Tool, task_template: TaskTemplate,
                                      given: object, kept: dict[str, str | None]) -> None:
    """Follows test_task.py test_task_attribute and test_workflow.py test_workflow_attribute
    (a list names attributes, a dict gives them values, kept as text)."""
    task = task_template.create_task(arg="sleep 2", task_attributes=given)
    assert task.task_attributes == kept
    task.add_attribute("SEX", 1)
    assert task.task_attributes["SEX"] == "1"
    workflow = tool.create_workflow(workflow_attributes=given)
    assert workflow.workflow_attributes == kept
    workflow.add_attributes({"age_group_id": 1, "sex": 2})
    assert workflow.workflow_attributes == {**kept, "age_group_id": "1", "sex": "2"}
    with pytest.raises(ValueError, match="task_attributes must be a list"):
        task_template.create_task(arg="x", task_attributes="LOCATION_ID")


# ------------------------------------------------------------------ item 7: arrays and helpers


def test_create_array(task_template: TaskTemplate) -> None:
    """Follows test_array.py test_create_array: tasks[0].array, its resources and name."""
    tasks = task_template.create_tasks(arg=["echo 1"])
    array = tasks[0].array
    assert isinstance(array, Array)
    assert array.compute_resources == task_template.default_compute_resources_set["sequential"]
    assert "simple_template" in array.name
    tasks = task_template.create_tasks(name="test_array", arg=["echo 2"])
    assert "test_array" in tasks[0].array.name
    # one string is one value here (Jobmon would make a task of each character)
    assert [task.command for task in task_template.create_tasks(arg="echo 3")] == ["echo 3"]
    workflow = task_template.tool.create_workflow()
    workflow.add_tasks(tasks)
    workflow.add_task(task_template.create_task(arg="echo 4"))
    assert workflow.arrays == {"simple_template": tasks[0].array}
    assert len(tasks[0].array) == 2  # the create_task task joined the template's array


def test_create_tasks_returns_a_list_and_finds_tasks_by_node_args(tool: Tool) -> None:
    """Follows test_array.py test_create_tasks and test_node_args_expansion."""
    rich_task_template = tool.get_task_template(
        template_name="simple_template",
        command_template="{command} {task_arg} {narg1} {narg2} {op_arg} && echo tom",
        node_args=["narg1", "narg2"], task_args=["task_arg"], op_args=["command", "op_arg"],
        default_cluster_name="dummy", default_compute_resources={"queue": "null.q"})
    tasks = rich_task_template.create_tasks(
        command="foo", task_arg="bar", narg1=[1, 2, 3], narg2=["a", "b", "c"], op_arg="baz",
        compute_resources={"queue": "null.q"})
    assert len(tasks) == 9
    wf = tool.create_workflow()
    wf.add_tasks(tasks)
    assert len(wf.tasks) == 9
    commands = [t.command for t in tasks]
    assert "foo bar 1 c baz && echo tom" in commands
    assert "foo bar 3 a baz && echo tom" in commands
    assert len(wf.get_tasks_by_node_args("simple_template", narg1=3, narg2="c")) == 1
    assert len(wf.get_tasks_by_node_args("simple_template", narg1=3, narg2="x")) == 0
    assert len(wf.get_tasks_by_node_args("simple_template", narg1=3)) == 3
    assert len(wf.get_tasks_by_node_args("simple_template")) == 9
    assert len(wf.get_tasks_by_node_args("simple_template", narg1=[1, 2, 3],
                                         narg2=["a", "b"])) == 6
    assert len(wf.get_tasks_by_node_args(task_template_name="simple_template", narg1=2)) == 3
    with pytest.raises(ValueError, match="OUT_OF_SCOPE_simple_template"):
        wf.get_tasks_by_node_args(task_template_name="OUT_OF_SCOPE_simple_template", narg1=2)
    assert len(tasks[0].array.get_tasks_by_node_args(narg2="b")) == 3
    combos = list(Array.expand_dict(location_id=[1, 2, 3], sex=["m", "f"]))
    assert len(combos) == 6 and {"location_id": 2, "sex": "f"} in combos
    # a list: "+" and "append" work, as on Jobmon's
    more = tasks + rich_task_template.create_tasks(command="foo", task_arg="bar", narg1=[4],
                                                   narg2=["a"], op_arg="baz")
    more.append(rich_task_template.create_task(command="x", task_arg="y", narg1=5, narg2="z",
                                               op_arg="w"))
    assert len(more) == 11


def test_empty_array(tool: Tool) -> None:
    """Follows test_array.py test_empty_array: no node args, no tasks."""
    tt = tool.get_task_template(template_name="empty", command_template="", node_args=[],
                                task_args=[], op_args=[], default_cluster_name="sequential",
                                default_compute_resources={"queue": "null.q"})
    assert tt.create_tasks() == []


def test_array_max_attempts(tool: Tool) -> None:
    """Follows test_array.py test_array_max_attempts: the workflow default passes down."""
    tt = tool.get_task_template(template_name="test_tt1", command_template="true|| abc {arg}",
                                node_args=["arg"], task_args=[], op_args=[])
    tasks1 = tt.create_tasks(arg=[1, 2])
    wf1 = tool.create_workflow()
    wf1.add_tasks(tasks1)
    assert tasks1[0].array.max_attempts is None
    assert tasks1[0].max_attempts == tasks1[1].max_attempts == 3
    tasks2 = tt.create_tasks(arg=[10, 20])
    wf2 = tool.create_workflow(default_max_attempts=1000)
    wf2.add_tasks(tasks2)
    assert tasks2[0].array.max_attempts == tasks2[0].max_attempts == 1000


def test_active_task_templates_and_the_same_template_again(tool: Tool) -> None:
    """Follows test_workflow.py (``tool.active_task_templates["phase_1"].create_task``) and
    test_task_template.py test_create_and_get_task_template / new version."""
    first = tool.get_task_template(template_name="my_template",
                                   command_template="{op1} {node1} --foo {task1}",
                                   node_args=["node1"], task_args=["task1"], op_args=["op1"])
    again = tool.get_task_template(template_name="my_template",
                                   command_template="{op1} {node1} --foo {task1}",
                                   node_args=["node1"], task_args=["task1"], op_args=["op1"])
    assert again is first and tool.active_task_templates == {"my_template": first}
    changed = tool.get_task_template(
        template_name="my_template", command_template="{op1} {node1} --foo {task1} --bar {task2}",
        node_args=["node1"], task_args=["task1", "task2"], op_args=["op1"])
    assert changed is not first and tool.active_task_templates["my_template"] is changed
    task = tool.active_task_templates["my_template"].create_task(op1="a", node1=1, task1=2,
                                                                 task2=3)
    assert task.command == "a 1 --foo 2 --bar 3"
    with pytest.raises(ValueError):  # test_invalid_args: task2 is not in the command
        tool.get_task_template(template_name="my_template",
                               command_template="{op1} {node1} --foo {task1}",
                               node_args=["node1"], task_args=["task2"], op_args=["op1"])


def test_job_names() -> None:
    """Follows test_task.py test_good_names and test_bad_names."""
    assert Task.is_valid_job_name("fred")
    assert Task.is_valid_job_name("fred123")
    assert Task.is_valid_job_name("fred_and-friends")
    with pytest.raises(ValueError, match="None"):
        Task.is_valid_job_name("")
    with pytest.raises(ValueError, match="digit"):
        Task.is_valid_job_name("16")
    with pytest.raises(ValueError, match="special"):
        Task.is_valid_job_name("bad/dog")


def test_default_task_name(task_template: TaskTemplate) -> None:
    """Follows test_task.py test_default_task_name."""
    assert task_template.create_task(arg="a").name == "simple_template_arg-a"
    assert task_template.create_task(arg="a" * 256).name == ("simple_template_arg-"
                                                             + "a" * 256)[0:249]
    assert task_template.create_task(arg="abc'abc/abc").name == "simple_template_arg-abc_abc_abc"
    assert task_template.create_task(arg="echo 10").name == "simple_template_arg-echo_10"


def test_task_equality_and_upstreams_as_sets(task_template: TaskTemplate) -> None:
    """Follows test_task.py test_equality and test_workflow.py TestDAGCycles (upstream and
    downstream tasks are sets, kept on both sides)."""
    a = task_template.create_task(arg="a")
    a_again = task_template.create_task(arg="a")
    assert a == a_again
    b = task_template.create_task(arg="b", upstream_tasks=[a, a_again])
    assert b != a
    assert b.upstream_tasks == {a} and len(b.upstream_tasks) == 1
    assert a.downstream_tasks == {b}
    c, d, e = (task_template.create_task(arg=x) for x in "cde")
    c.add_upstreams([a, b])
    c.add_downstreams([d, e])
    assert c.upstream_tasks == {a, b} and c.downstream_tasks == {d, e}
    assert d.upstream_tasks == {c} and b.downstream_tasks == {c}


def test_template_concurrency_limit(tool: Tool, task_template: TaskTemplate) -> None:
    """Follows advanced_usage.rst 'Concurrency Limiting' (set after add_tasks) and
    workflow.py (a KeyError for a template not in the workflow)."""
    workflow = tool.create_workflow(name="template_workflow")
    workflow.add_tasks([task_template.create_task(arg=f"sleep {i}") for i in range(20)])
    workflow.set_task_template_max_concurrency_limit(
        task_template_name=task_template.template_name, limit=2)
    assert workflow._spec().template_limits == {"simple_template": 2}
    with pytest.raises(KeyError, match="no_such_template"):
        workflow.set_task_template_max_concurrency_limit("no_such_template", 2)
    assert MaxConcurrentlyRunning.MAXCONCURRENTLYRUNNING == 2_147_483_647


def test_task_resources_pass_down_and_override(tool: Tool, task_template: TaskTemplate) -> None:
    """Follows test_task_resources.py test_defaults_pass_down_and_overrides (cluster
    "multiprocess" is "slurm" here)."""
    task_template.set_default_compute_resources_from_dict("dummy", {"queue": "null.q"})
    t = task_template.create_task(cluster_name="dummy", arg="echo 1")
    tool.create_workflow().add_tasks([t])
    assert t.resource_scales == {"runtime": 0.5, "memory": 0.5}
    task_template.set_default_compute_resources_from_dict(
        "sequential", {"queue": "null.q", "memory": 34, "runtime": 56})
    task_template.set_default_resource_scales_from_dict(
        "sequential", {"runtime": 0.7, "cores": 0.6, "memory": 0.8})
    task_template.set_default_compute_resources_from_dict(
        "slurm", {"queue": "null.q", "memory": 9999, "runtime": 9999})
    task_template.set_default_resource_scales_from_dict(
        "slurm", {"runtime": 0.9999, "cores": 0.9999, "memory": 0.9999})
    assert task_template.default_cluster_name == "slurm"  # the later setting wins
    t1 = task_template.create_task(cluster_name="sequential", arg="echo 1")
    t2 = task_template.create_task(
        cluster_name="sequential", arg="echo 2",
        compute_resources={"queue": "null.q", "memory": 22, "runtime": 222},
        resource_scales={"runtime": 0.2, "cores": 0.22, "memory": 0.222})
    tool.create_workflow().add_tasks([t1, t2])
    assert t1.cluster_name == t2.cluster_name == "sequential"
    assert (t1.compute_resources["memory"], t1.compute_resources["runtime"]) == (34, 56)
    assert t1.resource_scales == {"runtime": 0.7, "cores": 0.6, "memory": 0.8}
    assert (t2.compute_resources["memory"], t2.compute_resources["runtime"]) == (22, 222)
    assert t2.resource_scales == {"runtime": 0.2, "cores": 0.22, "memory": 0.222}
    assert t2.requested_resources == {"memory": 22, "runtime": 222}
    assert id(t1.compute_resources) != id(t1.compute_resources)  # test_compute_resource_copy


# ------------------------------------------------------------------ item 8: DAG checks


def test_same_node_args_twice_is_refused_at_add_task(tool: Tool) -> None:
    """Follows test_workflow.py test_add_same_node_args_twice."""
    tt = tool.get_task_template(template_name="my_template",
                                command_template="{node_arg} {task_arg}",
                                node_args=["node_arg"], task_args=["task_arg"], op_args=[])
    a = tt.create_task(node_arg="a", task_arg="a")
    b = tt.create_task(node_arg="a", task_arg="b")
    workflow = tool.create_workflow()
    workflow.add_task(a)
    with pytest.raises(DuplicateNodeArgsError):
        workflow.add_task(b)
    with pytest.raises(ValueError, match="already in the workflow"):  # workflow.py add_task
        workflow.add_task(a)
    assert list(workflow.tasks.values()) == [a]


def test_dependency_not_in_the_workflow_is_refused_at_bind(
        server: ServerThread, tool: Tool, task_template: TaskTemplate) -> None:
    """Follows test_workflow.py test_add_tasks_dependencynotexist."""
    t1, t2, t3 = (task_template.create_task(arg=f"echo {i}") for i in (1, 2, 3))
    t3.add_upstream(t2)
    wf = tool.create_workflow(name="TestWF1")
    wf.add_tasks([t1, t2])
    with pytest.raises(NodeDependencyNotExistError, match="Downstream"):
        wf.bind()
    wf = tool.create_workflow(name="TestWF2")
    wf.add_tasks([t1, t3])
    with pytest.raises(NodeDependencyNotExistError, match="Upstream"):
        wf.bind()
    assert fetch(server.dsn, "SELECT count(*) FROM workflow")[0][0] == 0  # nothing was sent
    wf = tool.create_workflow(name="TestWF3")
    wf.add_tasks([t1, t2, t3])
    assert isinstance(wf.bind(), int) and len(wf.tasks) == 3
    wf = tool.create_workflow(name="TestWF4")
    wf.add_tasks([t1])
    wf.add_tasks([t2])
    wf.add_tasks([t3])
    assert isinstance(wf.bind(), int) and len(wf.tasks) == 3


@pytest.mark.parametrize("shape", ["simple", "midway", "fork_join"])
def test_cycles_are_refused_at_bind(server: ServerThread, tool: Tool, shape: str) -> None:
    """Follows test_workflow.py TestDAGCycles (match "Cycle detected in the task graph")."""
    tt = tool.get_task_template(template_name="dummy_task", command_template="sleep {n}",
                                node_args=["n"], op_args=[], task_args=[])
    tasks = [tt.create_task(n=i, name=f"task_{i}", compute_resources={
        "memory": "1G", "cores": 1, "runtime": "1m", "queue": "null.q",
        "stderr": "/tmp/errors", "stdout": "/tmp/output"}) for i in range(5)]
    t0, t1, t2, t3, t4 = tasks
    edges = {"simple": [(t0, t1), (t1, t2), (t2, t0)],
             "midway": [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t3, t1)],
             "fork_join": [(t0, t1), (t0, t2), (t1, t3), (t2, t3), (t3, t0)]}[shape]
    for up, down in edges:
        up.add_downstream(down)
    wf = tool.create_workflow(name="test_workflow", default_cluster_name="sequential")
    wf.add_tasks(tasks)
    with pytest.raises(CyclicGraphError, match="Cycle detected in the task graph"):
        wf.bind()


def test_empty_workflow_is_refused_at_run(server: ServerThread, tool: Tool) -> None:
    """Follows test_workflow.py test_empty_workflow (a RuntimeError)."""
    workflow = tool.create_workflow(name="test_empty_real_dag")
    with pytest.raises(RuntimeError) as caught:
        workflow.run()
    assert isinstance(caught.value, EmptyWorkflowError)


# ------------------------------------------------------------------ item 2: command templates


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_command_template_values_are_the_users_shell_text(server: ServerThread, cluster: str,
                                                          tmp_path: Path) -> None:
    """Follows advanced_usage.rst 'Retries' and six_job_test.py: ``command_template="{arg}"``
    with ``arg="sleep 1"``; and str.format specs (``{year:04d}``), as Jobmon formats."""
    tool = Tool(name="commands")
    tt = tool.get_task_template(template_name="retry_tutorial_template",
                                command_template="{arg}", node_args=["arg"], task_args=[],
                                op_args=[])
    padded = tool.get_task_template(template_name="padded",
                                    command_template="echo {year:04d} > {out}/{year}.txt",
                                    node_args=["year"], op_args=["out"])
    wf = tool.create_workflow(name="commands", workflow_args="commands",
                              default_cluster_name=cluster)
    wf.add_tasks([tt.create_task(arg=f"sleep 1 && echo ran > {tmp_path}/ran.txt"),
                  padded.create_task(year=7, out=str(tmp_path))])
    assert wf.run() == "D"
    assert (tmp_path / "ran.txt").read_text() == "ran\n"
    assert (tmp_path / "7.txt").read_text() == "0007\n"


def test_a_tasks_command_and_name_are_fixed_when_it_is_made(server: ServerThread,
                                                          tmp_path: Path) -> None:
    """As in Jobmon 3.6 (Task.__init__ formats ``self.command`` once): changing a task's args
    after create_task or create_tasks changes neither the command that runs nor its name."""
    out = tmp_path / "out"
    out.mkdir()
    tool = Tool(name="fixed")
    tt = tool.get_task_template(template_name="touch",
                                command_template="touch {out}/{step}-{flavour}",
                                node_args=["step"], task_args=["flavour"], op_args=["out"])
    one = tt.create_task(step=1, flavour="plain", out=str(out))
    many = tt.create_tasks(step=[2, 3], flavour="plain", out=str(out))
    for task in (one, *many):
        task.op_args["out"] = str(out / "elsewhere")
        task.task_args["flavour"] = "changed"
        task.node_args["step"] = 9
    many[1].op_args = {"out": "/nonexistent"}
    assert one.command == f"touch {out}/1-plain"
    assert one.name == "touch_step-1"
    wf = tool.create_workflow(name="fixed", workflow_args="fixed", default_cluster_name="local")
    wf.add_tasks([one, *many])
    assert wf.run() == "D"
    assert sorted(path.name for path in out.iterdir()) == ["1-plain", "2-plain", "3-plain"]
    recorded = fetch(server.dsn, "SELECT name, command FROM task WHERE workflow_id = $1 "
                                 "ORDER BY name", wf.workflow_id)
    assert [(row["name"], row["command"]) for row in recorded] == [
        (f"touch_step-{step}", f"touch {out}/{step}-plain") for step in (1, 2, 3)]


def test_runs_leave_the_collector_as_they_found_it(server: ServerThread) -> None:
    """A run keeps the existing objects out of the collector's passes (gc.freeze) while it
    lasts, and puts them back when it ends, when it is interrupted (Ctrl-C while binding),
    and when two workflows run one after the other or at once in one process."""
    tool = Tool(name="collector")
    tt = tool.get_task_template(template_name="true", command_template="true {n}",
                                node_args=["n"])
    frozen_while_bound: list[int] = []

    def workflow(name: str) -> Workflow:
        wf = tool.create_workflow(name=name, workflow_args=name, default_cluster_name="local")
        wf.add_tasks(tt.create_tasks(n=[1, 2]))

        async def seen(_workflow_id: int) -> None:
            frozen_while_bound.append(gc.get_freeze_count())
        wf.on_bound = seen
        return wf

    # the test server runs in this process and froze what it had: put it back meanwhile,
    # so that the client finds nothing frozen, as in a user's process
    server_froze = gc.get_freeze_count() > 0
    gc.unfreeze()
    try:
        _runs_and_the_collector(workflow, frozen_while_bound)
    finally:
        if server_froze:
            gc.freeze()


def _runs_and_the_collector(workflow: Callable[[str], Workflow],
                            frozen_while_bound: list[int]) -> None:
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    assert workflow("first").run() == "D"
    assert workflow("second").run() == "D"
    assert gc.get_freeze_count() == 0 and gc.isenabled()

    interrupted = workflow("interrupted")

    async def interrupt(_workflow_id: int) -> None:
        raise KeyboardInterrupt
    interrupted.on_bound = interrupt
    with pytest.raises(KeyboardInterrupt):
        interrupted.run()
    assert gc.get_freeze_count() == 0 and gc.isenabled()

    async def both() -> list[str]:
        finals: list[str] = []

        async def one(name: str) -> None:
            finals.append(await workflow(name).run_async())
        async with anyio.create_task_group() as group:
            group.start_soon(one, "together-a")
            group.start_soon(one, "together-b")
        return finals

    assert anyio.run(both) == ["D", "D"]
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    assert len(frozen_while_bound) == 4 and all(frozen_while_bound)


# ------------------------------------------------------------------ issue 13: limits, clusters


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_a_long_node_arg_runs_and_the_default_name_is_cut(server: ServerThread,
                                                          cluster: str) -> None:
    """Issue 13 item 18, as test_args_type.py passes an arg of 2,048 characters."""
    tool = Tool(name="long")
    tt = tool.get_task_template(template_name="echo", command_template="echo {text} >/dev/null",
                                node_args=["text"])
    task = tt.create_task(text="x" * 5000)
    assert len(task.name) == 249
    wf = tool.create_workflow(name="long", workflow_args="long", default_cluster_name=cluster)
    wf.add_task(task)
    assert wf.run() == "D"
    with pytest.raises(ValueError, match="1,001 characters long; the limit is 1,000"):
        tt.create_task(name="n" * 1001, text="y")


def test_an_unknown_cluster_is_refused_with_a_suggestion(tool: Tool,
                                                         task_template: TaskTemplate) -> None:
    """Issue 13 item 19: 'slurmm' is caught where it is first named, not at run()."""
    with pytest.raises(ValueError, match="unknown cluster 'slurmm': did you mean 'slurm'"):
        task_template.create_task(arg="x", cluster_name="slurmm")
    with pytest.raises(ValueError, match="did you mean 'sequential'"):
        tool.get_task_template(template_name="t", command_template="{a}", node_args=["a"],
                               default_cluster_name="sequentail")
