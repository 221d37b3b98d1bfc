"""What deploy/production/ tells an operator to write exists: every JOBMON__ setting it names
is one `jobmon config show` lists and describes, every `section.key` the README names too,
and every option the units pass to `jobmon` is one the command takes."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ROOT / "deploy" / "production"
SECTIONS = ("http", "db", "server", "embedded", "heartbeat", "distributor", "swarm", "local")


def _jobmon(*args: str) -> str:
    env = {name: text for name, text in os.environ.items() if not name.startswith("JOBMON__")}
    completed = subprocess.run([sys.executable, "-m", "jobmon", *args], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def _files() -> list[Path]:
    found = [path for path in PRODUCTION.rglob("*") if path.is_file()]
    assert len(found) >= 8, f"deploy/production/ has only {found}"
    return found


def test_every_setting_the_deployment_names_is_listed_and_described() -> None:
    described = {row["setting"]: row["description"]
                 for row in json.loads(_jobmon("config", "show", "--json"))}
    named: dict[str, set[str]] = {}
    for path in _files():
        text = path.read_text()
        for section, key in re.findall(r"\bJOBMON__([A-Z]+)__([A-Z_]+)\b", text):
            named.setdefault(f"{section.lower()}.{key.lower()}", set()).add(path.name)
        # `section.key` in backticks, as the README and the comments write settings
        for section, key in re.findall(rf"`({'|'.join(SECTIONS)})\.([a-z_]+)`", text):
            named.setdefault(f"{section}.{key}", set()).add(path.name)
        # and as the nginx comments do: "server.transfer_timeout (120 s)"
        for section, key in re.findall(rf"(?<![/\w.-])({'|'.join(SECTIONS)})\.([a-z_]+) \(",
                                       text):
            named.setdefault(f"{section}.{key}", set()).add(path.name)
    assert len(named) >= 10, f"the deployment names few settings: {sorted(named)}"
    unknown = {name: files for name, files in named.items() if name not in described}
    assert not unknown, f"settings that do not exist: {unknown}"
    undocumented = sorted(name for name in named if not described[name].strip())
    assert not undocumented, f"settings without a description: {undocumented}"


def test_every_option_the_units_pass_is_one_the_command_takes() -> None:
    commands = []
    for path in _files():
        for line in path.read_text().splitlines():
            if line.startswith("ExecStart="):
                commands.append(shlex.split(line.removeprefix("ExecStart=")))
            elif line.startswith("CMD ["):
                commands.append(json.loads(line.removeprefix("CMD ")))
    assert len(commands) >= 3, commands
    for command in commands:
        assert Path(command[0]).name == "jobmon", command
        words = [word for word in command[1:] if not word.startswith("--log-level")]
        words = [word for word in words if word not in ("INFO", "DEBUG", "WARNING")]
        subcommand = words[0]
        usage = _jobmon(subcommand, "--help")
        for option in (word for word in words[1:] if word.startswith("--")):
            assert option in usage, f"`jobmon {subcommand}` has no {option}: {command}"
