"""jobmon.logs: one rule for where an instance's logs are, and for telling them apart."""

from __future__ import annotations

import pytest

from jobmon import logs
from jobmon import settings as settings_module


def test_the_resources_name_the_folders_as_in_ihme_jobmon() -> None:
    """Follows IHME Jobmon's plugins: `{root}/{name}.o{job_id}` and `{root}/{name}.e{job_id}`."""
    resources = {"stdout": "/tmp", "stderr": "/scratch/err/"}
    assert logs.log_path(resources, "stdout", "model_1", "123_4", "/var/logs", 7) == \
        "/tmp/model_1.o123_4"
    assert logs.log_path(resources, "stderr", "model_1", "123_4", "/var/logs", 7) == \
        "/scratch/err/model_1.e123_4"
    assert logs.log_path({}, "stdout", "model_1", "9", "/var/logs", 7) == \
        "/var/logs/workflow-7/model_1.o9"


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/shadow", "..", "", ".hidden",
                                  "a\0b", "x" * 1000, "ünï cødé"])
def test_a_name_never_leaves_its_folder(name: str) -> None:
    path = logs.log_path({"stdout": "/logs"}, "stdout", name, "1", "/r", 1)
    folder, _, file_name = path.rpartition("/")
    assert folder == "/logs" and file_name and not file_name.startswith(".")
    assert len(file_name.encode()) <= 255


def test_only_the_rules_paths_are_an_instances_logs() -> None:
    resources = {"stdout": "/tmp"}
    check = logs.is_instance_log
    assert check("/tmp/m.o5", "stdout", "m", ["5"], resources, 1)
    assert check("/var/l/workflow-1/m.e5", "stderr", "m", ["5"], resources, 1)
    for path in ("/etc/passwd", "/tmp/m.o6", "/tmp/m.e5", "/other/m.o5", "/tmp/../etc/m.o5",
                 "tmp/m.o5", "/tmp//m.o5", "/var/l/workflow-2/m.e5", ""):
        stream = "stderr" if ".e" in path or "workflow-2" in path else "stdout"
        assert not check(path, stream, "m", ["5"], resources, 1), path
    # a relative folder, made absolute where the command ran
    assert check("/home/u/run/logs/m.o5", "stdout", "m", ["5"], {"stdout": "logs"}, 1)
    assert not check("/home/u/run/other/m.o5", "stdout", "m", ["5"], {"stdout": "logs"}, 1)


def test_every_setting_is_described() -> None:
    described = settings_module.descriptions()
    values = settings_module.load({}).values
    missing = [f"{s}.{k}" for s, keys in values.items() for k in keys
               if not described.get(f"{s}.{k}")]
    assert not missing
