"""The shell wrapper around local commands: its PID and the command's status reach files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from jobmon import wire
from jobmon.distributor.execution import (
    InstancePaths,
    prepare_files,
    read_wrapper,
    recorded_exit,
    started_wrapper,
    wrapper_arguments,
)

TOKEN = "5f0c1d2e3b4a49d8a7e6f5c4b3a29180"


@pytest.mark.parametrize(
    ("command", "status", "stdout"),
    [
        ("true", 0, ""),
        ("false", 1, ""),
        ("exit 5", 5, ""),
        ("echo hi; sh -c 'exit 7'", 7, "hi"),
        ("trap 'echo bye' EXIT; exit 6", 6, "bye"),  # the command's own trap still runs
        ("exec sh -c 'exit 3'", 3, ""),  # exec replaces a subshell, not the wrapper
        ("printf '%s' \"$(echo nested)\"", 0, "nested"),
    ],
)
def test_the_wrapper_records_pid_and_status(tmp_path: Path, command: str, status: int,
                                            stdout: str) -> None:
    paths = InstancePaths.under(tmp_path, 1, 2)
    os.mkdir(paths.folder)
    with subprocess.Popen(wrapper_arguments(command, paths, TOKEN),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as shell:
        out, _ = shell.communicate(timeout=30)
    assert shell.returncode == status
    assert out.strip() == stdout
    assert recorded_exit(paths, TOKEN) == status
    assert started_wrapper(paths, TOKEN) == shell.pid
    record = read_wrapper(paths, TOKEN)
    assert record is not None and record.parent == os.getpid()


def test_nothing_recorded_reads_as_unknown(tmp_path: Path) -> None:
    paths = InstancePaths.under(tmp_path, 1, 2)
    assert recorded_exit(paths, TOKEN) is None and started_wrapper(paths, TOKEN) is None
    os.mkdir(paths.folder)
    Path(paths.wrapper).write_text(f"123 1 {TOKEN}\n")  # started; killed before recording a status
    assert started_wrapper(paths, TOKEN) == 123 and recorded_exit(paths, TOKEN) is None


@pytest.mark.parametrize("first_line", [
    "123",  # an older Jobmon's file: no launch id
    "123 1 0123456789abcdef0123456789abcdef",  # another launch (another database)
    "123 1",  # launched without a launch id
])
def test_a_file_of_another_launch_is_not_trusted(tmp_path: Path, first_line: str) -> None:
    paths = InstancePaths.under(tmp_path, 1, 2)
    os.mkdir(paths.folder)
    Path(paths.wrapper).write_text(f"{first_line}\n0\n")
    assert read_wrapper(paths, TOKEN) is None
    assert recorded_exit(paths, TOKEN) is None and started_wrapper(paths, TOKEN) is None
    assert read_wrapper(paths, "") is None


def _instance(instance_id: int, has_upstream: bool) -> wire.ClaimedInstance:
    return wire.ClaimedInstance(
        task_instance_id=instance_id, task_id=instance_id, workflow_id=1, workflow_run_id=1,
        array_id=1, name=f"t{instance_id}", command="true", compute_resources={}, attempt=1,
        has_upstream=has_upstream)


def test_tasks_that_see_the_same_upstream_outputs_share_one_read_only_file(
        tmp_path: Path) -> None:
    """Creating a file is a good part of what a short task costs: the tasks of a level that
    all depend on the same tasks read one JOBMON_INPUTS file, written once."""
    level = {"a": None, "b": {"x": 1}}
    first, second, other, root = (
        Path(prepare_files(_instance(n, upstream), InstancePaths.under(tmp_path, 1, n), inputs))
        for n, upstream, inputs in ((1, True, level), (2, True, dict(level)),
                                    (3, True, {"a": 2}), (4, False, None)))
    assert first == second != other != root
    assert json.loads(first.read_bytes()) == level
    assert json.loads(other.read_bytes()) == {"a": 2}
    assert json.loads(root.read_bytes()) == {}
    for path in (first, other, root):
        assert not stat.S_IMODE(path.stat().st_mode) & 0o222  # nobody may change it
    assert sorted(p.name for p in first.parent.iterdir() if p.name.startswith(".")) == []
