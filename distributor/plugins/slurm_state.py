"""What Slurm says about our jobs, and what that means for their task instances (pure).

Parses ``squeue --json``, ``sacct -P`` and ``scontrol show config`` output, and decides,
for each watched instance, whether Slurm's record calls for a report. No I/O, no clock:
the caller passes the time in.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from jobmon.status import TaskInstanceStatus

TIS = TaskInstanceStatus

# (array job id, task index), or (job id, None) for a job that is not an array task
JobKey = tuple[int, int | None]

ACTIVE_STATES = frozenset({
    "PENDING", "RUNNING", "SUSPENDED", "COMPLETING", "CONFIGURING", "REQUEUED",
    "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED",
    "POWER_UP_NODE", "UPDATE_DB", "RESV_DEL_HOLD",
})
# Terminal states Slurm decided on its own, and the instance status each means.
_CLUSTER_ENDED: Mapping[str, tuple[TaskInstanceStatus, str]] = {
    "OUT_OF_MEMORY": (TIS.RESOURCE_ERROR, "the job ran out of memory (Slurm: OUT_OF_MEMORY)"),
    "TIMEOUT": (TIS.RESOURCE_ERROR, "the job reached its time limit (Slurm: TIMEOUT)"),
    "NODE_FAIL": (TIS.UNKNOWN_ERROR, "the job's node failed (Slurm: NODE_FAIL)"),
    "BOOT_FAIL": (TIS.UNKNOWN_ERROR, "the job's node failed to boot (Slurm: BOOT_FAIL)"),
    "DEADLINE": (TIS.UNKNOWN_ERROR, "the job missed its deadline (Slurm: DEADLINE)"),
    "PREEMPTED": (TIS.UNKNOWN_ERROR, "the job was preempted (Slurm: PREEMPTED)"),
    "REVOKED": (TIS.UNKNOWN_ERROR, "the job was revoked (Slurm: REVOKED)"),
    "LAUNCH_FAILED": (TIS.UNKNOWN_ERROR, "the job failed to launch (Slurm: LAUNCH_FAILED)"),
    "RECONFIG_FAIL": (TIS.UNKNOWN_ERROR, "the job failed on reconfiguration (Slurm: "
                                        "RECONFIG_FAIL)"),
    "SPECIAL_EXIT": (TIS.UNKNOWN_ERROR, "the job ended in SPECIAL_EXIT"),
}
TERMINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", *_CLUSTER_ENDED})

# A failure report, then UNKNOWN_ERROR: the server refuses E for an instance that never
# reported RUNNING (O to E is not a transition) and applies the U instead; after an E it
# ignores the U as late.
FAILURE_REPORTS = (str(TIS.ERROR), str(TIS.UNKNOWN_ERROR))


# ------------------------------------------------------------------ ids and array indices


def parse_distributor_id(text: str | None) -> JobKey | None:
    """'123_4' is task 4 of array 123, '123' is job 123; anything else is None."""
    if not text:
        return None
    match = re.fullmatch(r"(\d+)(?:_(\d+))?", text.strip())
    if match is None:
        return None
    return int(match.group(1)), None if match.group(2) is None else int(match.group(2))


def format_job(key: JobKey) -> str:
    """The id scancel and users understand: '123_4' or '123'."""
    job_id, index = key
    return str(job_id) if index is None else f"{job_id}_{index}"


@dataclass(frozen=True)
class IndexRanges:
    """Array task indices as (first, last, step) ranges, both ends included."""

    ranges: tuple[tuple[int, int, int], ...]

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int):
            return False
        return any(
            first <= index <= last and (index - first) % step == 0
            for first, last, step in self.ranges
        )


def parse_index_ranges(text: str) -> IndexRanges:
    """Indices from Slurm's notation: '1-2', '3-4,6-9%2', '1-9:2', '[0-5]', '7'."""
    body = text.strip().strip("[]").split("%", 1)[0]
    ranges: list[tuple[int, int, int]] = []
    for part in body.split(","):
        match = re.fullmatch(r"\s*(\d+)(?:-(\d+)(?::(\d+))?)?\s*", part)
        if match is None:
            continue
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        step = int(match.group(3)) if match.group(3) else 1
        ranges.append((first, last, max(step, 1)))
    return IndexRanges(tuple(ranges))


# ------------------------------------------------------------------ job records


@dataclass(frozen=True)
class JobRecord:
    """One job (or array task) as Slurm reports it."""

    state: str
    reason: str = ""
    exit_code: int | None = None  # the batch script's exit status
    signal: int | None = None  # the signal that ended it, if any


@dataclass
class Snapshot:
    """Every job one query returned: started tasks by key, pending array tasks by ranges."""

    jobs: dict[JobKey, JobRecord] = field(default_factory=dict)
    pending: dict[int, list[tuple[IndexRanges, JobRecord]]] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)  # job name -> job id

    def find(self, key: JobKey) -> JobRecord | None:
        record = self.jobs.get(key)
        if record is not None:
            return record
        job_id, index = key
        if index is not None:
            for ranges, pending in self.pending.get(job_id, ()):
                if index in ranges:
                    return pending
        return None

    def add_pending(self, job_id: int, ranges: IndexRanges, record: JobRecord) -> None:
        self.pending.setdefault(job_id, []).append((ranges, record))


