"""Results that flow on (pure): upstream outputs by name, the files an output names, the
state of a chain of workflows, declared parameters, and promised results.

An output (the JSON a task leaves at JOBMON_OUTPUT) that is an object may name files the
task produced under the key ``jobmon_files``: a list of paths, relative to the instance's
files folder (JOBMON_FILES) or absolute inside it. Only files in that folder count: the
worker makes each name absolute and drops (and reports) the others, and the archive reads
only files that this module's rule places in the instance's own folder.
"""

from __future__ import annotations

import posixpath
from collections import Counter

# typing, pathlib and the wire types (msgspec) are not loaded at run time: every `jobmon
# worker` (one interpreter per cluster job) checks its output's files by this rule
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

    from jobmon.wire_results import ChainLink, Parameter, ResultSpec

FILES_KEY = "jobmon_files"
CHAIN_LIMIT = 1000  # links followed at most (a longer chain is cut there)


# ------------------------------------------------------------------ inputs from upstream


def named_outputs(rows: Iterable[tuple[int, str, Any]]) -> dict[str, Any]:
    """{task name: output} of (task id, name, output) rows; a name that several tasks
    share becomes ``name#task_id`` for each of them, so that none is lost."""
    listed = list(rows)
    counts = Counter(name for _, name, _ in listed)
    return {(name if counts[name] == 1 else f"{name}#{task_id}"): output
            for task_id, name, output in listed}


# ------------------------------------------------------------------ files an output names


def files_folder(log_folder: str, instance_id: int) -> str:
    """The instance's files folder (JOBMON_FILES) inside its workflow's log folder."""
    return posixpath.join(log_folder, f"ti{instance_id}.files")


def checked_files(output: Any, folder: str) -> tuple[Any, str]:
    """The output with the files it names made absolute in ``folder``, and a problem to
    report (names outside the folder, or not a list of strings, are dropped)."""
    if not isinstance(output, dict) or FILES_KEY not in output:
        return output, ""
    names = output[FILES_KEY]
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        rest = {key: value for key, value in output.items() if key != FILES_KEY}
        return rest, f"{FILES_KEY} must be a list of file names; ignored"
    kept: list[str] = []
    outside: list[str] = []
    for name in names:
        path = posixpath.normpath(posixpath.join(folder, name))
        if "\0" in name or not name or path == folder or \
                not path.startswith(folder.rstrip("/") + "/"):
            outside.append(name)
        else:
            kept.append(path)
    problem = ""
    if outside:
        shown = ", ".join(repr(name) for name in outside[:5])
        problem = (f"{FILES_KEY} names {len(outside)} file(s) outside JOBMON_FILES "
                   f"({shown}); only files in that folder count, the others are ignored")
    return {**output, FILES_KEY: kept}, problem


def named_files(output: Any) -> list[str]:
    """The file paths an output names (as the worker recorded them)."""
    if not isinstance(output, dict):
        return []
    names = output.get(FILES_KEY)
    if not isinstance(names, list):
        return []
    return [name for name in names if isinstance(name, str)]


def instance_file(path: str, workflow_id: int, instance_id: int) -> tuple[str, str] | None:
    """(the instance's files folder, the path inside it) if ``path`` is a file of that
    folder, ``.../workflow-{workflow_id}/ti{instance_id}.files/...``; None otherwise."""
    from pathlib import PurePosixPath

    if not path or "\0" in path or posixpath.normpath(path) != path:
        return None
    given = PurePosixPath(path)
    if not given.is_absolute() or ".." in given.parts:
        return None
    parts = given.parts
    marker = (f"workflow-{workflow_id}", f"ti{instance_id}.files")
    for index in range(1, len(parts) - 2):
        if parts[index:index + 2] == marker:
            folder = str(PurePosixPath(*parts[:index + 2]))
            return folder, str(PurePosixPath(*parts[index + 2:]))
    return None


# ------------------------------------------------------------------ chains


def chain_state(links: Sequence[ChainLink]) -> tuple[str, str, int | None]:
    """(state, message, where a resume starts) of a chain, first link first.

    DONE: every link is DONE and the last names no linker. RUNNING: a link is not finished.
    WAITING: a DONE link has a linker but no follow-on yet (a resume makes it). STOPPED: a
    link's workflow failed, or its linker did.
    """
    for position, link in enumerate(links, 1):
        where = f"workflow {link.workflow_id} (link {position} of the chain)"
        if link.status in ("F", "A", "H"):
            return ("STOPPED", f"{where} ended {_WORKFLOW_WORDS[link.status]}: fix it and "
                    f"resume the chain", link.workflow_id)
        if link.status != "D":
            if link.status in ("G", "Q") and position > 1:
                return ("WAITING", f"{where} is bound and waits for its run: resume the "
                        "chain", link.workflow_id)
            return "RUNNING", f"{where} is {_WORKFLOW_WORDS.get(link.status, link.status)}", \
                link.workflow_id
        if link.linker is None or link.ended:
            continue
        if link.error:
            return ("STOPPED", f"the linker {link.linker} of {where} failed: {link.error}",
                    link.workflow_id)
        if link.next_workflow_id is None:
            return ("WAITING", f"{where} is DONE; its follow-on (by {link.linker}) is not "
                    "made yet: resume the chain", link.workflow_id)
    last = links[-1] if links else None
    if last is not None and last.next_workflow_id is not None:  # cut at CHAIN_LIMIT
        return "RUNNING", f"the chain is longer than {CHAIN_LIMIT} links", None
    return "DONE", f"all {len(links)} workflow(s) of the chain are DONE", None


