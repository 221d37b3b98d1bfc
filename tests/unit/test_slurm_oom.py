"""The worker's OOM check: which cgroup counters it reads, and what counts as an OOM kill."""

from __future__ import annotations

from pathlib import Path

from jobmon.distributor.oom import OomCounter, memory_cgroup_dirs, read_oom_kills

# /proc/self/cgroup inside a job of the dev cluster (cgroup v1, task/cgroup)
SLURM_V1 = """9:name=systemd:/
8:pids:/
6:freezer:/slurm_vm/uid_0/job_2/step_batch
4:memory:/slurm_vm/uid_0/job_2/step_batch/task_0
2:cpuacct:/slurm_vm/uid_0/job_2/step_batch/task_0
0::/
"""


def test_slurm_v1_counters_from_the_task_up_to_the_job() -> None:
    assert memory_cgroup_dirs(SLURM_V1, "/cg") == [
        "/cg/memory/slurm_vm/uid_0/job_2/step_batch/task_0",
        "/cg/memory/slurm_vm/uid_0/job_2/step_batch",
        "/cg/memory/slurm_vm/uid_0/job_2",
    ]


def test_cgroup_v2_and_no_job() -> None:
    assert memory_cgroup_dirs("0::/user.slice/session-3.scope\n", "/cg") == [
        "/cg/user.slice/session-3.scope"]
    assert memory_cgroup_dirs("0::/system.slice/slurmstepd.scope/job_9/step_batch\n",
                              "/cg") == [
        "/cg/system.slice/slurmstepd.scope/job_9/step_batch",
        "/cg/system.slice/slurmstepd.scope/job_9",
    ]
    assert memory_cgroup_dirs("", "/cg") == []


def test_counter_sees_new_oom_kills(tmp_path: Path) -> None:
    task = tmp_path / "job_2" / "task_0"
    task.mkdir(parents=True)
    control = task / "memory.oom_control"
    control.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    (tmp_path / "job_2" / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
    assert read_oom_kills(tmp_path / "job_2") == 2
    assert read_oom_kills(tmp_path / "nowhere") is None
    counter = OomCounter([task, tmp_path / "job_2", tmp_path / "nowhere"])
    assert not counter.fired()
    control.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    assert counter.fired()
