"""Layered settings: packaged defaults < TOML file < JOBMON__SECTION__KEY variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobmon.errors import ConfigError
from jobmon.settings import config_file_path, load


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """An environment that cannot see the real user's ~/.config/jobmon/jobmon.toml."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "no-config"), "HOME": str(tmp_path)}


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jobmon.toml"
    path.write_text(text)
    return path


def test_defaults_when_nothing_is_configured(base_env: dict[str, str]) -> None:
    loaded = load(base_env)
    settings = loaded.settings
    assert settings.http.service_url == ""
    assert settings.heartbeat.task_instance_interval == 30.0
    assert settings.heartbeat.workflow_run_interval == 10.0
    assert settings.server.port == 8070
    assert settings.db.pool_max_size == 10
    assert settings.swarm.edge_chunk_size == 50000
    assert set(loaded.sources.values()) == {"default"}
    assert "heartbeat.task_instance_interval" in loaded.sources


def test_file_overrides_defaults_and_env_overrides_the_file(
    tmp_path: Path, base_env: dict[str, str]
) -> None:
    path = write_config(tmp_path, """
[http]
service_url = "http://file:8070"
request_timeout = 5

[heartbeat]
task_instance_interval = 12.5
""")
    loaded = load({**base_env, "JOBMON__CONFIG_FILE": str(path),
                   "JOBMON__HTTP__SERVICE_URL": "http://env:9000"})
    assert loaded.settings.http.service_url == "http://env:9000"
    assert loaded.settings.http.request_timeout == 5.0
    assert isinstance(loaded.settings.http.request_timeout, float)
    assert loaded.settings.heartbeat.task_instance_interval == 12.5
    assert loaded.settings.heartbeat.workflow_run_interval == 10.0
    assert loaded.sources["http.service_url"] == "env JOBMON__HTTP__SERVICE_URL"
    assert loaded.sources["http.request_timeout"] == str(path)
    assert loaded.sources["heartbeat.task_instance_interval"] == str(path)
    assert loaded.sources["heartbeat.workflow_run_interval"] == "default"


def test_env_values_are_converted_to_the_setting_type(base_env: dict[str, str]) -> None:
    loaded = load({**base_env, "JOBMON__SERVER__PORT": "9001",
                   "JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL": "1.5",
                   "JOBMON__DB__URL": "postgresql://db/jobmon"})
    assert loaded.settings.server.port == 9001
    assert loaded.settings.heartbeat.task_instance_interval == 1.5
    assert loaded.settings.db.url == "postgresql://db/jobmon"


def test_env_names_are_case_insensitive_after_the_prefix(base_env: dict[str, str]) -> None:
    loaded = load({**base_env, "JOBMON__Server__Port": "9002"})
    assert loaded.settings.server.port == 9002


def test_the_default_file_location_is_read(tmp_path: Path) -> None:
    config_home = tmp_path / "xdg"
    (config_home / "jobmon").mkdir(parents=True)
    (config_home / "jobmon" / "jobmon.toml").write_text("[server]\nport = 8123\n")
    env = {"XDG_CONFIG_HOME": str(config_home)}
    assert config_file_path(env) == config_home / "jobmon" / "jobmon.toml"
    loaded = load(env)
    assert loaded.settings.server.port == 8123
    assert loaded.sources["server.port"] == str(config_home / "jobmon" / "jobmon.toml")


def test_other_variables_are_not_settings(base_env: dict[str, str]) -> None:
    loaded = load({**base_env, "JOBMON_TASK_ID": "5", "PATH": "/bin", "JOBMON_": "x"})
    assert set(loaded.sources.values()) == {"default"}


def test_loading_does_not_leak_between_calls(tmp_path: Path, base_env: dict[str, str]) -> None:
    load({**base_env, "JOBMON__SERVER__PORT": "9003"})
    assert load(base_env).settings.server.port == 8070


# ------------------------------------------------------------------ errors


def test_missing_named_file_is_an_error(tmp_path: Path, base_env: dict[str, str]) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load({**base_env, "JOBMON__CONFIG_FILE": str(missing)})
    assert str(missing) in str(caught.value)


