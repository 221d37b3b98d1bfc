"""Change one setting in the TOML configuration file (what ``jobmon update_config`` does).

The file is edited line by line, so its comments and layout stay; the result is read back
and checked as the settings loader reads it before it replaces the file. Jobmon's names of
settings are mapped onto ours where one exists.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from jobmon import settings as settings_module
from jobmon.errors import ConfigError

# Jobmon's setting -> ours, where ours means the same.
JOBMON_NAMES = {
    "http.retries_timeout": "http.retry_seconds",
    "distributor.poll_interval": "distributor.poll_wait",
    "db.sqlalchemy_database_uri": "db.url",
    "db.pool.size": "db.pool_max_size",
}
# Jobmon's settings with no counterpart here, and what to use instead.
NOT_HERE = {
    "http.retries_attempts": "a request is retried for http.retry_seconds seconds, not a "
                             "number of attempts (`jobmon update_config http.retry_seconds "
                             "300`)",
    "http.route_prefix": "the server's routes are fixed (/api/v1)",
    "reaper.poll_interval_minutes": "the reaper's interval is server.reaper_interval, in "
                                    "seconds",
}
NOT_HERE_SECTIONS = {
    "telemetry": "there is no OpenTelemetry tracing; the server serves Prometheus metrics at "
                 "/metrics",
    "logging": "log detail is chosen with `jobmon --log-level`",
    "oidc": "a shared server takes API tokens (`jobmon token create`)",
    "worker_node": "the worker's settings are fixed",
}


def packaged_defaults() -> dict[str, dict[str, Any]]:
    return tomllib.loads(resources.files("jobmon").joinpath("defaults.toml").read_text())


def _canonical(key: str) -> tuple[str, str, str]:
    """(section, name, note) of ``key``, our name or Jobmon's; ValueError if none."""
    defaults = packaged_defaults()
    note = ""
    if key in JOBMON_NAMES:
        note = f"Jobmon's '{key}' is '{JOBMON_NAMES[key]}' here. "
        key = JOBMON_NAMES[key]
    parts = key.split(".")
    if len(parts) < 2:
        raise ValueError(f"Key '{key}' must be in dot notation format (e.g., 'section.key'). "
                         f"Valid sections are: {sorted(defaults)}")
    section = parts[0]
    reason = NOT_HERE.get(key) or NOT_HERE_SECTIONS.get(section)
    if reason is not None:
        raise ValueError(f"'{key}' is a setting of IHME Jobmon that does not exist here: "
                         f"{reason}. `jobmon config show` lists every setting")
    if section not in defaults:
        raise ValueError(f"Section '{section}' not found in configuration. Available "
                         f"sections: {sorted(defaults)}")
    name = "_".join(parts[1:])
    if len(parts) > 2 or name not in defaults[section]:
        raise ValueError(f"Key '{'.'.join(parts[1:])}' not found in '{section}'. Available "
                         f"keys: {sorted(defaults[section])}")
    return section, name, note


def _coerce(text: str, default: Any, key: str) -> Any:
    try:
        if isinstance(default, bool):
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = ("true or false" if isinstance(default, bool) else
                "a whole number" if isinstance(default, int) else "a number")
        raise ValueError(f"'{key}' takes {kind}, not {text!r}") from None
    return text


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)  # a TOML basic string: JSON's escapes are TOML's


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")


def set_line(text: str, section: str, name: str, literal: str) -> str:
    """``text`` with ``name = literal`` in ``[section]``: the line replaced, or added."""
    lines = text.splitlines()
    assignment = f"{name} = {literal}"
    header = next((i for i, line in enumerate(lines)
                   if (match := _HEADER.match(line)) and match.group(1) == section), None)
    if header is None:
        return "\n".join([*lines, "", f"[{section}]", assignment]).lstrip("\n") + "\n"
    end = next((i for i in range(header + 1, len(lines)) if _ANY_HEADER.match(lines[i])),
               len(lines))
    key = re.compile(rf"^\s*(?:{re.escape(name)}|\"{re.escape(name)}\")\s*=")
    for i in range(header + 1, end):
        if key.match(lines[i]):
            lines[i] = assignment
            return "\n".join(lines) + "\n"
    last = max((i for i in range(header, end) if lines[i].strip()), default=header)
    lines.insert(last + 1, assignment)
    return "\n".join(lines) + "\n"


def update_setting(key: str, value: str, config_file: str | Path | None = None) -> str:
    """Write ``section.key = value`` into the configuration file; the message says what
    changed. ValueError for an unknown key, a value of the wrong type, or a file that is
    not valid TOML."""
    section, name, note = _canonical(key)
    path = (Path(config_file).expanduser() if config_file
            else settings_module.config_file_path(os.environ))
    text = path.read_text() if path.exists() else ""
    try:
        current = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"config file {path} is not valid TOML: {error}") from None
    default = packaged_defaults()[section][name]
    new = _coerce(value, default, f"{section}.{name}")
    old = current.get(section, {}).get(name, default)
    updated = set_line(text, section, name, _literal(new))
    try:
        if tomllib.loads(updated).get(section, {}).get(name) != new:
            raise ValueError("the edit did not take")
    except (tomllib.TOMLDecodeError, ValueError):
        raise ValueError(f"could not set {section}.{name} in {path} without breaking it "
                         "(is it written as a dotted key or over several lines?); edit the "
                         "file by hand") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                     delete=False) as handle:
        handle.write(updated)
    try:
        settings_module.load({settings_module.CONFIG_FILE_ENV: handle.name})
        os.replace(handle.name, path)
    except ConfigError as error:
        os.unlink(handle.name)
        raise ValueError(str(error).replace(handle.name, str(path))) from None
    overridden = settings_module.ENV_PREFIX + f"{section}__{name}".upper()
    shadow = (f" (the environment variable {overridden} still overrides it)"
              if overridden in os.environ else "")
    return (f"{note}Successfully updated '{section}.{name}' from '{old}' to '{new}' in "
            f"{path}{shadow}")
