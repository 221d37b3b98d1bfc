"""Pure rules of the Jobmon-compatible model: cluster names, limits, default names, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jobmon.client import limits, resource_files
from jobmon.client.task_template import default_task_name, template_fields
from jobmon.clusters import check_cluster, for_cluster
from jobmon.errors import InvalidCommandTemplate, InvalidResources, MissingResourceKey


@pytest.mark.parametrize(("given", "suggestion"), [
    ("slurmm", "slurm"), ("Slurm", "slurm"), ("lcoal", "local"), ("sequental", "sequential"),
    ("LOCAL ", "local")])
def test_an_unknown_cluster_gets_a_suggestion(given: str, suggestion: str) -> None:
    with pytest.raises(InvalidResources, match=f"did you mean '{suggestion}'"):
        check_cluster(given)


@pytest.mark.parametrize("given", ["pbs", "", None, 5])
def test_an_unknown_cluster_without_a_near_name_lists_them(given: object) -> None:
    with pytest.raises(InvalidResources, match="local, sequential, dummy, slurm") as caught:
        check_cluster(given)
    assert "did you mean" not in str(caught.value)


def test_for_cluster_drops_the_queue_on_this_machine_only() -> None:
    given = {"queue": "all.q", "cores": 1, "stdout": "/o"}
    assert for_cluster("local", given) == {"cores": 1, "stdout": "/o"}
    assert for_cluster("sequential", given) == {"cores": 1, "stdout": "/o"}
    assert for_cluster("slurm", given) == given
    with pytest.raises(InvalidResources, match="does not know the resource"):
        for_cluster("local", {"gres": "gpu:1"})


def test_limits_come_from_the_wire_schema() -> None:
    assert (limits.TASK_NAME, limits.COMMAND, limits.MAX_ATTEMPTS) == (1000, 1_000_000, 1000)
    assert limits.check_count("n", np.int64(3), 10) == 3
    for bad in (0, 11, True, 1.5, "3", None):
        with pytest.raises(ValueError, match="whole number from 1 to 10"):
            limits.check_count("n", bad, 10)
    with pytest.raises(ValueError, match="2,000 characters long; the limit is 1,000"):
        limits.check_text("a name", "x" * 2000, 1000)
    with pytest.raises(ValueError, match="must not be empty"):
        limits.check_text("a name", "  ", 1000)


def test_default_task_names_follow_jobmon() -> None:
    assert default_task_name("tt", {"a": 1, "b": "x y"}) == "tt_a-1_b-x_y"
    assert default_task_name("tt", {}) == "tt"
    assert default_task_name("tt", {"path": "/a/'b'\\c\""}) == "tt_path-_a__b__c_"
    assert len(default_task_name("tt", {"a": "z" * 5000})) == 249


def test_template_fields_allow_format_specs_but_not_positions() -> None:
    assert template_fields("{a:04d} {b!r} {a} {{literal}}") == ["a", "b"]
    for bad in ("{}", "{0}", "{a.b}", "{a[0]}", "{a"):
        with pytest.raises(InvalidCommandTemplate):
            template_fields(bad)


def test_resource_file_sections_name_the_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("tool_resources:\n  local: {cores: 2}\n")
    content = resource_files.read(path)
    assert resource_files.tool_section(content, path, "tool_resources", "local") == {"cores": 2}
    with pytest.raises(MissingResourceKey) as caught:
        resource_files.tool_section(content, path, "tool_resources", "slurm")
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)
    assert str(caught.value) == f"no tool_resources -> slurm in the resource file {str(path)!r}"
    path.write_text("")
    assert resource_files.read(path) == {}
