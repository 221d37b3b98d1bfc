"""Compute resources, resource files, unit spellings and resource scales as Jobmon 3.6 has
them; the retry examples of advanced_usage.rst run on "local" and "sequential"."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import pytest

from jobmon.client.prepare import prepare
from jobmon.client.tool import Tool
from jobmon.errors import InvalidResources
from tests.integration.helpers import fetch
from tests.support import ServerThread

CLUSTERS = ["local", "sequential"]

# tests/integration/client/cluster_resources.yaml of Jobmon, as it is
CLUSTER_RESOURCES = """\
tool_resources:
  sequential:
    num_cores: 2
    m_mem_free: "2G"
    max_runtime_seconds: (60 * 60 * 24)
    queue: "null.q"
tool_scales:
  sequential:
    memory: 0.1
    runtime: 0.1
task_template_resources:
  simple_function:
    sequential:
      num_cores: 1
      m_mem_free: "3G"
      max_runtime_seconds: (60 * 60 * 4)
      queue: "null.q"
  preprocess:
    sequential:
      num_cores: 1
      m_mem_free: "3G"
      max_runtime_seconds: (60 * 60 * 4)
      queue: "null.q"
    ihme_slurm:
      num_cores: 2
      m_mem_free: "4G"
      max_runtime_seconds: (60 * 60 * 24)
      queue: "null.q"
  model:
    sequential:
      num_cores: 3
      m_mem_free: "2G"
      max_runtime_seconds: (60 * 60 * 24)
      queue: "null.q"
task_template_scales:
  simple_function:
    sequential:
      memory: 0.2
      runtime: 0.3
  preprocess:
    sequential:
      memory: 0.2
      runtime: 0.3
  model:
    sequential:
      memory: 0.4
      runtime: 0.6