def decode_wait_status(raw: int) -> tuple[int | None, int | None]:
    """squeue's exit_code is a wait status: (exit code, None) or (None, signal)."""
    if raw & 0x7F:
        return None, raw & 0x7F
    return (raw >> 8) & 0xFF, None


class _SqueueJob(msgspec.Struct):
    # Any: Slurm 22.05 (openapi v0.0.38) gives plain values; later versions wrap numbers
    # as {"set", "number"}, states as lists and exit codes as objects.
    job_id: Any = None
    array_job_id: Any = None
    array_task_id: Any = None
    array_task_string: Any = ""
    job_state: Any = ""
    state_reason: Any = ""
    exit_code: Any = None
    name: Any = ""


class _SqueueOutput(msgspec.Struct):
    jobs: list[_SqueueJob] = []
    errors: list[Any] = []


_SQUEUE_DECODER = msgspec.json.Decoder(_SqueueOutput)


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        if not value.get("set", True) or value.get("infinite", False):
            return None
        return _number(value.get("number"))
    return None


def _state(value: Any) -> str:
    if isinstance(value, str):
        return value.strip().upper()
    if isinstance(value, list):
        states = [str(item).upper() for item in value]
        for state in states:
            if state in TERMINAL_STATES:
                return state
        return states[0] if states else ""
    return ""


def _exit(value: Any) -> tuple[int | None, int | None]:
    number = _number(value)
    if number is not None:
        return decode_wait_status(number)
    if isinstance(value, dict):  # openapi v0.0.39 and later
        signal = value.get("signal") or {}
        signal_id = _number(signal.get("id")) if isinstance(signal, dict) else None
        if signal_id:
            return None, signal_id
        return _number(value.get("return_code")), None
    return None, None


def parse_squeue_json(payload: bytes) -> Snapshot:
    """The jobs in ``squeue --json`` output; raises ValueError if it is not that."""
    try:
        output = _SQUEUE_DECODER.decode(payload)
    except msgspec.DecodeError as error:
        raise ValueError(f"squeue printed something that is not its JSON: {error}") from None
    snapshot = Snapshot()
    for job in output.jobs:
        job_id = _number(job.job_id)
        if job_id is None:
            continue
        exit_code, signal = _exit(job.exit_code)
        reason = job.state_reason if isinstance(job.state_reason, str) else ""
        record = JobRecord(_state(job.job_state), "" if reason == "None" else reason,
                           exit_code, signal)
        if isinstance(job.name, str) and job.name:
            snapshot.names.setdefault(job.name, _number(job.array_job_id) or job_id)
        array_job_id = _number(job.array_job_id) or 0
        task_id = _number(job.array_task_id)
        task_string = job.array_task_string if isinstance(job.array_task_string, str) else ""
        if array_job_id == 0:
            snapshot.jobs[(job_id, None)] = record
        elif task_id is not None:
            snapshot.jobs[(array_job_id, task_id)] = record
        elif task_string:
            snapshot.add_pending(array_job_id, parse_index_ranges(task_string), record)
    return snapshot


_SACCT_ID = re.compile(r"^(\d+)(?:_(\d+|\[[^\]]*\]))?(?:\+\d+)?$")


def parse_sacct(text: str) -> Snapshot:
    """``sacct -n -P -X -o JobID,State,ExitCode`` lines ('5_3|CANCELLED by 0|0:15')."""
    snapshot = Snapshot()
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 3:
            continue
        match = _SACCT_ID.match(parts[0])
        if match is None:
            continue
        state_words = parts[1].split()
        record = JobRecord(state_words[0].upper() if state_words else "",
                           " ".join(state_words[1:]), *_exit_pair(parts[2]))
        job_id, task = int(match.group(1)), match.group(2)
        if task is None:
            snapshot.jobs[(job_id, None)] = record
        elif task.startswith("["):
            snapshot.add_pending(job_id, parse_index_ranges(task), record)
        else:
            snapshot.jobs[(job_id, int(task))] = record
    return snapshot


def _exit_pair(text: str) -> tuple[int | None, int | None]:
    """sacct's 'exit:signal' ('3:0', '0:15')."""
    match = re.fullmatch(r"\s*(\d+):(\d+)\s*", text)
    if match is None:
        return None, None
    exit_code, signal = int(match.group(1)), int(match.group(2))
    return (None, signal) if signal else (exit_code, None)


def parse_config(text: str) -> dict[str, str]:
    """``scontrol show config`` as a dict ('MaxArraySize' -> '100001')."""
    config: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and " " not in key.strip():
            config[key.strip()] = value.strip()
    return config


def max_array_size(config: Mapping[str, str]) -> int:
    """How many tasks one array may hold (indices 0 to MaxArraySize - 1); Slurm's default 1001."""
    match = re.match(r"\d+", config.get("MaxArraySize", ""))
    return max(1, int(match.group(0))) if match else 1001


