"""The pure rules of issue 18: upstream outputs by name, the files an output names, the
state of a chain, parameters, and promised results."""

from __future__ import annotations

import pytest

from jobmon import results
from jobmon.wire_results import ChainLink, Parameter, ResultSpec


def test_outputs_by_name_keep_every_task_when_names_repeat() -> None:
    named = results.named_outputs([(1, "a", 1), (2, "b", 2), (3, "b", 3)])
    assert named == {"a": 1, "b#2": 2, "b#3": 3}


def test_files_are_made_absolute_and_only_those_in_the_folder_count() -> None:
    folder = "/logs/workflow-7/ti9.files"
    output, problem = results.checked_files(
        {"x": 1, "jobmon_files": ["a.csv", "sub/b.csv", "../ti8.files/c", "/etc/passwd",
                                  folder + "/d", "", "."]}, folder)
    assert output == {"x": 1, "jobmon_files": [f"{folder}/a.csv", f"{folder}/sub/b.csv",
                                               f"{folder}/d"]}
    assert "4 file(s) outside JOBMON_FILES" in problem and "/etc/passwd" in problem
    assert results.checked_files({"jobmon_files": "a.csv"}, folder) == (
        {}, "jobmon_files must be a list of file names; ignored")
    assert results.checked_files([1, 2], folder) == ([1, 2], "")


def test_a_file_belongs_to_an_instance_only_inside_its_own_folder() -> None:
    assert results.instance_file("/l/workflow-7/ti9.files/sub/a", 7, 9) == (
        "/l/workflow-7/ti9.files", "sub/a")
    for path in ("/l/workflow-7/ti9.files", "/l/workflow-7/ti8.files/a",
                 "/l/workflow-6/ti9.files/a", "/l/workflow-7/ti9.files/../x",
                 "l/workflow-7/ti9.files/a", "/l/workflow-7/ti9.files//a", "/etc/passwd"):
        assert results.instance_file(path, 7, 9) is None, path


def _link(workflow_id: int, status: str, linker: str | None = "m:f",
          next_id: int | None = None, error: str | None = None,
          ended: bool = False) -> ChainLink:
    return ChainLink(workflow_id=workflow_id, name="w", workflow_args="", status=status,
                     linker=linker, next_workflow_id=next_id, error=error, ended=ended)


@pytest.mark.parametrize(("links", "state", "resume_at", "words"), [
    ([_link(1, "D", next_id=2), _link(2, "D", None)], "DONE", None, "all 2"),
    ([_link(1, "D", ended=True)], "DONE", None, "all 1"),
    ([_link(1, "R")], "RUNNING", 1, "RUNNING"),
    ([_link(1, "D", next_id=2), _link(2, "F", next_id=None)], "STOPPED", 2, "FAILED"),
    ([_link(1, "D", error="boom")], "STOPPED", 1, "boom"),
    ([_link(1, "D")], "WAITING", 1, "not made yet"),
    ([_link(1, "D", next_id=2), _link(2, "Q", None)], "WAITING", 2, "waits for its run"),
])
def test_the_state_of_a_chain(links: list[ChainLink], state: str, resume_at: int | None,
                              words: str) -> None:
    found, message, where = results.chain_state(links)
    assert (found, where) == (state, resume_at) and words in message


def test_parameters_get_defaults_and_every_problem_is_named() -> None:
    declared = [Parameter(name="year", type="int", required=True),
                Parameter(name="scale", type="float", default=1),
                Parameter(name="on", type="bool", default=False)]
    valued = results.check_parameters(declared, {"year": 2020})
    assert [(p.name, p.value) for p in valued] == [("year", 2020), ("scale", 1.0),
                                                   ("on", False)]
    with pytest.raises(ValueError) as error:
        results.check_parameters(declared, {"scale": "big", "on": 1, "x": 2})
    text = str(error.value)
    assert "'year' (int) is required" in text and "'scale' must be of type float" in text
    assert "'on' must be of type bool" in text and "'x' is not a declared parameter" in text
    with pytest.raises(ValueError, match="must be of type int, not bool"):
        results.check_parameters([Parameter(name="n", type="int")], {"n": True})


def test_results_are_read_from_outputs_and_named_files() -> None:
    outputs = {"fit": {"rmse": [0.5, 0.25], "jobmon_files": ["/w/ti3.files/draws.csv"]}}
    specs = [ResultSpec(name="rmse", task="fit", key="rmse.1"),
             ResultSpec(name="all", task="fit"),
             ResultSpec(name="draws", task="fit", key="draws.csv", file=True),
             ResultSpec(name="gone", task="fit", key="other.csv", file=True),
             ResultSpec(name="nope", task="missing")]
    values, missing = results.read_results(specs, outputs)
    assert values == {"rmse": 0.25, "all": outputs["fit"], "draws": "/w/ti3.files/draws.csv"}
    assert set(missing) == {"gone", "nope"} and "left no output" in missing["nope"]


def test_the_outputs_of_input_runs_are_held_to_the_limit_first_runs_first() -> None:
    sizes = [(7, 40), (8, 60), (9, 1)]
    assert results.runs_with_outputs(sizes, limit=100) == {7, 8}
    assert results.runs_with_outputs(sizes, limit=99) == {7}  # 9 would fit, but comes after
    assert results.runs_with_outputs(sizes, limit=39) == set()
    assert results.runs_with_outputs([], limit=0) == set()


def test_an_input_run_entry_keeps_its_results_when_its_outputs_are_left_out() -> None:
    specs = [ResultSpec(name="total", task="c#12", key="value")]
    assert results.result_tasks(specs) == {"c#12", "c"}
    assert results.result_tasks([ResultSpec(name="x", task="a#b")]) == {"a#b"}
    outputs = {"c#12": {"value": 3}, "c#13": {"value": 4}}
    parameters = [Parameter(name="year", type="int", value=2020)]
    entry = results.run_entry("run", "args", parameters, specs, outputs, with_outputs=False)
    assert entry == {"name": "run", "workflow_args": "args", "parameters": {"year": 2020},
                     "results": {"total": 3}, "outputs": None}
    whole = results.run_entry("run", "args", parameters, specs, outputs, with_outputs=True)
    assert whole["outputs"] == outputs