"""


@pytest.fixture
def cluster_resources(tmp_path: Path) -> Path:
    path = tmp_path / "cluster_resources.yaml"
    path.write_text(CLUSTER_RESOURCES)
    return path


def _template(tool: Tool, name: str, **options: Any) -> Any:
    return tool.get_task_template(template_name=name, command_template="{arg}",
                                  node_args=["arg"], task_args=[], op_args=[], **options)


def _config(tool: Tool, task: Any, cluster: str) -> Any:
    workflow = tool.create_workflow(default_cluster_name=cluster)
    workflow.add_task(task)
    prepared = prepare(workflow)
    return prepared.configs[prepared.config_index[0]]


# ------------------------------------------------------------------ resource files


def test_yaml_compute_resources_and_scales(cluster_resources: Path) -> None:
    """Follows test_tool.py test_yaml_compute_resources_and_scales: kept as the file says."""
    tool = Tool(name="test_resources_scales")
    tt_1, tt_2 = _template(tool, "preprocess"), _template(tool, "model")
    tool.set_default_compute_resources_from_yaml(
        default_cluster_name="sequential", yaml_file=str(cluster_resources),
        set_task_templates=True)
    tool.set_default_resource_scales_from_yaml(
        default_cluster_name="sequential", yaml_file=str(cluster_resources),
        set_task_templates=True)
    assert tool.default_compute_resources_set["sequential"] == {
        "num_cores": 2, "m_mem_free": "2G", "max_runtime_seconds": "(60 * 60 * 24)",
        "queue": "null.q"}
    assert tool.default_resource_scales_set["sequential"] == {"memory": 0.1, "runtime": 0.1}
    assert tt_1.default_compute_resources_set["sequential"] == {
        "num_cores": 1, "m_mem_free": "3G", "max_runtime_seconds": "(60 * 60 * 4)",
        "queue": "null.q"}
    assert tt_2.default_compute_resources_set["sequential"]["num_cores"] == 3
    assert tt_1.default_resource_scales_set["sequential"] == {"memory": 0.2, "runtime": 0.3}
    assert tt_2.default_resource_scales_set["sequential"] == {"memory": 0.4, "runtime": 0.6}
    assert tool.default_cluster_name == "sequential"
    # those are Jobmon's old SGE names: binding them to "sequential" says what it takes
    with pytest.raises(InvalidResources, match=r"does not know the resource.*m_mem_free"):
        _config(tool, tt_1.create_task(arg="true"), "sequential")


def test_task_template_resources_yaml(cluster_resources: Path) -> None:
    """Follows test_task_template.py test_task_template_resources_yaml."""
    tool = Tool()
    tt_1 = _template(tool, "preprocess", default_cluster_name="sequential",
                     yaml_file=cluster_resources)
    tt_2 = _template(tool, "model", default_cluster_name="sequential")
    tt_2.set_default_compute_resources_from_yaml(yaml_file=cluster_resources)
    tt_3 = _template(Tool(), "model")
    tt_3.set_default_compute_resources_from_yaml(default_cluster_name="sequential",
                                                 yaml_file=cluster_resources)
    assert tt_1.default_compute_resources_set["sequential"]["m_mem_free"] == "3G"
    assert tt_1.default_resource_scales_set["sequential"] == {"memory": 0.2, "runtime": 0.3}
    assert tt_2.default_compute_resources_set["sequential"]["num_cores"] == 3
    assert tt_3.default_compute_resources_set == tt_2.default_compute_resources_set
    tt_3.set_default_resource_scales_from_yaml(cluster_resources, "sequential")
    assert tt_3.default_resource_scales_set["sequential"] == {"memory": 0.4, "runtime": 0.6}


def test_template_yaml_of_the_compute_resources_page(tmp_path: Path) -> None:
    """Follows docsource/user_guide/compute_resources.rst 'YAML Configuration' (a file with
    resources only, no scales) and core_concepts.rst 'YAML Configuration Files'."""
    path = tmp_path / "resources.yaml"
    path.write_text('task_template_resources:\n  process_template:\n    slurm:\n'
                    '      cores: 2\n      memory: "8G"\n      runtime: 3600\n'
                    '      queue: "all.q"\n'
                    'tool_resources:\n  example_tool_name:\n    slurm:\n      cores: 1\n')
    tool = Tool(name="example_tool_name")
    template = tool.get_task_template(template_name="process_template",
                                      command_template="python process.py {input_file}",
                                      node_args=["input_file"], default_cluster_name="slurm",
                                      yaml_file=str(path))
    config = _config(tool, template.create_task(input_file="a.csv"), "slurm")
    assert config.compute_resources == {"cores": 2, "memory": 8192, "runtime": 3600,
                                        "queue": "all.q"}
    other = tool.get_task_template(template_name="other", command_template="run {x}",
                                   node_args=["x"], default_cluster_name="slurm")
    with pytest.raises(KeyError, match="no task_template_resources -> other in the resource"):
        other.set_default_compute_resources_from_yaml(str(path))


def test_missing_keys_raise_unless_ignored(cluster_resources: Path) -> None:
    """Follows tool.py set_default_compute_resources_from_yaml: a KeyError for a missing
    cluster or template, unless ignore_missing_keys; six_job_test.py relies on the latter."""
    tool = Tool()
    with pytest.raises(KeyError, match="tool_resources -> local"):
        tool.set_default_compute_resources_from_yaml("local", cluster_resources)
    with pytest.raises(ValueError, match="no task templates yet"):
        tool.set_default_compute_resources_from_yaml("sequential", cluster_resources,
                                                     set_task_templates=True)
    kept = _template(tool, "not_in_the_file")
    with pytest.raises(KeyError, match="task_template_resources -> not_in_the_file"):
        tool.set_default_compute_resources_from_yaml("sequential", cluster_resources,
                                                     set_task_templates=True)
    tool.set_default_compute_resources_from_yaml("local", cluster_resources,
                                                 set_task_templates=True,
                                                 ignore_missing_keys=True)
    assert kept.default_compute_resources_set == {}
    assert tool.default_cluster_name == "local"


@pytest.mark.parametrize(("content", "problem"), [
    ("tool_resources: [unclosed", "is not valid YAML"),
    ("- just\n- a list\n", "must hold a mapping"),
    ("tool_resources:\n  sequential: 5\n", "must be a mapping"),
])
def test_a_malformed_resource_file_is_a_clear_error_naming_it(tmp_path: Path, content: str,
                                                              problem: str) -> None:
    """Follows tool.py (a ValueError when the YAML cannot be read), naming the file."""
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ValueError, match=problem) as caught:
        Tool().set_default_compute_resources_from_yaml("sequential", path)
    assert str(path) in str(caught.value)
    with pytest.raises(ValueError, match="cannot read the resource file"):
        Tool().set_default_compute_resources_from_yaml("sequential", tmp_path / "none.yaml")


# ------------------------------------------------------------------ units and keys


@pytest.mark.parametrize(("memory", "mib"), [
    ("1G", 1024), ("1g", 1024), ("1gb", 1024), ("1Gib", 1024), ("2Tb", 2 * 1024 * 1024),
    ("2048K", 2), ("2048kB", 2), ("100mb", 100), ("1024kb", 1), ("1gib", 1024),
    ("1Gb", 1024), (1, 1024), (34, 34 * 1024), ("100", 100 * 1024),
])
def test_jobmons_memory_spellings(memory: object, mib: int) -> None:
    """Follows tests/unit/client/test_units.py and advanced_usage.rst ('1Gb'): a bare number
    is GiB, as Jobmon's TaskResources reads it."""
    tt = _template(Tool(), "t")
    config = _config(tt.tool, tt.create_task(arg="true", compute_resources={"memory": memory}),
                     "local")
    assert config.compute_resources["memory"] == mib


