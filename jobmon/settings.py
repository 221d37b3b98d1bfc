"""Layered configuration: packaged defaults < TOML file < JOBMON__SECTION__KEY variables."""

from __future__ import annotations

import os
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

# (kept importable from here: the rule lives in jobmon.credentials, for the worker)
from jobmon.credentials import CONFIG_FILE_ENV as CONFIG_FILE_ENV
from jobmon.credentials import SECRET_VARIABLES as SECRET_VARIABLES
from jobmon.credentials import without_secrets as without_secrets
from jobmon.errors import ConfigError

# Beside this module (package data). Not importlib.resources: every `jobmon worker`, one per
# cluster job, would pay for its imports (tempfile, zipfile machinery) on the node.
DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
ENV_PREFIX = "JOBMON__"


class Http(msgspec.Struct, frozen=True, kw_only=True):
    service_url: str
    request_timeout: float
    retry_seconds: float
    retry_max_wait: float
    token: str


class Db(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    pool_min_size: int
    pool_max_size: int
    statement_timeout: float


class Server(msgspec.Struct, frozen=True, kw_only=True):
    host: str
    port: int
    max_request_mb: int
    reaper_interval: float
    idle_shutdown: float
    auth: str
    allowed_hosts: str
    idle_timeout: float
    transfer_timeout: float
    open_files: int
    processes: int
    metrics_public: bool


class Embedded(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: str
    port: int


class Heartbeat(msgspec.Struct, frozen=True, kw_only=True):
    task_instance_interval: float
    workflow_run_interval: float
    report_by_buffer: float

    @property
    def instance_deadline(self) -> float:
        """Seconds a task instance may go without a report before it is overdue."""
        return self.task_instance_interval * self.report_by_buffer

    @property
    def run_deadline(self) -> float:
        """Seconds a workflow run may go without a heartbeat before it is overdue."""
        return self.workflow_run_interval * self.report_by_buffer


class Distributor(msgspec.Struct, frozen=True, kw_only=True):
    poll_wait: float
    batch_size: int


class Swarm(msgspec.Struct, frozen=True, kw_only=True):
    queue_batch_size: int
    poll_wait: float
    edge_chunk_size: int


class Local(msgspec.Struct, frozen=True, kw_only=True):
    max_parallel: int
    log_dir: str


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    http: Http
    db: Db
    server: Server
    embedded: Embedded
    heartbeat: Heartbeat
    distributor: Distributor
    swarm: Swarm
    local: Local


@dataclass
class LoadedSettings:
    """The merged settings and, for each ``section.key``, where its value came from."""

    settings: Settings
    sources: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)


def descriptions() -> dict[str, str]:
    """Each setting's description (``section.key``): the comment above it in defaults.toml."""
    text = DEFAULTS_FILE.read_text()
    found: dict[str, str] = {}
    section, comment, shared = "", list[str](), ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section, comment, shared = stripped[1:-1], [], ""
        elif stripped.startswith("#"):
            comment.append(stripped.lstrip("#").strip())
        elif "=" in stripped and section:
            # keys right under one comment share it
            shared = " ".join(comment) if comment else shared
            found[f"{section}.{stripped.split('=', 1)[0].strip()}"] = shared
            comment = []
        elif not stripped:
            comment, shared = [], ""
    return found


def _defaults() -> dict[str, dict[str, Any]]:
    text = DEFAULTS_FILE.read_text()
    return tomllib.loads(text)


def config_file_path(environ: Mapping[str, str]) -> Path:
    explicit = environ.get(CONFIG_FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "jobmon" / "jobmon.toml"


def _coerce(section: str, key: str, raw: Any, default: Any, origin: str) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(raw, bool):  # int(True) is 1: `port = true` is a typo, not port 1
            raise ValueError(raw)
        if isinstance(default, int):
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError(raw)
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if not isinstance(raw, str):
            raise ValueError(raw)
        return raw
    except (TypeError, ValueError):
        kind = type(default).__name__
        raise ConfigError(
            f"{origin}: {section}.{key} = {raw!r} is not a valid {kind}"
        ) from None


def load(environ: Mapping[str, str] | None = None) -> LoadedSettings:
    """Read the defaults, the TOML file and the environment into one Settings."""
    environ = os.environ if environ is None else environ
    values = _defaults()
    sources = {f"{s}.{k}": "default" for s, keys in values.items() for k in keys}

    path = config_file_path(environ)
    if path.exists() or CONFIG_FILE_ENV in environ:
        try:
            file_values = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(
                f"config file {path} (from {CONFIG_FILE_ENV}) does not exist"
            ) from None
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
        for section, keys in file_values.items():
            if section not in values or not isinstance(keys, dict):
                raise ConfigError(
                    f"config file {path}: unknown section [{section}] "
                    f"(known: {', '.join(sorted(values))})"
                )
            for key, raw in keys.items():
                if key not in values[section]:
                    raise ConfigError(f"config file {path}: unknown key {section}.{key}")
                values[section][key] = _coerce(
                    section, key, raw, values[section][key], f"config file {path}"
                )
                sources[f"{section}.{key}"] = str(path)

    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_FILE_ENV:
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) != 2 or parts[0] not in values or parts[1] not in values[parts[0]]:
            raise ConfigError(
                f"environment variable {name} names no setting "
                "(expected JOBMON__SECTION__KEY; see `jobmon config show`)"
            )
        section, key = parts
        values[section][key] = _coerce(section, key, raw, values[section][key], name)
        sources[f"{section}.{key}"] = f"env {name}"

    settings = msgspec.convert(values, Settings)
    _check_service_url(settings.http.service_url, sources["http.service_url"])
    return LoadedSettings(settings=settings, sources=sources, values=values)


def split_http_url(url: str) -> urllib.parse.SplitResult | None:
    """The parts of an http(s) URL with a host, or None for anything else."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts


def _check_service_url(url: str, origin: str) -> None:
    """Empty (start or find a local server) or an http(s) URL with a host."""
    if url and split_http_url(url) is None:
        raise ConfigError(
            f"{origin}: http.service_url = {url!r} is not a URL like http://host:port"
        )


_cached: Settings | None = None


def get() -> Settings:
    """The process-wide settings, read once."""
    global _cached
    if _cached is None:
        _cached = load().settings
    return _cached


def reset_cache() -> None:
    """Forget the cached settings (tests change the environment)."""
    global _cached
    _cached = None


def default_data_home(environ: Mapping[str, str] | None = None) -> Path:
    """Jobmon's per-user state directory: server.json, the logs and the embedded database.

    The one rule, for root too: $XDG_DATA_HOME/jobmon when it is set (an absolute path),
    else ~/.local/share/jobmon, or /var/lib/jobmon for root (the database runs as an
    unprivileged user, who cannot enter root's home).
    """
    environ = os.environ if environ is None else environ
    data_home = environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(data_home):
        return Path(data_home) / "jobmon"
    if os.geteuid() == 0:
        return Path("/var/lib/jobmon")
    return Path.home() / ".local" / "share" / "jobmon"


def embedded_data_dir(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """Where the embedded PostgreSQL keeps its data: ``embedded.data_dir``, else beside the
    rest of Jobmon's state, so that whatever moves server.json moves the database too."""
    if settings.embedded.data_dir:
        return Path(settings.embedded.data_dir).expanduser()
    return default_data_home(environ) / "pgdata"
