"""Where a task instance's stdout and stderr files are: one rule for every cluster (pure).

As in IHME Jobmon, the ``stdout`` and ``stderr`` compute resources name folders, and an
instance's files in them are ``{name}.o{job_id}`` and ``{name}.e{job_id}``: the task's
name, and the cluster's id of the job (the Slurm job id, ``123_4`` for an array task; the
task instance id on the local clusters). Without those resources the files go to the
distributor's log folder, under ``workflow-{workflow_id}``.

Every plugin writes by this rule, and whoever reads a log back (the archive) reads only a
file this rule names for that instance, so a path a client reports cannot point elsewhere.
"""

from __future__ import annotations

import posixpath
import re

# typing and pathlib are not loaded at run time: every `jobmon worker` (one interpreter per
# cluster job) names its logs by this rule, and pays for what it imports
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

STREAMS = ("stdout", "stderr")
_LETTER = {"stdout": "o", "stderr": "e"}
NAME_LIMIT = 200  # bytes of the task name in a file name (a file name has at most 255)
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=,@-]")


def file_stem(name: str) -> str:
    """The task name as it appears in a file name: no slashes, no leading dot, not too long."""
    stem = _UNSAFE.sub("_", name).lstrip(".")[:NAME_LIMIT]
    return stem or "task"


def file_name(name: str, stream: str, job_id: str) -> str:
    """``{name}.o{job_id}`` or ``{name}.e{job_id}``."""
    return f"{file_stem(name)}.{_LETTER[stream]}{_UNSAFE.sub('_', job_id)}"


def default_folder(log_root: str, workflow_id: int) -> str:
    return posixpath.join(log_root, f"workflow-{workflow_id}")


def requested_folder(resources: Mapping[str, Any], stream: str) -> str | None:
    """The folder the ``stdout`` or ``stderr`` resource names, if any (normalized)."""
    value = resources.get(stream)
    if not isinstance(value, str) or not value.strip():
        return None
    return posixpath.normpath(value.strip())


def log_path(resources: Mapping[str, Any], stream: str, name: str, job_id: str,
             log_root: str, workflow_id: int) -> str:
    """Where the instance's ``stream`` goes."""
    folder = requested_folder(resources, stream) or default_folder(log_root, workflow_id)
    return posixpath.join(folder, file_name(name, stream, job_id))


def is_instance_log(path: str, stream: str, name: str, job_ids: Iterable[str],
                    resources: Mapping[str, Any], workflow_id: int) -> bool:
    """Whether ``path`` is a file this rule names for the instance (the log root aside)."""
    from pathlib import PurePosixPath

    if not path or "\0" in path:
        return False
    given = PurePosixPath(path)
    if not given.is_absolute() or ".." in given.parts or posixpath.normpath(path) != path:
        return False
    if given.name not in {file_name(name, stream, job_id) for job_id in job_ids if job_id}:
        return False
    folder = requested_folder(resources, stream)
    if folder is None:
        return given.parent.name == f"workflow-{workflow_id}"
    if posixpath.isabs(folder):
        return str(given.parent) == folder
    # a relative folder is made absolute where the command ran, from its working directory
    wanted = PurePosixPath(folder).parts
    return given.parent.parts[-len(wanted):] == wanted if wanted != (".",) else True