@pytest.mark.parametrize(("runtime", "seconds"), [
    ("24:30:10", 24 * 3600 + 30 * 60 + 10), ("10:00:00", 36000), ("1h", 3600), ("30m", 1800),
    ("25s", 25), (30, 30), ("100s", 100), ("90s", 90), ("10min", 600), ("2hrs", 7200),
])
def test_jobmons_runtime_spellings(runtime: object, seconds: int) -> None:
    """Follows test_task_resources.py test_timeunit_convert: a number is seconds."""
    tt = _template(Tool(), "t")
    config = _config(tt.tool, tt.create_task(arg="true", compute_resources={"runtime": runtime}),
                     "local")
    assert config.compute_resources["runtime"] == seconds


@pytest.mark.parametrize("cluster", ["local", "sequential", "slurm"])
def test_stdout_and_stderr_are_taken_on_every_cluster(cluster: str, tmp_path: Path) -> None:
    """Follows quickstart_health_example.py and test_workflow.py TestDAGCycles (stdout and
    stderr in compute resources): kept in the task's resources for the cluster."""
    tt = _template(Tool(), "t")
    task = tt.create_task(arg="true", compute_resources={"stdout": str(tmp_path / "o"),
                                                         "stderr": str(tmp_path / "e")})
    config = _config(tt.tool, task, cluster)
    assert config.compute_resources["stdout"] == str(tmp_path / "o")
    assert config.compute_resources["stderr"] == str(tmp_path / "e")


def test_queue_names_are_kept_for_slurm_and_ignored_on_this_machine() -> None:
    """Follows the quickstart's "queue": "all.q" and Jobmon's sequential "null.q": on local
    and sequential the machine is the one queue, whatever its name."""
    tt = _template(Tool(), "t")
    for cluster, expected in (("local", {}), ("sequential", {}), ("slurm", {"queue": "all.q"})):
        task = tt.create_task(arg=f"true {cluster}", compute_resources={"queue": "all.q"},
                              fallback_queues=["long.q"])
        config = _config(tt.tool, task, cluster)
        assert {k: v for k, v in config.compute_resources.items() if k == "queue"} == expected


# ------------------------------------------------------------------ resource scales


@pytest.mark.parametrize("scales", [{"memory": "half"}, {"runtime": None}, {"gpus": 0.5},
                                    {"memory": {"x": 1}}, "memory"])
def test_garbage_scales_are_refused_at_create_task(scales: Any) -> None:
    """Follows task.py validate_task_resource_scales: numbers, iterators or callables."""
    with pytest.raises(InvalidResources, match="resource_scales"):
        _template(Tool(), "t").create_task(arg="true", resource_scales=scales)


def test_garbage_from_an_iterator_is_refused_before_anything_is_sent(
        server: ServerThread) -> None:
    """advanced_usage.rst 'Custom Resource Scales': "Any Iterator should only yield numeric
    values"; a value that is none is refused at bind, with nothing sent."""
    tool = Tool(name="scales")
    tt = _template(tool, "t")
    workflow = tool.create_workflow(name="garbage", default_cluster_name="local")
    workflow.add_task(tt.create_task(arg="true", max_attempts=3,
                                     resource_scales={"runtime": iter([100, "later"])}))
    with pytest.raises(InvalidResources, match="the iterator gave 'later'"):
        workflow.bind()
    with pytest.raises(InvalidResources, match="the callable returned 'x'"):
        other = tool.create_workflow(name="garbage2", default_cluster_name="local")
        other.add_task(tt.create_task(arg="false", compute_resources={"runtime": 10},
                                      resource_scales={"runtime": lambda seconds: "x"}))
        other.bind()
    assert fetch(server.dsn, "SELECT count(*) FROM workflow")[0][0] == 0


