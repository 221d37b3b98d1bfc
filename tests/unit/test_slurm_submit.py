"""What the Slurm plugin asks sbatch for: options, arrays, the job script, error triage."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePath

import pytest

from jobmon import wire
from jobmon.clusters import SLURM_EXTRA_KEYS
from jobmon.distributor.plugins.slurm_submit import (
    SBATCH_OPTIONS,
    SubmitError,
    chunks,
    group_instances,
    is_transient,
    job_script,
    parse_job_id,
    sbatch_argv,
    sbatch_options,
    scheduler_message,
    slurm_time,
    submit_environment,
)
from jobmon.resources import normalize


def test_core_resources_become_sbatch_options() -> None:
    resources = normalize({"cores": 2, "memory": "4G", "runtime": "90m", "queue": "batch",
                           "project": "proj_x"})
    assert sbatch_options(resources) == [
        "--cpus-per-task=2", "--mem=4096M", "--account=proj_x", "--partition=batch",
        "--time=01:30:00",
    ]


def test_runtime_is_whole_minutes_and_at_least_one() -> None:
    assert slurm_time(5) == "00:01:00"
    assert slurm_time(60) == "00:01:00"
    assert slurm_time(61) == "00:02:00"
    assert slurm_time(2 * 86400 + 3600) == "2-01:00:00"


def test_every_documented_extra_key_has_an_option() -> None:
    assert set(SLURM_EXTRA_KEYS) <= set(SBATCH_OPTIONS)
    options = sbatch_options({"constraint": "avx2", "gres": "gpu:1", "qos": "high",
                              "mail_type": "END", "tmp": "10G", "nodes": 1})
    assert options == ["--constraint=avx2", "--gres=gpu:1", "--mail-type=END", "--nodes=1",
                       "--qos=high", "--tmp=10G"]


def test_log_keys_are_not_sbatch_options() -> None:
    # stdout/stderr (Jobmon's log folders) decide the job's log paths, not an option here
    assert sbatch_options({"cores": 1, "stdout": "/logs/o", "stderr": "/logs/e"}) == [
        "--cpus-per-task=1"]


def test_unknown_or_unsafe_resources_are_refused_with_a_reason() -> None:
    with pytest.raises(SubmitError, match="no option for the resource 'colour'"):
        sbatch_options({"colour": "blue"})
    with pytest.raises(SubmitError, match="cannot be passed"):
        sbatch_options({"comment": "two\nlines"})
    with pytest.raises(SubmitError, match="memory"):
        sbatch_options({"memory": "lots"})


def test_sbatch_argv_submits_one_array() -> None:
    argv = sbatch_argv(count=50, job_name="jobmon-1-abc", stdout_pattern=PurePath("/l/%A_%a.out"),
                       stderr_pattern=PurePath("/l/%A_%a.err"), script=PurePath("/l/s.sh"),
                       options=["--mem=100M"], limit=10)
    assert argv == ["sbatch", "--parsable", "--array=0-49%10", "--job-name=jobmon-1-abc",
                    "--no-requeue", "--output=/l/%A_%a.out", "--error=/l/%A_%a.err",
                    "--mem=100M", "/l/s.sh"]
    assert "--array=0-0" in sbatch_argv(count=1, job_name="j", stdout_pattern=PurePath("o"),
                                        stderr_pattern=PurePath("e"), script=PurePath("s"),
                                        options=[])


def test_the_job_script_maps_array_indices_to_instances(tmp_path: Path) -> None:
    ids = [101, 205, 3000, *range(4000, 4040)]
    script = tmp_path / "job.sh"
    script.write_text(job_script("/bin/echo", ids))
    for index, expected in [(0, 101), (1, 205), (2, 3000), (42, 4039)]:
        env = {**os.environ, "SLURM_ARRAY_TASK_ID": str(index)}
        out = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                             check=True).stdout
        assert out.split() == ["-m", "jobmon.distributor.worker", "--task-instance-id",
                               str(expected)]
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "43"}
    missing = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                             check=False)
    assert missing.returncode == 1 and "no task instance" in missing.stderr


def test_script_quotes_the_interpreter_path() -> None:
    assert "exec '/opt/my python/bin/python' -m jobmon" in job_script("/opt/my python/bin/python",
                                                                      [1])


def _claimed(instance_id: int, array_id: int, resources: dict[str, object]) -> wire.ClaimedInstance:
    return wire.ClaimedInstance(task_instance_id=instance_id, task_id=instance_id, workflow_id=1,
                                workflow_run_id=1, array_id=array_id, name=f"t{instance_id}",
                                command="true", compute_resources=resources, attempt=1)


def test_instances_group_by_array_and_resources() -> None:
    small = {"memory": 100, "cores": 1}
    instances = [
        _claimed(1, 7, small), _claimed(2, 7, {"cores": 1, "memory": 100}),
        _claimed(3, 7, {"memory": 400, "cores": 1}), _claimed(4, 8, small),
        _claimed(5, 7, small),
    ]
    groups = [[i.task_instance_id for i in group] for group in group_instances(instances)]
    assert groups == [[1, 2, 5], [3], [4]]


def test_large_arrays_are_split_by_max_array_size() -> None:
    pieces = chunks(list(range(10)), 4)
    assert [list(piece) for piece in pieces] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [len(piece) for piece in chunks(list(range(100_001)), 100_001)] == [100_001]


@pytest.mark.parametrize("message", [
    "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation",
    "sbatch: error: Batch job submission failed: Unable to contact slurm controller "
    "(connect failure)",
    "sbatch: error: Batch job submission failed: Resource temporarily unavailable",
    "sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying",
])
def test_transient_failures_are_recognised(message: str) -> None:
    assert is_transient(message)


@pytest.mark.parametrize("message", [
    "sbatch: error: invalid partition specified: nosuch\n"
    "sbatch: error: Batch job submission failed: Invalid partition name specified",
    "sbatch: error: Batch job submission failed: Requested time limit is invalid "
    "(missing or exceeds some limit)",
    "sbatch: error: Memory specification can not be satisfied\nsbatch: error: Batch job "
    "submission failed: Requested node configuration is not available",
    "sbatch: unrecognized option '--nosuchopt'",
])
def test_rejections_are_final(message: str) -> None:
    assert not is_transient(message)


def test_scheduler_message_is_one_clean_line() -> None:
    text = ("sbatch: error: invalid partition specified: nosuch\n"
            "sbatch: error: Batch job submission failed: Invalid partition name specified\n")
    assert scheduler_message(text, 1) == ("invalid partition specified: nosuch; Batch job "
                                          "submission failed: Invalid partition name specified")
    assert scheduler_message("", 7) == "sbatch exited with code 7 and no message"


def test_parsable_job_ids() -> None:
    assert parse_job_id("123\n") == 123
    assert parse_job_id("456;cluster\n") == 456
    with pytest.raises(ValueError, match="instead of a job id"):
        parse_job_id("Submitted batch job 5")


def test_jobs_do_not_inherit_the_submitting_job_s_slurm_variables() -> None:
    inside_a_job = {"PATH": "/usr/bin", "SLURM_JOB_ID": "77", "SLURM_ARRAY_TASK_ID": "3",
                    "SLURM_MEM_PER_CPU": "4096", "SLURM_CONF": "/etc/slurm/x.conf",
                    "SBATCH_ACCOUNT": "proj", "JOBMON__HTTP__SERVICE_URL": "http://old"}
    assert submit_environment(inside_a_job, "http://server:8070") == {
        "PATH": "/usr/bin", "SLURM_CONF": "/etc/slurm/x.conf", "SBATCH_ACCOUNT": "proj",
        "JOBMON__HTTP__SERVICE_URL": "http://server:8070"}
