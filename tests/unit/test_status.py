"""The four state machines: their tables, verdicts, parsing, and run-to-workflow mapping."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobmon import status
from jobmon.status import (
    TASK,
    TASK_INSTANCE,
    TASK_INSTANCE_FINAL,
    WORKFLOW,
    WORKFLOW_RUN,
    Machine,
    TaskInstanceStatus,
    TaskStatus,
    Verdict,
    WorkflowRunStatus,
    WorkflowStatus,
    workflow_status_for_run,
)


def pairs(text: str) -> set[tuple[str, str]]:
    """'G>Q A>Q' -> {('G', 'Q'), ('A', 'Q')}, written as in DESIGN.md."""
    return {(item[0], item[2]) for item in text.split()}


# Copied by hand from DESIGN.md ("State machines"), not computed from the module.
DESIGN_TASK = pairs("G>Q A>Q Q>I I>O I>E I>R O>R O>E R>D R>E E>A E>Q E>F E>G")
DESIGN_TASK_INSTANCE = pairs(
    "Q>I Q>K I>O I>W I>K I>R O>R O>U O>X O>Z O>K O>F R>T R>E R>U R>Z R>K R>D "
    "T>R T>Z T>U T>F K>F K>D X>E"
)
DESIGN_TASK_INSTANCE_LATE = pairs("R>O E>O E>U E>E U>D U>E U>Z Z>U D>U K>E K>Z K>U")

MACHINES: list[Machine[Any]] = [TASK, TASK_INSTANCE, WORKFLOW, WORKFLOW_RUN]


def as_letters(table: frozenset[tuple[object, object]]) -> set[tuple[str, str]]:
    return {(str(src), str(dst)) for src, dst in table}


# ------------------------------------------------------------------ the tables match the design


def test_task_table_is_exactly_the_design_list() -> None:
    assert as_letters(TASK.allowed) == DESIGN_TASK
    assert TASK.late == frozenset()


def test_task_instance_table_is_exactly_the_design_list() -> None:
    assert as_letters(TASK_INSTANCE.allowed) == DESIGN_TASK_INSTANCE


def test_task_instance_late_set_is_exactly_the_design_list() -> None:
    assert as_letters(TASK_INSTANCE.late) == DESIGN_TASK_INSTANCE_LATE


def test_late_and_allowed_never_overlap() -> None:
    for machine in MACHINES:
        assert not (machine.allowed & machine.late), machine.name


def test_letters_follow_jobmon_3() -> None:
    assert [str(s) for s in TaskStatus] == list("GQIORDEAF")
    assert [str(s) for s in TaskInstanceStatus] == list("QIORDEFKTUWXZ")
    assert [str(s) for s in WorkflowStatus] == list("GQIORDHFA")
    assert [str(s) for s in WorkflowRunStatus] == list("GLBIORDSECHTA")


def test_resume_drains_to_terminated() -> None:
    wr = WorkflowRunStatus
    for resume in (wr.COLD_RESUME, wr.HOT_RESUME):
        assert WORKFLOW_RUN.verdict(wr.RUNNING, resume) is Verdict.APPLY
        assert WORKFLOW_RUN.verdict(resume, wr.TERMINATED) is Verdict.APPLY
        assert WORKFLOW_RUN.verdict(resume, wr.RUNNING) is Verdict.REJECT


# ------------------------------------------------------------------ verdicts


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_every_pair_gets_apply_ignore_or_reject_by_the_rules(machine: Machine[Any]) -> None:
    for current, requested in itertools.product(list(machine.status_type), repeat=2):
        verdict = machine.verdict(current, requested)
        if (current, requested) in machine.allowed:
            expected = Verdict.APPLY
        elif current == requested or (current, requested) in machine.late:
            expected = Verdict.IGNORE
        else:
            expected = Verdict.REJECT
        assert verdict is expected, (machine.name, current, requested)


def test_task_instance_verdicts_from_the_design_letters() -> None:
    parse = TASK_INSTANCE.parse
    for current, requested in itertools.product("QIORDEFKTUWXZ", repeat=2):
        verdict = TASK_INSTANCE.verdict(parse(current), parse(requested))
        if (current, requested) in DESIGN_TASK_INSTANCE:
            assert verdict is Verdict.APPLY, (current, requested)
        elif current == requested or (current, requested) in DESIGN_TASK_INSTANCE_LATE:
            assert verdict is Verdict.IGNORE, (current, requested)
        else:
            assert verdict is Verdict.REJECT, (current, requested)


def test_task_verdicts_from_the_design_letters() -> None:
    parse = TASK.parse
    for current, requested in itertools.product("GQIORDEAF", repeat=2):
        verdict = TASK.verdict(parse(current), parse(requested))
        if (current, requested) in DESIGN_TASK:
            assert verdict is Verdict.APPLY, (current, requested)
        elif current == requested:
            assert verdict is Verdict.IGNORE, (current, requested)
        else:
            assert verdict is Verdict.REJECT, (current, requested)


@pytest.mark.parametrize(
    ("current", "requested"),
    [("R", "O"), ("D", "U"), ("K", "E"), ("E", "E"), ("U", "D")],
)
def test_late_reports_are_ignored_not_rejected(current: str, requested: str) -> None:
    verdict = TASK_INSTANCE.verdict(TaskInstanceStatus(current), TaskInstanceStatus(requested))
    assert verdict is Verdict.IGNORE


@pytest.mark.parametrize(
    ("current", "requested"),
    [("D", "R"), ("D", "E"), ("F", "R"), ("Q", "D"), ("E", "D"), ("Z", "D")],
)
def test_impossible_instance_reports_are_rejected(current: str, requested: str) -> None:
    verdict = TASK_INSTANCE.verdict(TaskInstanceStatus(current), TaskInstanceStatus(requested))
    assert verdict is Verdict.REJECT


def test_done_task_cannot_be_queued_or_failed() -> None:
    for requested in ("Q", "E", "F", "R"):
        assert TASK.verdict(TaskStatus.DONE, TaskStatus(requested)) is Verdict.REJECT


def test_repeated_status_is_ignored_for_every_machine() -> None:
    for machine in MACHINES:
        for same in machine.status_type:
            assert machine.verdict(same, same) in (Verdict.IGNORE, Verdict.APPLY)
            if (same, same) not in machine.allowed:
                assert machine.verdict(same, same) is Verdict.IGNORE


# ------------------------------------------------------------------ allowed_from


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_allowed_from_lists_exactly_the_sources_in_the_table(machine: Machine[Any]) -> None:
    for requested in machine.status_type:
        expected = sorted(str(src) for src, dst in machine.allowed if dst == requested)
        got = machine.allowed_from(requested)
        assert got == expected
        assert all(isinstance(letter, str) and len(letter) == 1 for letter in got)


def test_allowed_from_examples() -> None:
    assert TASK.allowed_from(TaskStatus.QUEUED) == ["A", "E", "G"]
    assert TASK.allowed_from(TaskStatus.DONE) == ["R"]
    assert TASK.allowed_from(TaskStatus.REGISTERING) == ["E"]
    assert TASK_INSTANCE.allowed_from(TaskInstanceStatus.RUNNING) == ["I", "O", "T"]
    assert TASK_INSTANCE.allowed_from(TaskInstanceStatus.DONE) == ["K", "R"]
    assert TASK_INSTANCE.allowed_from(TaskInstanceStatus.QUEUED) == []


# ------------------------------------------------------------------ parse


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_parse_accepts_every_letter(machine: Machine[Any]) -> None:
    for member in machine.status_type:
        assert machine.parse(str(member)) is member


@pytest.mark.parametrize("bad", ["", "q", "X", "DONE", "GG", " D"])
def test_parse_error_names_the_value_and_the_valid_letters(bad: str) -> None:
    with pytest.raises(ValueError) as caught:
        TASK.parse(bad)
    message = str(caught.value)
    assert repr(bad) in message
    assert "task status" in message
    assert "G, Q, I, O, R, D, E, A, F" in message


def test_parse_error_for_workflow_run_lists_its_own_letters() -> None:
    with pytest.raises(ValueError, match="workflow run status") as caught:
        WORKFLOW_RUN.parse("Z")
    for letter in "GLBIORDSECHTA":
        assert letter in str(caught.value)


# ------------------------------------------------------------------ workflow status for a run


def test_every_run_status_maps_to_a_workflow_status() -> None:
    for run_status in WorkflowRunStatus:
        assert isinstance(workflow_status_for_run(run_status), WorkflowStatus)


@pytest.mark.parametrize(
    ("run_status", "expected"),
    [("R", "R"), ("D", "D"), ("E", "F"), ("S", "H"), ("C", "H"), ("H", "H"), ("T", "H"),
     ("A", "A"), ("G", "I"), ("O", "O")],
)
def test_workflow_mirrors_its_latest_run(run_status: str, expected: str) -> None:
    assert workflow_status_for_run(WorkflowRunStatus(run_status)) == WorkflowStatus(expected)


def test_finished_runs_leave_the_workflow_resumable() -> None:
    for run_status in status.WORKFLOW_RUN_FINAL - {WorkflowRunStatus.DONE}:
        workflow = workflow_status_for_run(run_status)
        assert WORKFLOW.verdict(workflow, WorkflowStatus.INSTANTIATING) is Verdict.APPLY


def test_instance_outcomes_lead_to_reachable_task_statuses() -> None:
    for instance_status, task_status in status.TASK_FOLLOWS_INSTANCE.items():
        assert TASK.allowed_from(task_status), (instance_status, task_status)


def test_letters_helper_sorts_plain_strings() -> None:
    assert status.letters([TaskStatus.RUNNING, TaskStatus.DONE, TaskStatus.QUEUED]) == [
        "D", "Q", "R"]


# ------------------------------------------------------------------ properties

INSTANCE_STATUSES = list(TaskInstanceStatus)


@settings(max_examples=300)
@given(st.lists(st.sampled_from(INSTANCE_STATUSES), max_size=40))
def test_random_requests_only_ever_apply_table_transitions(
    requests: list[TaskInstanceStatus],
) -> None:
    current = TaskInstanceStatus.QUEUED
    for requested in requests:
        verdict = TASK_INSTANCE.verdict(current, requested)
        if verdict is Verdict.APPLY:
            assert (str(current), str(requested)) in DESIGN_TASK_INSTANCE
            current = requested
        else:
            assert (str(current), str(requested)) not in DESIGN_TASK_INSTANCE


@settings(max_examples=300)
@given(
    st.sampled_from(sorted(TASK_INSTANCE_FINAL)),
    st.lists(st.sampled_from(INSTANCE_STATUSES), max_size=30),
)
def test_final_instance_statuses_never_move(
    final: TaskInstanceStatus, requests: list[TaskInstanceStatus]
) -> None:
    current = final
    for requested in requests:
        verdict = TASK_INSTANCE.verdict(current, requested)
        assert verdict is not Verdict.APPLY, (current, requested)
        assert current == final


def test_final_set_is_the_documented_one() -> None:
    assert {str(s) for s in TASK_INSTANCE_FINAL} == set("DEFUWZ")


def test_every_status_has_one_name_and_colour_for_cli_and_dashboard() -> None:
    """The vocabulary the dashboard reads (/api/v1/statuses) names and colours every letter
    of every machine, and the CLI prints the same name in the same colour."""
    from jobmon.cli.render import TERMINAL_COLOURS, status_name, status_text

    served = status.vocabulary()
    machines = served["machines"]
    assert isinstance(machines, dict)
    for machine, status_type in status.STATUS_TYPES.items():
        assert set(machines[machine]) == {str(member) for member in status_type}, machine
        for letter, shown in machines[machine].items():
            assert shown["name"] == status_name(letter, machine)
            assert shown["label"] == shown["name"].replace("_", " ").capitalize()
            assert str(status_text(letter, machine).style) == TERMINAL_COLOURS[shown["colour"]]
    assert machines["task"]["F"]["label"] == "Error fatal"
    assert machines["run"]["S"]["colour"] == "purple"
    assert served["live"]["run"] == ["B", "C", "G", "H", "I", "L", "O", "R"]
    assert sorted(served["task_order"]) == sorted(str(member) for member in status.TaskStatus)


def test_the_dashboard_s_task_filters_put_each_task_letter_in_one_chip() -> None:
    served = status.vocabulary()["task_filters"]
    assert isinstance(served, list)
    chosen = [letter for letters, _ in served for letter in letters.split(",")]
    assert sorted(chosen) == sorted(str(member) for member in status.TaskStatus)
    assert ["E,A", "Retrying"] in served
