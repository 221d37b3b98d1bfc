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

# Short names for the tables below; never a bare T, which is a TypeVar in other modules
# and a status letter (TRIAGING, TERMINATED) here.
TS = TaskStatus
TIS = TaskInstanceStatus
WS = WorkflowStatus
WRS = WorkflowRunStatus

TASK_TRANSITIONS: frozenset[tuple[TaskStatus, TaskStatus]] = frozenset(
    {
        (TS.REGISTERING, TS.QUEUED),  # the swarm found all upstreams DONE and queued it
        (TS.ADJUSTING_RESOURCES, TS.QUEUED),  # requeued with scaled resources
        (TS.QUEUED, TS.INSTANTIATING),  # a distributor claimed its instance
        (TS.INSTANTIATING, TS.LAUNCHED),  # the cluster accepted the job
        (TS.INSTANTIATING, TS.ERROR_RECOVERABLE),  # launch failed (no distributor id)
        (TS.INSTANTIATING, TS.RUNNING),  # the worker reported before the distributor did
        (TS.LAUNCHED, TS.RUNNING),  # the worker reported RUNNING
        (TS.LAUNCHED, TS.ERROR_RECOVERABLE),  # lost or killed before it ran
        (TS.RUNNING, TS.DONE),  # the instance finished with exit code 0
        (TS.RUNNING, TS.ERROR_RECOVERABLE),  # the instance failed
        (TS.ERROR_RECOVERABLE, TS.ADJUSTING_RESOURCES),  # resource error: scale and retry
        (TS.ERROR_RECOVERABLE, TS.QUEUED),  # retried at once
        (TS.ERROR_RECOVERABLE, TS.ERROR_FATAL),  # attempts used up
        (TS.ERROR_RECOVERABLE, TS.REGISTERING),  # plain retry: waits to be queued again
    }
)

TASK_INSTANCE_TRANSITIONS: frozenset[tuple[TaskInstanceStatus, TaskInstanceStatus]] = frozenset(
    {
        (TIS.QUEUED, TIS.INSTANTIATED),  # claimed by a distributor
        (TIS.QUEUED, TIS.KILL_SELF),  # killed before anyone claimed it
        (TIS.INSTANTIATED, TIS.LAUNCHED),  # submitted; the cluster's job id is recorded
        (TIS.INSTANTIATED, TIS.NO_DISTRIBUTOR_ID),  # submission failed or was rejected
        (TIS.INSTANTIATED, TIS.KILL_SELF),  # kill requested while being submitted
        (TIS.INSTANTIATED, TIS.RUNNING),  # the worker started before the launch was recorded
        (TIS.LAUNCHED, TIS.RUNNING),  # the worker reported RUNNING
        (TIS.LAUNCHED, TIS.UNKNOWN_ERROR),  # the cluster lost the job (node or boot failure)
        (TIS.LAUNCHED, TIS.NO_HEARTBEAT),  # never reported RUNNING before its deadline
        (TIS.LAUNCHED, TIS.RESOURCE_ERROR),  # killed by the cluster for memory or time
        (TIS.LAUNCHED, TIS.KILL_SELF),  # kill requested
        (TIS.LAUNCHED, TIS.ERROR_FATAL),  # cancelled for good
        (TIS.RUNNING, TIS.TRIAGING),  # the heartbeat deadline passed; ask the cluster
        (TIS.RUNNING, TIS.ERROR),  # the command exited non-zero
        (TIS.RUNNING, TIS.UNKNOWN_ERROR),  # the cluster says it died without a report
        (TIS.RUNNING, TIS.RESOURCE_ERROR),  # killed for memory or runtime
        (TIS.RUNNING, TIS.KILL_SELF),  # kill requested
        (TIS.RUNNING, TIS.DONE),  # the command exited 0
        (TIS.TRIAGING, TIS.RUNNING),  # it was alive after all (a late heartbeat)
        (TIS.TRIAGING, TIS.RESOURCE_ERROR),  # triage found an OOM or TIMEOUT
        (TIS.TRIAGING, TIS.UNKNOWN_ERROR),  # triage found nothing
        (TIS.TRIAGING, TIS.ERROR_FATAL),  # triage found it cancelled for good
        (TIS.KILL_SELF, TIS.ERROR_FATAL),  # the kill was carried out
        (TIS.KILL_SELF, TIS.DONE),  # it finished before the kill arrived
        (TIS.NO_HEARTBEAT, TIS.ERROR),  # lost: counted as a failed attempt
    }
)

