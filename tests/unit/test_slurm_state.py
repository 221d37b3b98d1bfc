"""Parsing Slurm's output and mapping job states to instance statuses, on recorded output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobmon.distributor.plugins.slurm_state import (
    Action,
    JobRecord,
    Snapshot,
    Timing,
    Watch,
    accounting_enabled,
    decode_wait_status,
    format_job,
    judge_missing,
    judge_record,
    max_array_size,
    next_interval,
    parse_config,
    parse_distributor_id,
    parse_index_ranges,
    parse_sacct,
    parse_squeue_json,
    reconcile,
    vanished_report,
)

DATA = Path(__file__).parent / "data"
TIMING = Timing(completed_grace=3.0, orphan_grace=5.0, vanish_grace=10.0, vanish_polls=2)


@pytest.fixture(scope="module")
def recorded() -> Snapshot:
    return parse_squeue_json((DATA / "squeue_all.json").read_bytes())


@pytest.fixture(scope="module")
def mixed() -> Snapshot:
    return parse_squeue_json((DATA / "squeue_mixed.json").read_bytes())


def test_distributor_ids_round_trip() -> None:
    assert parse_distributor_id("123_4") == (123, 4)
    assert parse_distributor_id("123") == (123, None)
    assert parse_distributor_id(" 7_0 ") == (7, 0)
    for bad in (None, "", "dummy-3", "12_x", "4242-1"):
        assert parse_distributor_id(bad) is None
    assert format_job((123, 4)) == "123_4"
    assert format_job((123, None)) == "123"


@pytest.mark.parametrize(("text", "inside", "outside"), [
    ("1-2", [1, 2], [0, 3]),
    ("3-4,6-9%2", [3, 4, 6, 9], [5, 10, 2]),
    ("1-9:2", [1, 3, 9], [2, 8, 10]),
    ("[0-5]", [0, 5], [6]),
    ("7", [7], [6, 8]),
    ("0-99999", [0, 54321, 99999], [100000]),
])
def test_array_index_ranges(text: str, inside: list[int], outside: list[int]) -> None:
    ranges = parse_index_ranges(text)
    assert all(index in ranges for index in inside)
    assert not any(index in ranges for index in outside)


def test_exit_codes_are_wait_statuses() -> None:
    assert decode_wait_status(0) == (0, None)
    assert decode_wait_status(768) == (3, None)
    assert decode_wait_status(1792) == (7, None)
    assert decode_wait_status(15) == (None, 15)
    assert decode_wait_status(9) == (None, 9)


def test_recorded_squeue_output_gives_every_job(recorded: Snapshot) -> None:
    assert recorded.find((1, None)) == JobRecord("COMPLETED", "", 0, None)
    assert recorded.find((3, None)) == JobRecord("FAILED", "NonZeroExitCode", 3, None)
    assert recorded.find((6, None)) is not None
    assert recorded.find((6, None)).state == "OUT_OF_MEMORY"  # type: ignore[union-attr]
    assert recorded.find((7, None)) == JobRecord("TIMEOUT", "TimeLimit", None, 15)
    assert recorded.find((11, None)) == JobRecord("CANCELLED", "", None, 15)
    assert recorded.find((2, 0)) == JobRecord("COMPLETED", "", 0, None)
    assert recorded.find((2, 2)) == JobRecord("FAILED", "NonZeroExitCode", 7, None)
    assert recorded.find((14, 0)) == JobRecord("RUNNING", "", 0, None)
    # array 14's tasks 1 and 2 have not started: one record with a task string
    assert recorded.find((14, 1)) == JobRecord("PENDING", "Resources", 0, None)
    assert recorded.find((14, 2)) == recorded.find((14, 1))
    assert recorded.find((14, 3)) is None
    assert recorded.find((13, None)) == JobRecord("PENDING", "BeginTime", 0, None)
    assert recorded.find((99, None)) is None


def test_recorded_mixed_array_and_cancelled_pending_tasks(mixed: Snapshot) -> None:
    ids = json.loads((DATA / "squeue_mixed.ids.json").read_text())
    array, timeout, pending, cancelled = ids["array"], ids["timeout"], ids["pending"], \
        ids["cancelled"]
    assert mixed.find((array, 0)).state == "COMPLETED"  # type: ignore[union-attr]
    assert mixed.find((array, 1)) == JobRecord("FAILED", "NonZeroExitCode", 7, None)
    assert mixed.find((array, 2)).state == "OUT_OF_MEMORY"  # type: ignore[union-attr]
    assert mixed.find((array, 3)).state == "RUNNING"  # type: ignore[union-attr]
    assert mixed.find((timeout, None)).state == "TIMEOUT"  # type: ignore[union-attr]
    assert mixed.find((cancelled, None)).state == "CANCELLED"  # type: ignore[union-attr]
    # cancelled pending array tasks vanish: only the others are still listed
    listed = [index for index in range(10) if mixed.find((pending, index)) is not None]
    assert listed == [0, 1, 2, 4, 6, 7, 8, 9]
    assert mixed.names["jobmon-rec-mixed"] == array
    # `scancel <array>` with tasks pending: those show as one compact CANCELLED record
    compact = ids["cancelled_array"]
    assert mixed.find((compact, 6)) == JobRecord("CANCELLED", "Resources", 0, None)
    assert mixed.find((compact, 1)) == JobRecord("CANCELLED", "", None, 15)
    assert mixed.find((compact, 5)) is None  # cancelled alone while pending: vanished


def test_later_slurm_json_shapes_are_understood() -> None:
    payload = json.dumps({"jobs": [
        {"job_id": 40, "array_job_id": {"set": True, "infinite": False, "number": 40},
         "array_task_id": {"set": True, "infinite": False, "number": 3},
         "array_task_string": "", "job_state": ["OUT_OF_MEMORY"], "state_reason": "OutOfMemory",
         "exit_code": {"status": ["SIGNALED"], "return_code": {"set": True, "number": 0},
                       "signal": {"id": {"set": True, "number": 9}, "name": "KILL"}},
         "name": "x"},
        {"job_id": 41, "array_job_id": {"set": True, "number": 41},
         "array_task_id": {"set": False, "number": 0}, "array_task_string": "4-6",
         "job_state": ["PENDING"], "state_reason": "Priority",
         "exit_code": {"status": ["PENDING"], "return_code": {"set": True, "number": 0}}},
    ]}).encode()
    snapshot = parse_squeue_json(payload)
    assert snapshot.find((40, 3)) == JobRecord("OUT_OF_MEMORY", "OutOfMemory", None, 9)
    assert snapshot.find((41, 5)) == JobRecord("PENDING", "Priority", 0, None)


def test_garbage_is_an_error_not_an_empty_cluster() -> None:
    with pytest.raises(ValueError, match="squeue"):
        parse_squeue_json(b"slurm_load_jobs error: Unable to contact slurm controller")


def test_sacct_lines() -> None:
    snapshot = parse_sacct(
        "5_0|COMPLETED|0:0\n5_1|FAILED|7:0\n5_[3-9]|PENDING|0:0\n"
        "7|CANCELLED by 0|0:15\n8_2|OUT_OF_MEMORY|0:125\nnot a line\n"
    )
    assert snapshot.find((5, 0)) == JobRecord("COMPLETED", "", 0, None)
    assert snapshot.find((5, 1)) == JobRecord("FAILED", "", 7, None)
    assert snapshot.find((5, 4)) == JobRecord("PENDING", "", 0, None)
    assert snapshot.find((7, None)) == JobRecord("CANCELLED", "by 0", None, 15)
    assert snapshot.find((8, 2)) == JobRecord("OUT_OF_MEMORY", "", None, 125)


def test_recorded_sacct_output() -> None:
    # array 1: tasks 0-2 as in mixed.sh, task 3 cancelled while running; array 2 pending with
    # task 2 cancelled (gone); job 3 cancelled while running
    snapshot = parse_sacct((DATA / "sacct_mixed.txt").read_text())
    assert snapshot.find((1, 0)) == JobRecord("COMPLETED", "", 0, None)
    assert snapshot.find((1, 1)) == JobRecord("FAILED", "", 7, None)
    assert snapshot.find((1, 2)) == JobRecord("OUT_OF_MEMORY", "", None, 125)
    assert snapshot.find((1, 3)) == JobRecord("CANCELLED", "by 0", 0, None)
    assert snapshot.find((2, 4)) == JobRecord("PENDING", "", 0, None)
    assert snapshot.find((2, 2)) is None
    assert snapshot.find((3, None)) == JobRecord("CANCELLED", "by 0", 0, None)
    decision = judge_record(_watch((3, None)), snapshot.find((3, None)),  # type: ignore[arg-type]
                            1.0, TIMING)
    assert decision is not None and "(by uid 0)" in decision.message


def test_recorded_scontrol_config() -> None:
    config = parse_config((DATA / "scontrol_config.txt").read_text())
    assert max_array_size(config) == 100001
    assert not accounting_enabled(config)
    assert accounting_enabled({"AccountingStorageType": "accounting_storage/slurmdbd"})
    assert max_array_size({}) == 1001


def _watch(job: tuple[int, int | None] = (5, 0), since: float = 0.0) -> Watch:
    return Watch(task_instance_id=11, job=job, since=since)


@pytest.mark.parametrize(("state", "statuses", "words"), [
    ("OUT_OF_MEMORY", ("Z",), "out of memory"),
    ("TIMEOUT", ("Z",), "time limit"),
    ("NODE_FAIL", ("U",), "node failed"),
    ("BOOT_FAIL", ("U",), "boot"),
    ("PREEMPTED", ("U",), "preempted"),
    ("DEADLINE", ("U",), "deadline"),
    ("CANCELLED", ("E", "U"), "cancelled outside Jobmon, for example by scancel"),
    ("FAILED", ("E", "U"), "exit code 3"),
])
def test_terminal_states_map_to_instance_statuses(state: str, statuses: tuple[str, ...],
                                                   words: str) -> None:
    decision = judge_record(_watch(), JobRecord(state, "", 3, None), 100.0, TIMING)
    assert decision is not None and decision.action is Action.REPORT
    assert decision.statuses == statuses
    assert words in decision.message and "5_0" in decision.message


def test_cancelled_says_who_when_accounting_knows() -> None:
    decision = judge_record(_watch(), JobRecord("CANCELLED", "by 1042", None, 15), 1.0, TIMING)
    assert decision is not None and "cancelled outside Jobmon (by uid 1042)" in decision.message
    pending = judge_record(_watch(), JobRecord("CANCELLED", "Resources", 0), 1.0, TIMING)
    assert pending is not None and "Resources" not in pending.message


def test_failed_job_reports_its_exit_code() -> None:
    decision = judge_record(_watch(), JobRecord("FAILED", "NonZeroExitCode", 3, None), 1.0,
                            TIMING)
    assert decision is not None and decision.exit_code == 3
    killed = judge_record(_watch(), JobRecord("FAILED", "", None, 9), 1.0, TIMING)
    assert killed is not None and killed.exit_code == -9 and "signal 9" in killed.message


def test_completed_without_a_done_report_is_not_success() -> None:
    watch = _watch()
    assert judge_record(watch, JobRecord("COMPLETED", "", 0), 10.0, TIMING) is None
    assert judge_record(watch, JobRecord("COMPLETED", "", 0), 12.0, TIMING) is None
    decision = judge_record(watch, JobRecord("COMPLETED", "", 0), 13.0, TIMING)
    assert decision is not None and decision.statuses == ("U",)
    assert "never reported" in decision.message


def test_completed_after_the_worker_reported_is_forgotten_quietly() -> None:
    watch = _watch()
    watch.ended_on_server = 9.0  # the heartbeat said the server no longer expects it
    decision = judge_record(watch, JobRecord("COMPLETED", "", 0), 10.0, TIMING)
    assert decision is not None and decision.action is Action.FORGET


def test_running_jobs_are_left_alone_until_the_server_gives_up_on_them() -> None:
    watch = _watch()
    assert judge_record(watch, JobRecord("RUNNING"), 1.0, TIMING) is None
    assert judge_record(watch, JobRecord("PENDING", "Priority"), 1.0, TIMING) is None
    watch.ended_on_server = 10.0
    assert judge_record(watch, JobRecord("RUNNING"), 12.0, TIMING) is None  # still finishing
    orphan = judge_record(watch, JobRecord("RUNNING"), 15.0, TIMING)
    assert orphan is not None and orphan.action is Action.CANCEL and watch.cancelled
    assert judge_record(watch, JobRecord("RUNNING"), 16.0, TIMING) is None  # once
    gone = judge_record(watch, JobRecord("CANCELLED", "", None, 15), 17.0, TIMING)
    assert gone is not None and gone.action is Action.FORGET


def test_our_own_cancellation_is_not_a_failure() -> None:
    watch = _watch()
    watch.cancelled = True
    decision = judge_record(watch, JobRecord("CANCELLED", "", None, 15), 1.0, TIMING)
    assert decision is not None and decision.action is Action.FORGET
    # a cancelled pending array task simply vanishes
    assert judge_missing(_cancelled(), 1.0, TIMING).action is Action.FORGET  # type: ignore[union-attr]


def _cancelled() -> Watch:
    watch = _watch()
    watch.cancelled = True
    return watch


def test_a_job_that_vanished_is_an_unknown_error_after_grace() -> None:
    watch = _watch(since=0.0)
    assert judge_missing(watch, 1.0, TIMING) is None  # just submitted
    assert judge_missing(watch, 11.0, TIMING) is not None  # missed twice, old enough
    watch = _watch(since=0.0)
    assert judge_missing(watch, 20.0, TIMING) is None  # missed once only
    decision = judge_missing(watch, 21.0, TIMING)
    assert decision is not None and decision.action is Action.VANISHED
    report = vanished_report(watch)
    assert report.statuses == ("U",) and "vanished" in report.message


def test_reconcile_against_recorded_output(recorded: Snapshot) -> None:
    watches = [
        Watch(1, (1, None), 0.0), Watch(2, (3, None), 0.0), Watch(3, (6, None), 0.0),
        Watch(4, (7, None), 0.0), Watch(5, (14, 0), 0.0), Watch(6, (14, 2), 0.0),
        Watch(7, (2, 2), 0.0), Watch(8, (11, None), 0.0),
    ]
    watches[0].ended_on_server = 0.5  # the worker reported DONE
    decisions = {d.task_instance_id: d for d in reconcile(watches, recorded, 1.0, TIMING)}
    assert decisions[1].action is Action.FORGET
    assert decisions[2].statuses == ("E", "U") and decisions[2].exit_code == 3
    assert decisions[3].statuses == ("Z",)
    assert decisions[4].statuses == ("Z",)
    assert 5 not in decisions and 6 not in decisions  # running, pending
    assert decisions[7].exit_code == 7
    assert decisions[8].statuses == ("E", "U")


def test_query_interval_adapts_to_the_query_time() -> None:
    assert next_interval(0.01, 1.0, 20.0, 120.0) == 1.0
    assert next_interval(0.5, 1.0, 20.0, 120.0) == 10.0
    assert next_interval(30.0, 1.0, 20.0, 120.0) == 120.0