def test_unknown_section_in_file(tmp_path: Path, base_env: dict[str, str]) -> None:
    path = write_config(tmp_path, "[htttp]\nservice_url = 'x'\n")
    with pytest.raises(ConfigError) as caught:
        load({**base_env, "JOBMON__CONFIG_FILE": str(path)})
    message = str(caught.value)
    assert "[htttp]" in message and str(path) in message
    assert "http" in message  # lists the known sections


def test_unknown_key_in_file(tmp_path: Path, base_env: dict[str, str]) -> None:
    path = write_config(tmp_path, "[http]\nservice_ulr = 'x'\n")
    with pytest.raises(ConfigError, match=r"unknown key http\.service_ulr"):
        load({**base_env, "JOBMON__CONFIG_FILE": str(path)})


def test_malformed_toml(tmp_path: Path, base_env: dict[str, str]) -> None:
    path = write_config(tmp_path, "[http\nservice_url = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load({**base_env, "JOBMON__CONFIG_FILE": str(path)})


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL", "fast",
         r"JOBMON__HEARTBEAT__TASK_INSTANCE_INTERVAL: heartbeat\.task_instance_interval = "
         r"'fast' is not a valid float"),
        ("JOBMON__SERVER__PORT", "80.5", r"server\.port = '80\.5' is not a valid int"),
        ("JOBMON__SERVER__PORT", "", r"server\.port = '' is not a valid int"),
        ("JOBMON__DB__POOL_MAX_SIZE", "ten", r"db\.pool_max_size"),
    ],
)
def test_bad_env_types_name_the_variable_and_value(
    base_env: dict[str, str], name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load({**base_env, name: value})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[server]\nport = 'eighty'\n", r"server\.port = 'eighty' is not a valid int"),
        ("[server]\nport = 80.5\n", r"server\.port = 80\.5 is not a valid int"),
        ("[http]\nservice_url = 5\n", r"http\.service_url = 5 is not a valid str"),
        ("[heartbeat]\ntask_instance_interval = 'soon'\n", "is not a valid float"),
        ("[server]\nport = true\n", r"server\.port = True is not a valid int"),
        ("[heartbeat]\nreport_by_buffer = false\n", "is not a valid float"),
    ],
)
def test_bad_file_types_name_the_file_and_value(
    tmp_path: Path, base_env: dict[str, str], text: str, expected: str
) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as caught:
        load({**base_env, "JOBMON__CONFIG_FILE": str(path)})
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    "name",
    ["JOBMON__HTTP__SERVICE_ULR", "JOBMON__NOPE__PORT", "JOBMON__PORT",
     "JOBMON__SERVER__PORT__X", "JOBMON__"],
)
def test_unknown_jobmon_variables_are_errors(base_env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load({**base_env, name: "1"})
    message = str(caught.value)
    assert name in message
    assert "JOBMON__SECTION__KEY" in message


def test_env_error_wins_over_a_good_file(tmp_path: Path, base_env: dict[str, str]) -> None:
    path = write_config(tmp_path, "[server]\nport = 8123\n")
    with pytest.raises(ConfigError, match="JOBMON__SERVER__PORT"):
        load({**base_env, "JOBMON__CONFIG_FILE": str(path), "JOBMON__SERVER__PORT": "x"})


def test_config_error_is_a_jobmon_error() -> None:
    from jobmon.errors import JobmonError

    assert issubclass(ConfigError, JobmonError)


@pytest.mark.parametrize("url", ["foo", "127.0.0.1:8080", "ftp://host/", "http://", "http:///x"])
def test_a_service_url_that_is_no_http_url_is_an_error(base_env: dict[str, str], url: str) -> None:
    with pytest.raises(ConfigError, match=r"JOBMON__HTTP__SERVICE_URL.*not a URL like http"):
        load({**base_env, "JOBMON__HTTP__SERVICE_URL": url})


@pytest.mark.parametrize("url", ["", "http://127.0.0.1:8080", "https://jobmon.example.org/api"])
def test_http_service_urls_and_none_are_accepted(base_env: dict[str, str], url: str) -> None:
    assert load({**base_env, "JOBMON__HTTP__SERVICE_URL": url}).settings.http.service_url == url