# Late but harmless: the event is older than what we already know. Ignored and logged.
TASK_INSTANCE_LATE: frozenset[tuple[TaskInstanceStatus, TaskInstanceStatus]] = frozenset(
    {
        (TIS.RUNNING, TIS.LAUNCHED),  # the distributor's launch record arrives after the worker's
        (TIS.ERROR, TIS.LAUNCHED),
        (TIS.ERROR, TIS.UNKNOWN_ERROR),  # reconciliation after the worker's own error report
        (TIS.ERROR, TIS.ERROR),
        (TIS.UNKNOWN_ERROR, TIS.DONE),  # a partitioned worker's report after triage gave up
        (TIS.UNKNOWN_ERROR, TIS.ERROR),
        (TIS.UNKNOWN_ERROR, TIS.RESOURCE_ERROR),
        (TIS.RESOURCE_ERROR, TIS.UNKNOWN_ERROR),
        (TIS.DONE, TIS.UNKNOWN_ERROR),  # the cluster lost track of a job that already reported
        (TIS.KILL_SELF, TIS.ERROR),  # the killed command's own exit report
        (TIS.KILL_SELF, TIS.RESOURCE_ERROR),
        (TIS.KILL_SELF, TIS.UNKNOWN_ERROR),
    }
)

WORKFLOW_TRANSITIONS: frozenset[tuple[WorkflowStatus, WorkflowStatus]] = frozenset(
    {
        (WS.REGISTERING, WS.QUEUED),  # the bind completed
        (WS.QUEUED, WS.INSTANTIATING),  # a run was created
        (WS.INSTANTIATING, WS.LAUNCHED),  # the run's distributor started
        (WS.LAUNCHED, WS.RUNNING),  # the swarm started queueing
        (WS.INSTANTIATING, WS.RUNNING),
        (WS.RUNNING, WS.DONE),  # every task DONE
        (WS.RUNNING, WS.FAILED),  # fatal tasks, a timeout, or a lost run
        (WS.RUNNING, WS.HALTED),  # stopped, or taken over by a resume
        (WS.INSTANTIATING, WS.FAILED),
        (WS.LAUNCHED, WS.FAILED),
        (WS.INSTANTIATING, WS.HALTED),
        (WS.LAUNCHED, WS.HALTED),
        (WS.INSTANTIATING, WS.ABORTED),  # the run could not start
        (WS.LAUNCHED, WS.ABORTED),
        (WS.FAILED, WS.INSTANTIATING),  # resumed
        (WS.HALTED, WS.INSTANTIATING),
        (WS.ABORTED, WS.INSTANTIATING),
        (WS.RUNNING, WS.INSTANTIATING),  # resumed while the old run was still alive
        (WS.LAUNCHED, WS.INSTANTIATING),
        (WS.INSTANTIATING, WS.INSTANTIATING),
        (WS.DONE, WS.INSTANTIATING),  # resumed after `jobmon task update -s G` reset tasks
        (WS.DONE, WS.HALTED),  # `jobmon task update -s G` reset tasks: resumable, not running
        (WS.FAILED, WS.DONE),  # every task marked DONE by hand
        (WS.HALTED, WS.DONE),
        (WS.FAILED, WS.REGISTERING),  # `jobmon workflow_reset`: every task back to G
        (WS.REGISTERING, WS.INSTANTIATING),  # resumed after a workflow_reset
    }
)

WORKFLOW_RUN_TRANSITIONS: frozenset[tuple[WorkflowRunStatus, WorkflowRunStatus]] = frozenset(
    {
        (WRS.REGISTERED, WRS.LINKING),  # the run is taking over its workflow
        (WRS.LINKING, WRS.BOUND),  # it owns the workflow
        (WRS.BOUND, WRS.INSTANTIATED),  # the swarm state is built
        (WRS.INSTANTIATED, WRS.LAUNCHED),  # the distributor is up
        (WRS.LAUNCHED, WRS.RUNNING),  # the swarm started queueing
        (WRS.RUNNING, WRS.DONE),  # every task DONE
        (WRS.RUNNING, WRS.ERROR),  # fatal tasks or a timeout
        (WRS.RUNNING, WRS.STOPPED),  # an operator stopped it
        (WRS.RUNNING, WRS.COLD_RESUME),  # a cold resume took over: kill and exit
        (WRS.RUNNING, WRS.HOT_RESUME),  # a hot resume took over: exit, leave instances
        (WRS.COLD_RESUME, WRS.TERMINATED),  # the old swarm saw the resume and exited
        (WRS.HOT_RESUME, WRS.TERMINATED),
        (WRS.REGISTERED, WRS.ABORTED),  # failed before running
        (WRS.LINKING, WRS.ABORTED),
        (WRS.BOUND, WRS.ABORTED),
        (WRS.INSTANTIATED, WRS.ABORTED),
        (WRS.LAUNCHED, WRS.ABORTED),
        (WRS.BOUND, WRS.COLD_RESUME),  # resumed before it got going
        (WRS.INSTANTIATED, WRS.COLD_RESUME),
        (WRS.LAUNCHED, WRS.COLD_RESUME),
        (WRS.BOUND, WRS.HOT_RESUME),
        (WRS.INSTANTIATED, WRS.HOT_RESUME),
        (WRS.LAUNCHED, WRS.HOT_RESUME),
        (WRS.BOUND, WRS.STOPPED),
        (WRS.INSTANTIATED, WRS.STOPPED),
        (WRS.LAUNCHED, WRS.STOPPED),
        # the reaper took the run for lost (its swarm was paused), but every task finished:
        # the swarm woke and says so (the server checks that every task is DONE)
        (WRS.ERROR, WRS.DONE),
        (WRS.BOUND, WRS.ERROR),  # the reaper found it lost before it ran
        (WRS.INSTANTIATED, WRS.ERROR),
        (WRS.LAUNCHED, WRS.ERROR),
    }
)

