"""The shell wrapper around local commands: its PID and the command's status reach files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jobmon.distributor.execution import (
    SHELL,
    InstancePaths,
    recorded_exit,
    started_wrapper,
    wrapper_for,
)


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
    paths.wrapper.parent.mkdir()
    with subprocess.Popen([SHELL, "-c", wrapper_for(command), "jobmon-task", command,
                           str(paths.wrapper)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as shell:
        out, _ = shell.communicate(timeout=30)
    assert shell.returncode == status
    assert out.strip() == stdout
    assert recorded_exit(paths) == status
    assert started_wrapper(paths) == shell.pid


def test_nothing_recorded_reads_as_unknown(tmp_path: Path) -> None:
    paths = InstancePaths.under(tmp_path, 1, 2)
    assert recorded_exit(paths) is None and started_wrapper(paths) is None
    paths.wrapper.parent.mkdir()
    paths.wrapper.write_text("123\n")  # started; killed before it could record a status
    assert started_wrapper(paths) == 123 and recorded_exit(paths) is None
