"""The shell wrapper around local commands: its PID and the command's status reach files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jobmon.distributor.execution import SHELL, wrapper_for


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
    exit_file, pid_file = tmp_path / "exit", tmp_path / "pid"
    result = subprocess.run([SHELL, "-c", wrapper_for(command), "jobmon-task", command,
                             str(exit_file), str(pid_file)],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == status
    assert result.stdout.strip() == stdout
    assert int(exit_file.read_text()) == status
    assert int(pid_file.read_text()) > 1