_WORKFLOW_WORDS = {"G": "REGISTERING", "Q": "QUEUED", "I": "INSTANTIATING", "O": "LAUNCHED",
                   "R": "RUNNING", "D": "DONE", "H": "HALTED", "F": "FAILED",
                   "A": "ABORTED"}


# ------------------------------------------------------------------ parameters


_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list,),
    "dict": (dict,),
}
TYPE_NAMES = {int: "int", float: "float", str: "str", bool: "bool", list: "list", dict: "dict"}


def _fits(kind: str, value: Any) -> bool:
    if kind in ("int", "float") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def check_parameters(declared: Sequence[Parameter],
                     given: Mapping[str, Any]) -> list[Parameter]:
    """The declared parameters with their values (given, else the default); ValueError
    naming every problem: an unknown name, a wrong type, a required one not given."""
    from jobmon.wire_results import Parameter

    problems: list[str] = []
    names = {parameter.name for parameter in declared}
    problems += [f"{name!r} is not a declared parameter (declared: "
                 f"{', '.join(sorted(names)) or 'none'})" for name in given if name not in names]
    valued: list[Parameter] = []
    for parameter in declared:
        if parameter.name in given:
            value = given[parameter.name]
        elif parameter.required:
            problems.append(f"parameter {parameter.name!r} ({parameter.type}) is required"
                            + (f": {parameter.help}" if parameter.help else ""))
            continue
        else:
            value = parameter.default
        if value is not None and not _fits(parameter.type, value):
            problems.append(f"parameter {parameter.name!r} must be of type "
                            f"{parameter.type}, not {type(value).__name__} {value!r}")
            continue
        if parameter.type == "float" and isinstance(value, int):
            value = float(value)
        valued.append(Parameter(name=parameter.name, type=parameter.type,
                                default=parameter.default, help=parameter.help,
                                required=parameter.required, value=value))
    if problems:
        raise ValueError("bad parameters: " + "; ".join(problems))
    return valued


# ------------------------------------------------------------------ promised results


def _at(value: Any, key: str) -> Any:
    for part in key.split(".") if key else []:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(part)
    return value


def read_results(specs: Sequence[ResultSpec],
                 outputs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """({result name: value}, {result name: why it is missing}) from the outputs of the
    workflow's DONE tasks by name. A file result is the path of the file its ``key`` names
    among the files the task's output named."""
    values: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for spec in specs:
        if spec.task not in outputs:
            missing[spec.name] = f"task {spec.task!r} left no output (is it DONE?)"
            continue
        output = outputs[spec.task]
        if spec.file:
            found = [path for path in named_files(output)
                     if path == spec.key or path.endswith("/" + spec.key)]
            if not found:
                missing[spec.name] = f"{spec.task!r} named no file {spec.key!r}"
            else:
                values[spec.name] = found[0]
            continue
        try:
            values[spec.name] = _at(output, spec.key)
        except KeyError as error:
            missing[spec.name] = f"the output of {spec.task!r} has no {spec.key!r} " \
                                 f"(no {error.args[0]!r})"
    return values, missing


# ------------------------------------------------------------------ input runs of a task

# JOBMON_RUNS holds the outputs of input runs up to this many bytes (as JSON text) in all
RUNS_OUTPUTS_LIMIT = 16 * 2**20


def runs_with_outputs(sizes: Sequence[tuple[int, int]],
                      limit: int = RUNS_OUTPUTS_LIMIT) -> set[int]:
    """The runs of (run id, size of its outputs) pairs, in the order given, whose outputs
    JOBMON_RUNS holds: the first ones whose sizes together stay within ``limit``. From the
    first run that would pass it on, a run's outputs are left out (null)."""
    included: set[int] = set()
    total = 0
    for run_id, size in sizes:
        total += size
        if total > limit:
            break
        included.add(run_id)
    return included


def result_tasks(specs: Sequence[ResultSpec]) -> set[str]:
    """The names of the tasks the results of ``specs`` are read from (of ``name#task_id``,
    which named_outputs makes of a shared name, both)."""
    names = set()
    for spec in specs:
        names.add(spec.task)
        shared, _, task_id = spec.task.rpartition("#")
        if shared and task_id.isdigit():
            names.add(shared)
    return names


def run_entry(name: str, workflow_args: str, parameters: Sequence[Parameter],
              specs: Sequence[ResultSpec], outputs: Mapping[str, Any],
              with_outputs: bool) -> dict[str, Any]:
    """One input run as JOBMON_RUNS shows it; ``outputs``: by task name (named_outputs),
    all of them when ``with_outputs``, else at least those the results are read from."""
    values, _ = read_results(specs, outputs)
    return {"name": name, "workflow_args": workflow_args,
            "parameters": {parameter.name: parameter.value for parameter in parameters},
            "results": values, "outputs": dict(outputs) if with_outputs else None}