WORKFLOW_RUN_LATE: frozenset[tuple[WorkflowRunStatus, WorkflowRunStatus]] = frozenset(
    {
        (WRS.TERMINATED, WRS.DONE),  # the old swarm finished its last tick after the resume
        (WRS.TERMINATED, WRS.ERROR),
        (WRS.COLD_RESUME, WRS.ERROR),
        (WRS.HOT_RESUME, WRS.ERROR),
        (WRS.COLD_RESUME, WRS.DONE),
        (WRS.HOT_RESUME, WRS.DONE),
        (WRS.STOPPED, WRS.ERROR),
        (WRS.STOPPED, WRS.DONE),
        (WRS.ERROR, WRS.TERMINATED),  # reaped as lost, then the swarm came back to say so
        (WRS.ERROR, WRS.ERROR),
    }
)

TASK_ACTIVE: frozenset[TaskStatus] = frozenset(
    {TS.QUEUED, TS.INSTANTIATING, TS.LAUNCHED, TS.RUNNING}
)
TASK_INSTANCE_ACTIVE: frozenset[TaskInstanceStatus] = frozenset(
    {TIS.QUEUED, TIS.INSTANTIATED, TIS.LAUNCHED, TIS.RUNNING, TIS.TRIAGING, TIS.KILL_SELF}
)
TASK_INSTANCE_FINAL: frozenset[TaskInstanceStatus] = frozenset(
    {TIS.DONE, TIS.ERROR, TIS.ERROR_FATAL, TIS.UNKNOWN_ERROR, TIS.NO_DISTRIBUTOR_ID,
     TIS.RESOURCE_ERROR}
)
WORKFLOW_RUN_ACTIVE: frozenset[WorkflowRunStatus] = frozenset(
    {WRS.REGISTERED, WRS.LINKING, WRS.BOUND, WRS.INSTANTIATED, WRS.LAUNCHED, WRS.RUNNING}
)
WORKFLOW_RUN_FINAL: frozenset[WorkflowRunStatus] = frozenset(
    {WRS.DONE, WRS.STOPPED, WRS.ERROR, WRS.TERMINATED, WRS.ABORTED}
)
WORKFLOW_ACTIVE: frozenset[WorkflowStatus] = frozenset(
    {WS.INSTANTIATING, WS.LAUNCHED, WS.RUNNING}
)