def _instances(dsn: str, task_id: int | None) -> list[dict[str, Any]]:
    rows = fetch(dsn, "SELECT status, compute_resources FROM task_instance WHERE task_id = $1 "
                      "ORDER BY id", task_id)
    return [dict(row) for row in rows]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_resource_retry(server: ServerThread, cluster: str) -> None:
    """Follows advanced_usage.rst 'Resource Retry', scaled down: runtime '4s' (the page:
    '90s'), 'sleep 5' (110); killed, then retried with 50% more runtime, and done."""
    tool = Tool(name="resource_resume_tutorial")
    wf = tool.create_workflow(name="resource_resume_wf", workflow_args="wf_with_resource_retries")
    retry_tt = tool.get_task_template(template_name="resource_retry_tutorial_template",
                                      command_template="{arg}", node_args=["arg"],
                                      task_args=[], op_args=[])
    retry_task = retry_tt.create_task(
        arg="sleep 5", name="retry_task", max_attempts=2,
        compute_resources={"cores": 1, "runtime": "4s", "memory": "1Gb", "queue": "all.q",
                           "project": "proj_scicomp"},
        cluster_name=cluster)
    wf.add_task(retry_task)
    assert wf.run() == "D"
    instances = _instances(server.dsn, retry_task.task_id)
    assert [i["status"] for i in instances] == ["Z", "D"]
    assert [i["compute_resources"]["runtime"] for i in instances] == [4, 6]
    assert [i["compute_resources"]["memory"] for i in instances] == [1024, 1536]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_custom_resource_scales(server: ServerThread, cluster: str) -> None:
    """Follows advanced_usage.rst 'Custom Resource Scales', scaled down: runtime '2s',
    'sleep 4', ``iter([3, 6])`` (the page: '90s', 'sleep 110', iter([100, 120])): the second
    attempt runs 3 s and is killed, the third runs 6 s and is done."""
    tool = Tool(name="resource_resume_tutorial")
    wf = tool.create_workflow(name="resource_resume_wf", workflow_args="wf_with_custom_scales")
    retry_tt = tool.get_task_template(template_name="resource_retry_tutorial_template",
                                      command_template="{arg}", node_args=["arg"],
                                      task_args=[], op_args=[])
    retry_task = retry_tt.create_task(
        arg="sleep 4", name="retry_task", max_attempts=3,
        compute_resources={"cores": 1, "runtime": "2s", "memory": "1Gb", "queue": "all.q",
                           "project": "proj_scicomp"},
        resource_scales={"runtime": iter([3, 6])},
        cluster_name=cluster)
    wf.add_task(retry_task)
    assert wf.run() == "D"
    instances = _instances(server.dsn, retry_task.task_id)
    assert [i["status"] for i in instances] == ["Z", "Z", "D"]
    assert [i["compute_resources"]["runtime"] for i in instances] == [2, 3, 6]


ALLOCATE = (f"{sys.executable} -c \"b = bytearray({{mb}} * 1024 * 1024); "
            "b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(1)\"")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_a_callable_scale_and_an_endless_iterator(server: ServerThread, cluster: str) -> None:
    """Follows compute_resources.rst 'Custom Scaling' (``"memory": lambda x: x * 2``,
    memory in GiB as Jobmon passes it) with an endless iterator for runtime."""
    tool = Tool(name="callables")
    tt = tool.get_task_template(template_name="allocate", command_template=ALLOCATE,
                                node_args=["mb"])
    seen: list[float] = []

    def double(gib: float) -> float:
        seen.append(gib)
        return gib * 2

    task = tt.create_task(mb=300, max_attempts=3, cluster_name=cluster,
                          compute_resources={"memory": "200M", "runtime": 60},
                          resource_scales={"memory": double,
                                           "runtime": itertools.count(120, 60)})
    wf = tool.create_workflow(name="callables", workflow_args="callables")
    wf.add_task(task)
    assert wf.run() == "D"
    instances = _instances(server.dsn, task.task_id)
    assert [i["status"] for i in instances] == ["Z", "D"]
    assert [i["compute_resources"]["memory"] for i in instances] == [200, 400]
    assert [i["compute_resources"]["runtime"] for i in instances] == [60, 120]
    assert seen[-1] == pytest.approx(200 / 1024)  # GiB, as Jobmon's callables see memory
