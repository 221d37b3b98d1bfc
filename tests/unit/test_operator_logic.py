"""Pure pieces of the operator CLI and of task updates."""

from __future__ import annotations

import click
import pytest
from rich.console import Console

from jobmon.cli.common import spread_values
from jobmon.cli.render import seconds, size, table
from jobmon.cli.workflow import task_letters
from jobmon.client.status_tables import with_percent
from jobmon.server.store.operator import workflow_status_after_update
from jobmon.status import WORKFLOW, TaskStatus, Verdict, WorkflowStatus
from jobmon.status_groups import group_counts, instance_statuses


@pytest.mark.parametrize(("args", "expected"), [
    (["-t", "1", "2", "3", "-s", "G"], ["-t", "1", "-t", "2", "-t", "3", "-s", "G"]),
    (["-w", "5", "-t", "1"], ["-w", "5", "-t", "1"]),
    (["-t", "1", "-t", "2"], ["-t", "1", "-t", "2"]),
    (["--task-id", "7", "8", "--yes"], ["--task-id", "7", "--task-id", "8", "--yes"]),
    (["-s", "1", "2"], ["-s", "1", "2"]),  # not a many-values option: click says what is wrong
    (["-t", "1", "--", "-t", "2"], ["-t", "1", "--", "-t", "2"]),
])
def test_several_values_after_one_flag(args: list[str], expected: list[str]) -> None:
    assert spread_values(args, {"-t", "--task-id"}) == expected


def test_task_status_words() -> None:
    assert task_letters(("F", "done")) == ["D", "F"]
    # Jobmon's groups: O (LAUNCHED) is SCHEDULED, not PENDING
    assert task_letters(("PENDING",)) == ["A", "E", "G", "I", "Q"]
    assert task_letters(("pending", "Scheduled")) == ["A", "E", "G", "I", "O", "Q"]
    assert task_letters(("R,ERROR_FATAL",)) == ["F", "R"]
    with pytest.raises(click.BadParameter, match="'Y' is not a status"):
        task_letters(("Y",))
    # instances: Jobmon's groups, names (ERROR) and letters
    assert instance_statuses(("done",)) == ["D"]
    assert instance_statuses(("ERROR", "Z")) == ["E", "Z"]
    assert instance_statuses(("fatal",)) == ["E", "F", "K", "U", "W", "X", "Z"]


def test_updates_move_the_workflow_only_along_its_transition_table() -> None:
    assert workflow_status_after_update(TaskStatus.DONE, all_done=True) is WorkflowStatus.DONE
    assert workflow_status_after_update(TaskStatus.DONE, all_done=False) is None
    assert workflow_status_after_update(TaskStatus.REGISTERING, all_done=False) is \
        WorkflowStatus.HALTED
    # a reset DONE workflow is halted, and a halted one can be resumed
    assert WORKFLOW.verdict(WorkflowStatus.DONE, WorkflowStatus.HALTED) is Verdict.APPLY
    assert WORKFLOW.verdict(WorkflowStatus.HALTED, WorkflowStatus.INSTANTIATING) is Verdict.APPLY
    for finished in (WorkflowStatus.FAILED, WorkflowStatus.HALTED):
        assert WORKFLOW.verdict(finished, WorkflowStatus.DONE) is Verdict.APPLY


def test_counts_and_units_as_people_read_them() -> None:
    assert group_counts({"G": 1, "Q": 2, "E": 1, "O": 2, "R": 3, "D": 4, "F": 5}) == \
        {"PENDING": 4, "SCHEDULED": 2, "RUNNING": 3, "DONE": 4, "FATAL": 5}
    # as Jobmon writes a share: one decimal
    assert with_percent(2, 3) == "2 (66.7%)"
    assert with_percent(2, 2) == "2 (100.0%)"
    assert with_percent(0, 0) == "0 (0.0%)"
    assert size(None) == "-" and size(512) == "512B" and size(3 * 1024**3) == "3.0G"
    assert seconds(None) == "-" and seconds(2.5) == "2.5s" and seconds(3725) == "1:02:05"


def test_a_wide_table_fits_80_columns() -> None:
    console = Console(width=80, record=True, color_system=None)
    grid = table("ID", "NAME", "STATUS", "TASKS", "PENDING", "RUNNING", "DONE", "FATAL",
                 "RETRIES")
    grid.columns[1].overflow = "fold"
    grid.add_row("123456", "a very long workflow name " * 4, "RUNNING", "1000000",
                 "999999 (100%)", "1 (0%)", "0 (0%)", "0 (0%)", "12345")
    console.print(grid)
    assert max(len(line) for line in console.export_text().splitlines()) <= 80