# Named sets the server's SQL spells out as letters (server/sql/queries/*.sql); a test
# (tests/unit/test_status_sql.py) checks that each literal set there is one of these.
# Tasks the swarm may queue: new, resource-scaled, or failed and retried.
TASK_QUEUEABLE: frozenset[TaskStatus] = frozenset(
    {TS.REGISTERING, TS.ADJUSTING_RESOURCES, TS.ERROR_RECOVERABLE}
)
# Tasks whose latest attempt failed (retrying, rescaling or given up).
TASK_FAILED: frozenset[TaskStatus] = frozenset(
    {TS.ERROR_RECOVERABLE, TS.ADJUSTING_RESOURCES, TS.ERROR_FATAL}
)
# Tasks a resume or a reset puts back to REGISTERING with no attempts used.
TASK_RESETTABLE: frozenset[TaskStatus] = TASK_FAILED | {TS.REGISTERING}
# Instances with a heartbeat deadline (report_by): the reaper watches them.
TASK_INSTANCE_WATCHED: frozenset[TaskInstanceStatus] = frozenset(
    {TIS.INSTANTIATED, TIS.LAUNCHED, TIS.RUNNING, TIS.TRIAGING, TIS.KILL_SELF}
)
# Instances whose deadline a heartbeat moves (one marked for killing must not linger).
TASK_INSTANCE_BEATING: frozenset[TaskInstanceStatus] = TASK_INSTANCE_WATCHED - {TIS.KILL_SELF}
# Instances on a cluster with a job id: a new distributor adopts them by that id.
TASK_INSTANCE_ON_CLUSTER: frozenset[TaskInstanceStatus] = frozenset(
    {TIS.LAUNCHED, TIS.RUNNING, TIS.TRIAGING}
)
# Instances a new distributor adopts without a job id: claimed (perhaps started), or
# marked for killing.
TASK_INSTANCE_ADOPTED_BY_STATUS: frozenset[TaskInstanceStatus] = frozenset(
    {TIS.INSTANTIATED, TIS.KILL_SELF}
)
# Live instances a stopped workflow kills (those already marked K are being killed).
TASK_INSTANCE_TO_KILL: frozenset[TaskInstanceStatus] = TASK_INSTANCE_ACTIVE - {TIS.KILL_SELF}
# Instances without a cluster job id yet: the history shows no job for them.
TASK_INSTANCE_UNSUBMITTED: frozenset[TaskInstanceStatus] = frozenset(
    {TIS.QUEUED, TIS.INSTANTIATED}
)
# Instances that never ran on a host: the history shows no host for them.
TASK_INSTANCE_NO_HOST: frozenset[TaskInstanceStatus] = TASK_INSTANCE_UNSUBMITTED | {
    TIS.LAUNCHED, TIS.NO_DISTRIBUTOR_ID, TIS.NO_HEARTBEAT}
# Attempts that failed, for error listings.
TASK_INSTANCE_FAILED: frozenset[TaskInstanceStatus] = frozenset(
    {TIS.ERROR, TIS.ERROR_FATAL, TIS.UNKNOWN_ERROR, TIS.NO_DISTRIBUTOR_ID, TIS.NO_HEARTBEAT,
     TIS.RESOURCE_ERROR}
)
# Attempts that ended after their launch: what usage and pictures measure (an instance
# that never got a job id, W, used nothing).
TASK_INSTANCE_ENDED_LAUNCHED: frozenset[TaskInstanceStatus] = (
    TASK_INSTANCE_FAILED - {TIS.NO_DISTRIBUTOR_ID}) | {TIS.DONE}
# Runs a resume took over, winding down.
WORKFLOW_RUN_RESUMING: frozenset[WorkflowRunStatus] = frozenset(
    {WRS.COLD_RESUME, WRS.HOT_RESUME}
)
# Runs that still hold their workflow: active, or winding down after a resume.
WORKFLOW_RUN_LIVE: frozenset[WorkflowRunStatus] = WORKFLOW_RUN_ACTIVE | WORKFLOW_RUN_RESUMING
# Workflows that have finished one way or another (they may be cleaned up).
WORKFLOW_FINISHED: frozenset[WorkflowStatus] = frozenset(
    {WS.DONE, WS.FAILED, WS.HALTED, WS.ABORTED}
)

# The task status that follows an instance's status, and from which task statuses.
TASK_FOLLOWS_INSTANCE: Mapping[TaskInstanceStatus, TaskStatus] = {
    TIS.INSTANTIATED: TS.INSTANTIATING,
    TIS.LAUNCHED: TS.LAUNCHED,
    TIS.RUNNING: TS.RUNNING,
    TIS.DONE: TS.DONE,
    TIS.ERROR: TS.ERROR_RECOVERABLE,
    TIS.UNKNOWN_ERROR: TS.ERROR_RECOVERABLE,
    TIS.RESOURCE_ERROR: TS.ERROR_RECOVERABLE,
    TIS.NO_DISTRIBUTOR_ID: TS.ERROR_RECOVERABLE,
    TIS.ERROR_FATAL: TS.ERROR_RECOVERABLE,
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
    WRS.REGISTERED: WS.INSTANTIATING,
    WRS.LINKING: WS.INSTANTIATING,
    WRS.BOUND: WS.INSTANTIATING,
    WRS.INSTANTIATED: WS.INSTANTIATING,
    WRS.LAUNCHED: WS.LAUNCHED,
    WRS.RUNNING: WS.RUNNING,
    WRS.DONE: WS.DONE,
    WRS.ERROR: WS.FAILED,
    WRS.STOPPED: WS.HALTED,
    WRS.COLD_RESUME: WS.HALTED,
    WRS.HOT_RESUME: WS.HALTED,
    WRS.TERMINATED: WS.HALTED,
    WRS.ABORTED: WS.ABORTED,
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
    "task": tuple(letters(TASK_ACTIVE | {TS.ERROR_RECOVERABLE, TS.ADJUSTING_RESOURCES})),
    "workflow": tuple(letters(WORKFLOW_ACTIVE | {WS.REGISTERING, WS.QUEUED})),
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
