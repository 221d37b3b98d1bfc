"""The status groups people filter and count by, as Jobmon's commands name them (pure).

``jobmon workflow_status`` counts tasks as PENDING, SCHEDULED, RUNNING, DONE and FATAL;
``-s`` of ``workflow_tasks`` and ``task_status`` takes these groups (in any case), status
names such as ERROR_FATAL, or letters.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

from jobmon.status import TaskInstanceStatus, TaskStatus

# Tasks by group, as Jobmon's workflow_status counts them.
TASK_GROUPS: dict[str, tuple[str, ...]] = {
    "PENDING": ("G", "Q", "I", "E", "A"),
    "SCHEDULED": ("O",),
    "RUNNING": ("R",),
    "DONE": ("D",),
    "FATAL": ("F",),
}
# Task instances by group, as Jobmon's task_status filters them (Jobmon leaves F, X, O and
# T out of every group; here each instance status is in one).
INSTANCE_GROUPS: dict[str, tuple[str, ...]] = {
    "PENDING": ("Q", "I", "O"),
    "RUNNING": ("R", "T"),
    "DONE": ("D",),
    "FATAL": ("E", "F", "K", "U", "W", "X", "Z"),
}


def group_of(letter: str, groups: Mapping[str, tuple[str, ...]] = TASK_GROUPS) -> str:
    return next((group for group, members in groups.items() if letter in members), letter)


def group_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Task counts by letter as counts by group."""
    return {group: sum(counts.get(letter, 0) for letter in letters)
            for group, letters in TASK_GROUPS.items()}


def parse_statuses(words: Iterable[str], statuses: type[enum.StrEnum],
                   groups: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Status letters from groups (PENDING), names (ERROR_FATAL) or letters (F), in any case
    and comma-separated or not; ValueError names the word that is none of them."""
    letters: list[str] = []
    known = {str(status) for status in statuses}
    for word in (part.strip().upper() for value in words for part in value.split(",")):
        if not word:
            continue
        if word in groups:
            letters.extend(groups[word])
        elif word in statuses.__members__:
            letters.append(str(statuses[word]))
        elif word in known:
            letters.append(word)
        else:
            raise ValueError(
                f"{word!r} is not a status: use {', '.join(groups)}, a status name such as "
                f"{next(iter(statuses.__members__))}, or a letter ({' '.join(sorted(known))})"
            )
    return sorted(set(letters))


def task_statuses(words: Iterable[str]) -> list[str]:
    return parse_statuses(words, TaskStatus, TASK_GROUPS)


def instance_statuses(words: Iterable[str]) -> list[str]:
    return parse_statuses(words, TaskInstanceStatus, INSTANCE_GROUPS)
