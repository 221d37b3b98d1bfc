"""Status letters and transition tables of the four state machines (pure: no I/O, no clock).

The letters follow IHME's Jobmon 3.x. The server's SQL enforces the same tables with
``UPDATE ... WHERE status = ANY($allowed_from)``; this module is the single source.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar


class TaskStatus(enum.StrEnum):
    REGISTERING = "G"
    QUEUED = "Q"
    INSTANTIATING = "I"
    LAUNCHED = "O"
    RUNNING = "R"
    DONE = "D"
    ERROR_RECOVERABLE = "E"
    ADJUSTING_RESOURCES = "A"
    ERROR_FATAL = "F"
    # {letter: name}, as IHME Jobmon's TaskStatus.LABEL_DICT; filled in below the class
    LABEL_DICT: ClassVar[dict[str, str]]


class TaskInstanceStatus(enum.StrEnum):
    QUEUED = "Q"
    INSTANTIATED = "I"
    LAUNCHED = "O"
    RUNNING = "R"
    DONE = "D"
    ERROR = "E"
    ERROR_FATAL = "F"
    KILL_SELF = "K"
    TRIAGING = "T"
    UNKNOWN_ERROR = "U"
    NO_DISTRIBUTOR_ID = "W"
    NO_HEARTBEAT = "X"
    RESOURCE_ERROR = "Z"
    # IHME Jobmon's batch-submission letter: never entered here, so not a member
    SUBMITTED_TO_BATCH_DISTRIBUTOR = enum.nonmember("B")


class WorkflowStatus(enum.StrEnum):
    REGISTERING = "G"
    QUEUED = "Q"
    INSTANTIATING = "I"
    LAUNCHED = "O"
    RUNNING = "R"
    DONE = "D"
    HALTED = "H"
    FAILED = "F"
    ABORTED = "A"


class WorkflowRunStatus(enum.StrEnum):
    REGISTERED = "G"
    LINKING = "L"
    BOUND = "B"
    INSTANTIATED = "I"
    LAUNCHED = "O"
    RUNNING = "R"
    DONE = "D"
    STOPPED = "S"
    ERROR = "E"
    COLD_RESUME = "C"
    HOT_RESUME = "H"
    TERMINATED = "T"
    ABORTED = "A"


TaskStatus.LABEL_DICT = {str(status): status.name for status in TaskStatus}

T = TaskStatus
TI = TaskInstanceStatus
W = WorkflowStatus
WR = WorkflowRunStatus

TASK_TRANSITIONS: frozenset[tuple[TaskStatus, TaskStatus]] = frozenset(
    {
        (T.REGISTERING, T.QUEUED),  # the swarm found all upstreams DONE and queued it
        (T.ADJUSTING_RESOURCES, T.QUEUED),  # requeued with scaled resources
        (T.QUEUED, T.INSTANTIATING),  # a distributor claimed its instance
        (T.INSTANTIATING, T.LAUNCHED),  # the cluster accepted the job
        (T.INSTANTIATING, T.ERROR_RECOVERABLE),  # launch failed (no distributor id)
        (T.INSTANTIATING, T.RUNNING),  # the worker reported before the distributor did
        (T.LAUNCHED, T.RUNNING),  # the worker reported RUNNING
        (T.LAUNCHED, T.ERROR_RECOVERABLE),  # lost or killed before it ran
        (T.RUNNING, T.DONE),  # the instance finished with exit code 0
        (T.RUNNING, T.ERROR_RECOVERABLE),  # the instance failed
        (T.ERROR_RECOVERABLE, T.ADJUSTING_RESOURCES),  # resource error: scale and retry
        (T.ERROR_RECOVERABLE, T.QUEUED),  # retried at once
        (T.ERROR_RECOVERABLE, T.ERROR_FATAL),  # attempts used up
        (T.ERROR_RECOVERABLE, T.REGISTERING),  # plain retry: waits to be queued again
    }
)

TASK_INSTANCE_TRANSITIONS: frozenset[tuple[TaskInstanceStatus, TaskInstanceStatus]] = frozenset(
    {
        (TI.QUEUED, TI.INSTANTIATED),  # claimed by a distributor
        (TI.QUEUED, TI.KILL_SELF),  # killed before anyone claimed it
        (TI.INSTANTIATED, TI.LAUNCHED),  # submitted; the cluster's job id is recorded
        (TI.INSTANTIATED, TI.NO_DISTRIBUTOR_ID),  # submission failed or was rejected
        (TI.INSTANTIATED, TI.KILL_SELF),  # kill requested while being submitted
        (TI.INSTANTIATED, TI.RUNNING),  # the worker started before the launch was recorded
        (TI.LAUNCHED, TI.RUNNING),  # the worker reported RUNNING
        (TI.LAUNCHED, TI.UNKNOWN_ERROR),  # the cluster lost the job (node or boot failure)
        (TI.LAUNCHED, TI.NO_HEARTBEAT),  # never reported RUNNING before its deadline
        (TI.LAUNCHED, TI.RESOURCE_ERROR),  # killed by the cluster for memory or time
        (TI.LAUNCHED, TI.KILL_SELF),  # kill requested
        (TI.LAUNCHED, TI.ERROR_FATAL),  # cancelled for good
        (TI.RUNNING, TI.TRIAGING),  # the heartbeat deadline passed; ask the cluster
        (TI.RUNNING, TI.ERROR),  # the command exited non-zero
        (TI.RUNNING, TI.UNKNOWN_ERROR),  # the cluster says it died without a report
        (TI.RUNNING, TI.RESOURCE_ERROR),  # killed for memory or runtime
        (TI.RUNNING, TI.KILL_SELF),  # kill requested
        (TI.RUNNING, TI.DONE),  # the command exited 0
        (TI.TRIAGING, TI.RUNNING),  # it was alive after all (a late heartbeat)
        (TI.TRIAGING, TI.RESOURCE_ERROR),  # triage found an OOM or TIMEOUT
        (TI.TRIAGING, TI.UNKNOWN_ERROR),  # triage found nothing
        (TI.TRIAGING, TI.ERROR_FATAL),  # triage found it cancelled for good
        (TI.KILL_SELF, TI.ERROR_FATAL),  # the kill was carried out
        (TI.KILL_SELF, TI.DONE),  # it finished before the kill arrived
        (TI.NO_HEARTBEAT, TI.ERROR),  # lost: counted as a failed attempt
    }
)

# Late but harmless: the event is older than what we already know. Ignored and logged.
TASK_INSTANCE_LATE: frozenset[tuple[TaskInstanceStatus, TaskInstanceStatus]] = frozenset(
    {
        (TI.RUNNING, TI.LAUNCHED),  # the distributor's launch record arrives after the worker's
        (TI.ERROR, TI.LAUNCHED),
        (TI.ERROR, TI.UNKNOWN_ERROR),  # reconciliation after the worker's own error report
        (TI.ERROR, TI.ERROR),
        (TI.UNKNOWN_ERROR, TI.DONE),  # a partitioned worker's report after triage gave up
        (TI.UNKNOWN_ERROR, TI.ERROR),
        (TI.UNKNOWN_ERROR, TI.RESOURCE_ERROR),
        (TI.RESOURCE_ERROR, TI.UNKNOWN_ERROR),
        (TI.DONE, TI.UNKNOWN_ERROR),  # the cluster lost track of a job that already reported
        (TI.KILL_SELF, TI.ERROR),  # the killed command's own exit report
        (TI.KILL_SELF, TI.RESOURCE_ERROR),
        (TI.KILL_SELF, TI.UNKNOWN_ERROR),
    }
)

WORKFLOW_TRANSITIONS: frozenset[tuple[WorkflowStatus, WorkflowStatus]] = frozenset(
    {
        (W.REGISTERING, W.QUEUED),  # the bind completed
        (W.QUEUED, W.INSTANTIATING),  # a run was created
        (W.INSTANTIATING, W.LAUNCHED),  # the run's distributor started
        (W.LAUNCHED, W.RUNNING),  # the swarm started queueing
        (W.INSTANTIATING, W.RUNNING),
        (W.RUNNING, W.DONE),  # every task DONE
        (W.RUNNING, W.FAILED),  # fatal tasks, a timeout, or a lost run
        (W.RUNNING, W.HALTED),  # stopped, or taken over by a resume
        (W.INSTANTIATING, W.FAILED),
        (W.LAUNCHED, W.FAILED),
        (W.INSTANTIATING, W.HALTED),
        (W.LAUNCHED, W.HALTED),
        (W.INSTANTIATING, W.ABORTED),  # the run could not start
        (W.LAUNCHED, W.ABORTED),
        (W.FAILED, W.INSTANTIATING),  # resumed
        (W.HALTED, W.INSTANTIATING),
        (W.ABORTED, W.INSTANTIATING),
        (W.RUNNING, W.INSTANTIATING),  # resumed while the old run was still alive
        (W.LAUNCHED, W.INSTANTIATING),
        (W.INSTANTIATING, W.INSTANTIATING),
        (W.DONE, W.INSTANTIATING),  # resumed after `jobmon task update -s G` reset tasks
        (W.DONE, W.HALTED),  # `jobmon task update -s G` reset tasks: resumable, not running
        (W.FAILED, W.DONE),  # every task marked DONE by hand
        (W.HALTED, W.DONE),
        (W.FAILED, W.REGISTERING),  # `jobmon workflow_reset`: every task back to G
        (W.REGISTERING, W.INSTANTIATING),  # resumed after a workflow_reset
    }
)

WORKFLOW_RUN_TRANSITIONS: frozenset[tuple[WorkflowRunStatus, WorkflowRunStatus]] = frozenset(
    {
        (WR.REGISTERED, WR.LINKING),  # the run is taking over its workflow
        (WR.LINKING, WR.BOUND),  # it owns the workflow
        (WR.BOUND, WR.INSTANTIATED),  # the swarm state is built
        (WR.INSTANTIATED, WR.LAUNCHED),  # the distributor is up
        (WR.LAUNCHED, WR.RUNNING),  # the swarm started queueing
        (WR.RUNNING, WR.DONE),  # every task DONE
        (WR.RUNNING, WR.ERROR),  # fatal tasks or a timeout
        (WR.RUNNING, WR.STOPPED),  # an operator stopped it
        (WR.RUNNING, WR.COLD_RESUME),  # a cold resume took over: kill and exit
        (WR.RUNNING, WR.HOT_RESUME),  # a hot resume took over: exit, leave instances
        (WR.COLD_RESUME, WR.TERMINATED),  # the old swarm saw the resume and exited
        (WR.HOT_RESUME, WR.TERMINATED),
        (WR.REGISTERED, WR.ABORTED),  # failed before running
        (WR.LINKING, WR.ABORTED),
        (WR.BOUND, WR.ABORTED),
        (WR.INSTANTIATED, WR.ABORTED),
        (WR.LAUNCHED, WR.ABORTED),
        (WR.BOUND, WR.COLD_RESUME),  # resumed before it got going
        (WR.INSTANTIATED, WR.COLD_RESUME),
        (WR.LAUNCHED, WR.COLD_RESUME),
        (WR.BOUND, WR.HOT_RESUME),
        (WR.INSTANTIATED, WR.HOT_RESUME),
        (WR.LAUNCHED, WR.HOT_RESUME),
        (WR.BOUND, WR.STOPPED),
        (WR.INSTANTIATED, WR.STOPPED),
        (WR.LAUNCHED, WR.STOPPED),
        # the reaper took the run for lost (its swarm was paused), but every task finished:
        # the swarm woke and says so (the server checks that every task is DONE)
        (WR.ERROR, WR.DONE),
        (WR.BOUND, WR.ERROR),  # the reaper found it lost before it ran
        (WR.INSTANTIATED, WR.ERROR),
        (WR.LAUNCHED, WR.ERROR),
    }
)

WORKFLOW_RUN_LATE: frozenset[tuple[WorkflowRunStatus, WorkflowRunStatus]] = frozenset(
    {
        (WR.TERMINATED, WR.DONE),  # the old swarm finished its last tick after the resume
        (WR.TERMINATED, WR.ERROR),
        (WR.COLD_RESUME, WR.ERROR),
        (WR.HOT_RESUME, WR.ERROR),
        (WR.COLD_RESUME, WR.DONE),
        (WR.HOT_RESUME, WR.DONE),
        (WR.STOPPED, WR.ERROR),
        (WR.STOPPED, WR.DONE),
        (WR.ERROR, WR.TERMINATED),  # reaped as lost, then the swarm came back to say so
        (WR.ERROR, WR.ERROR),
    }
)

TASK_ACTIVE: frozenset[TaskStatus] = frozenset({T.QUEUED, T.INSTANTIATING, T.LAUNCHED, T.RUNNING})
TASK_INSTANCE_ACTIVE: frozenset[TaskInstanceStatus] = frozenset(
    {TI.QUEUED, TI.INSTANTIATED, TI.LAUNCHED, TI.RUNNING, TI.TRIAGING, TI.KILL_SELF}
)
TASK_INSTANCE_FINAL: frozenset[TaskInstanceStatus] = frozenset(
    {TI.DONE, TI.ERROR, TI.ERROR_FATAL, TI.UNKNOWN_ERROR, TI.NO_DISTRIBUTOR_ID, TI.RESOURCE_ERROR}
)
WORKFLOW_RUN_ACTIVE: frozenset[WorkflowRunStatus] = frozenset(
    {WR.REGISTERED, WR.LINKING, WR.BOUND, WR.INSTANTIATED, WR.LAUNCHED, WR.RUNNING}
)
WORKFLOW_RUN_FINAL: frozenset[WorkflowRunStatus] = frozenset(
    {WR.DONE, WR.STOPPED, WR.ERROR, WR.TERMINATED, WR.ABORTED}
)
WORKFLOW_ACTIVE: frozenset[WorkflowStatus] = frozenset(
    {W.INSTANTIATING, W.LAUNCHED, W.RUNNING}
)

# Named sets the server's SQL spells out as letters (server/sql/queries/*.sql); a test
# (tests/unit/test_status_sql.py) checks that each literal set there is one of these.
# Tasks the swarm may queue: new, resource-scaled, or failed and retried.
TASK_QUEUEABLE: frozenset[TaskStatus] = frozenset(
    {T.REGISTERING, T.ADJUSTING_RESOURCES, T.ERROR_RECOVERABLE}
)
# Tasks whose latest attempt failed (retrying, rescaling or given up).
TASK_FAILED: frozenset[TaskStatus] = frozenset(
    {T.ERROR_RECOVERABLE, T.ADJUSTING_RESOURCES, T.ERROR_FATAL}
)
# Tasks a resume or a reset puts back to REGISTERING with no attempts used.
TASK_RESETTABLE: frozenset[TaskStatus] = TASK_FAILED | {T.REGISTERING}
# Instances with a heartbeat deadline (report_by): the reaper watches them.
TASK_INSTANCE_WATCHED: frozenset[TaskInstanceStatus] = frozenset(
    {TI.INSTANTIATED, TI.LAUNCHED, TI.RUNNING, TI.TRIAGING, TI.KILL_SELF}
)
# Instances whose deadline a heartbeat moves (one marked for killing must not linger).
TASK_INSTANCE_BEATING: frozenset[TaskInstanceStatus] = TASK_INSTANCE_WATCHED - {TI.KILL_SELF}
# Instances on a cluster with a job id: a new distributor adopts them by that id.
TASK_INSTANCE_ON_CLUSTER: frozenset[TaskInstanceStatus] = frozenset(
    {TI.LAUNCHED, TI.RUNNING, TI.TRIAGING}
)
# Instances a new distributor adopts without a job id: claimed (perhaps started), or
# marked for killing.
TASK_INSTANCE_ADOPTED_BY_STATUS: frozenset[TaskInstanceStatus] = frozenset(
    {TI.INSTANTIATED, TI.KILL_SELF}
)
# Live instances a stopped workflow kills (those already marked K are being killed).
TASK_INSTANCE_TO_KILL: frozenset[TaskInstanceStatus] = TASK_INSTANCE_ACTIVE - {TI.KILL_SELF}
# Instances without a cluster job id yet: the history shows no job for them.
TASK_INSTANCE_UNSUBMITTED: frozenset[TaskInstanceStatus] = frozenset(
    {TI.QUEUED, TI.INSTANTIATED}
)
# Instances that never ran on a host: the history shows no host for them.
TASK_INSTANCE_NO_HOST: frozenset[TaskInstanceStatus] = TASK_INSTANCE_UNSUBMITTED | {
    TI.LAUNCHED, TI.NO_DISTRIBUTOR_ID, TI.NO_HEARTBEAT}
# Attempts that failed, for error listings.
TASK_INSTANCE_FAILED: frozenset[TaskInstanceStatus] = frozenset(
    {TI.ERROR, TI.ERROR_FATAL, TI.UNKNOWN_ERROR, TI.NO_DISTRIBUTOR_ID, TI.NO_HEARTBEAT,
     TI.RESOURCE_ERROR}
)
# Attempts that ended after their launch: what usage and pictures measure (an instance
# that never got a job id, W, used nothing).
TASK_INSTANCE_ENDED_LAUNCHED: frozenset[TaskInstanceStatus] = (
    TASK_INSTANCE_FAILED - {TI.NO_DISTRIBUTOR_ID}) | {TI.DONE}
# Runs a resume took over, winding down.
WORKFLOW_RUN_RESUMING: frozenset[WorkflowRunStatus] = frozenset(
    {WR.COLD_RESUME, WR.HOT_RESUME}
)
# Runs that still hold their workflow: active, or winding down after a resume.
WORKFLOW_RUN_LIVE: frozenset[WorkflowRunStatus] = WORKFLOW_RUN_ACTIVE | WORKFLOW_RUN_RESUMING
# Workflows that have finished one way or another (they may be cleaned up).
WORKFLOW_FINISHED: frozenset[WorkflowStatus] = frozenset(
    {W.DONE, W.FAILED, W.HALTED, W.ABORTED}
)

# The task status that follows an instance's status, and from which task statuses.
TASK_FOLLOWS_INSTANCE: Mapping[TaskInstanceStatus, TaskStatus] = {
    TI.INSTANTIATED: T.INSTANTIATING,
    TI.LAUNCHED: T.LAUNCHED,
    TI.RUNNING: T.RUNNING,
    TI.DONE: T.DONE,
    TI.ERROR: T.ERROR_RECOVERABLE,
    TI.UNKNOWN_ERROR: T.ERROR_RECOVERABLE,
    TI.RESOURCE_ERROR: T.ERROR_RECOVERABLE,
    TI.NO_DISTRIBUTOR_ID: T.ERROR_RECOVERABLE,
    TI.ERROR_FATAL: T.ERROR_RECOVERABLE,
}


class Verdict(enum.Enum):
    """What to do with a requested transition."""

    APPLY = "apply"
    IGNORE = "ignore"  # repeated or late but harmless: answer 200, change nothing
    REJECT = "reject"  # not allowed: answer 409


S = TypeVar("S", bound=enum.StrEnum)


@dataclass(frozen=True)
class Machine(Generic[S]):
    """One state machine: its allowed and its late-but-harmless transitions."""

    name: str
    status_type: type[S]
    allowed: frozenset[tuple[S, S]]
    late: frozenset[tuple[S, S]] = frozenset()

    def verdict(self, current: S, requested: S) -> Verdict:
        if (current, requested) in self.allowed:
            return Verdict.APPLY
        if current == requested or (current, requested) in self.late:
            return Verdict.IGNORE
        return Verdict.REJECT

    def allowed_from(self, requested: S) -> list[str]:
        """The statuses from which ``requested`` may be entered, for ``status = ANY($n)``."""
        return sorted(str(src) for src, dst in self.allowed if dst == requested)

    def parse(self, letter: str) -> S:
        try:
            return self.status_type(letter)
        except ValueError:
            letters = ", ".join(str(s) for s in self.status_type)
            raise ValueError(
                f"{letter!r} is not a {self.name} status (expected one of {letters})"
            ) from None


TASK = Machine("task", TaskStatus, TASK_TRANSITIONS)
TASK_INSTANCE = Machine(
    "task instance", TaskInstanceStatus, TASK_INSTANCE_TRANSITIONS, TASK_INSTANCE_LATE
)
WORKFLOW = Machine("workflow", WorkflowStatus, WORKFLOW_TRANSITIONS)
WORKFLOW_RUN = Machine(
    "workflow run", WorkflowRunStatus, WORKFLOW_RUN_TRANSITIONS, WORKFLOW_RUN_LATE
)


def workflow_status_for_run(run_status: WorkflowRunStatus) -> WorkflowStatus:
    """The workflow status that mirrors its latest run's status."""
    return _WORKFLOW_FOR_RUN[run_status]