def accounting_enabled(config: Mapping[str, str]) -> bool:
    storage = config.get("AccountingStorageType", "").strip()
    return bool(storage) and not storage.endswith("/none")


# ------------------------------------------------------------------ watching instances


@dataclass
class Watch:
    """One instance whose job the plugin watches, and what it has seen of it."""

    task_instance_id: int
    job: JobKey
    since: float  # when submitted or adopted (monotonic seconds)
    cancelled: bool = False  # we cancelled it; whatever Slurm says next is expected
    ended_on_server: float | None = None  # when the server said it no longer expects it
    completed_seen: float | None = None
    missing: int = 0  # consecutive queries that did not list it


@dataclass(frozen=True)
class Timing:
    """Grace periods of reconciliation, in seconds."""

    completed_grace: float  # COMPLETED: how long the worker's done report may take to show
    orphan_grace: float  # still active though the server ended the instance: cancel after
    vanish_grace: float  # not listed: not before this long after submission
    vanish_polls: int = 2  # ... and not before this many queries in a row missed it


class Action(enum.Enum):
    REPORT = "report"  # send ``statuses`` in order, then stop watching
    FORGET = "forget"  # stop watching; nothing to report
    CANCEL = "cancel"  # scancel an orphan; keep watching until it is gone
    VANISHED = "vanished"  # gone from squeue: ask accounting, else report UNKNOWN_ERROR


@dataclass(frozen=True)
class Decision:
    task_instance_id: int
    action: Action
    statuses: tuple[str, ...] = ()
    message: str = ""
    exit_code: int | None = None


def _report(watch: Watch, statuses: tuple[str, ...], message: str,
            exit_code: int | None = None) -> Decision:
    return Decision(watch.task_instance_id, Action.REPORT, statuses,
                    f"Slurm job {format_job(watch.job)}: {message}", exit_code)


def judge_record(watch: Watch, record: JobRecord, now: float, timing: Timing) -> Decision | None:
    """What a listed job means for its instance; None: keep watching. Updates ``watch``."""
    watch.missing = 0
    state = record.state
    if state not in TERMINAL_STATES:  # running, pending, or a state we do not know yet
        if (watch.ended_on_server is not None and not watch.cancelled
                and now - watch.ended_on_server >= timing.orphan_grace):
            watch.cancelled = True
            return Decision(watch.task_instance_id, Action.CANCEL,
                            message="the server no longer expects this instance")
        return None
    if watch.cancelled or watch.ended_on_server is not None:
        return Decision(watch.task_instance_id, Action.FORGET)
    if state == "COMPLETED":
        if watch.completed_seen is None:
            watch.completed_seen = now
        if now - watch.completed_seen < timing.completed_grace:
            return None
        return _report(watch, (str(TIS.UNKNOWN_ERROR),),
                       "the job exited 0, but the worker never reported the end")
    ended = _CLUSTER_ENDED.get(state)
    if ended is not None:
        status, message = ended
        return _report(watch, (str(status),), message)
    exit_code = record.exit_code if record.signal is None else -record.signal
    if state == "CANCELLED":
        # sacct says who ("by 1042"); squeue's reason is the pending reason, not the canceller
        who = f" (by uid {record.reason[3:]})" if record.reason.startswith("by ") else ""
        return _report(watch, FAILURE_REPORTS,
                       f"cancelled outside Jobmon{who}, for example by scancel", exit_code)
    detail = (f"exit code {record.exit_code}" if record.signal is None
              else f"signal {record.signal}")
    return _report(watch, FAILURE_REPORTS,
                   f"the job failed ({detail}) without a report from the worker", exit_code)


def judge_missing(watch: Watch, now: float, timing: Timing) -> Decision | None:
    """A watched job the query did not list; None: keep watching. Updates ``watch``."""
    if watch.cancelled or watch.ended_on_server is not None:
        # a pending array task we cancelled vanishes without a trace: it was killed
        return Decision(watch.task_instance_id, Action.FORGET)
    watch.missing += 1
    if watch.missing >= timing.vanish_polls and now - watch.since >= timing.vanish_grace:
        return Decision(watch.task_instance_id, Action.VANISHED)
    return None


def vanished_report(watch: Watch) -> Decision:
    return _report(watch, (str(TIS.UNKNOWN_ERROR),),
                   "the job vanished from Slurm without a report from the worker")


def reconcile(watches: Iterable[Watch], snapshot: Snapshot, now: float,
              timing: Timing) -> list[Decision]:
    """Decisions for every watched instance whose job calls for one."""
    decisions: list[Decision] = []
    for watch in watches:
        record = snapshot.find(watch.job)
        decision = (judge_missing(watch, now, timing) if record is None
                    else judge_record(watch, record, now, timing))
        if decision is not None:
            decisions.append(decision)
    return decisions


def next_interval(duration: float, minimum: float, factor: float, maximum: float) -> float:
    """Seconds until the next query: a slow answer means a busy controller, so back off."""
    return min(maximum, max(minimum, factor * duration))