_WORKFLOW_FOR_RUN: Mapping[WorkflowRunStatus, WorkflowStatus] = {
    WR.REGISTERED: W.INSTANTIATING,
    WR.LINKING: W.INSTANTIATING,
    WR.BOUND: W.INSTANTIATING,
    WR.INSTANTIATED: W.INSTANTIATING,
    WR.LAUNCHED: W.LAUNCHED,
    WR.RUNNING: W.RUNNING,
    WR.DONE: W.DONE,
    WR.ERROR: W.FAILED,
    WR.STOPPED: W.HALTED,
    WR.COLD_RESUME: W.HALTED,
    WR.HOT_RESUME: W.HALTED,
    WR.TERMINATED: W.HALTED,
    WR.ABORTED: W.ABORTED,
}


def letters(statuses: Iterable[enum.StrEnum]) -> list[str]:
    """Status letters as plain strings, sorted, for SQL ``= ANY($n::text[])``."""
    return sorted(str(s) for s in statuses)


# ---------------------------------------------------------------- how people see the letters

# One colour per meaning, by name: the dashboard draws them (CSS class c-<colour>) and the
# CLI prints them (jobmon.cli.render maps each to a terminal colour). Names are the enum
# names, as Jobmon prints them; the dashboard writes them in sentence case.
STATUS_COLOURS: Mapping[str, Mapping[str, str]] = {
    "task": {
        "G": "slate", "Q": "sky", "I": "sky", "O": "indigo", "R": "blue", "D": "green",
        "E": "amber", "A": "amber", "F": "red",
    },
    "workflow": {
        "G": "slate", "Q": "slate", "I": "sky", "O": "indigo", "R": "blue", "D": "green",
        "H": "purple", "F": "red", "A": "slate",
    },
    "instance": {
        "Q": "sky", "I": "sky", "O": "indigo", "R": "blue", "D": "green", "E": "red",
        "F": "red", "K": "purple", "T": "amber", "U": "red", "W": "red", "X": "red",
        "Z": "orange",
    },
    "run": {
        "G": "slate", "L": "slate", "B": "slate", "I": "sky", "O": "indigo", "R": "blue",
        "D": "green", "S": "purple", "E": "red", "C": "purple", "H": "purple",
        "T": "purple", "A": "slate",
    },
}
STATUS_TYPES: Mapping[str, type[enum.StrEnum]] = {
    "task": TaskStatus, "workflow": WorkflowStatus, "instance": TaskInstanceStatus,
    "run": WorkflowRunStatus,
}
# The order of the segments of a progress bar: finished first, waiting last.
TASK_ORDER = ("D", "F", "R", "O", "I", "Q", "E", "A", "G")
# The dashboard's task filter chips, in their order: each task letter in one (comma-joined
# letters as the task list's ``status`` filter takes them).
TASK_FILTERS: tuple[tuple[str, str], ...] = (
    ("R", "Running"), ("F", "Fatal"), ("E,A", "Retrying"), ("Q,I,O", "Queued"),
    ("G", "Registering"), ("D", "Done"),
)
# What pages keep asking about: a live run also winds down through a resume (C, H).
LIVE_LETTERS: Mapping[str, tuple[str, ...]] = {
    "task": tuple(letters(TASK_ACTIVE | {T.ERROR_RECOVERABLE, T.ADJUSTING_RESOURCES})),
    "workflow": tuple(letters(WORKFLOW_ACTIVE | {W.REGISTERING, W.QUEUED})),
    "instance": tuple(letters(TASK_INSTANCE_ACTIVE)),
    "run": tuple(letters(WORKFLOW_RUN_LIVE)),
}


def status_label(name: str) -> str:
    """An enum name in sentence case, as the dashboard writes it: ERROR_FATAL, Error fatal."""
    return name.replace("_", " ").capitalize()


def status_colour(letter: str | None, machine: str = "task") -> str:
    return STATUS_COLOURS[machine].get(letter or "", "slate")


def vocabulary() -> dict[str, object]:
    """Every status of every machine with its name, label and colour, for the dashboard."""
    return {
        "machines": {
            machine: {
                str(status): {"name": status.name, "label": status_label(status.name),
                              "colour": status_colour(str(status), machine)}
                for status in status_type
            }
            for machine, status_type in STATUS_TYPES.items()
        },
        "task_order": list(TASK_ORDER),
        "task_filters": [list(choice) for choice in TASK_FILTERS],
        "live": {machine: list(found) for machine, found in LIVE_LETTERS.items()},
    }
