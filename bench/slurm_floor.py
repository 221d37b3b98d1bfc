"""The floor under the Slurm drain: bare job arrays on the same cluster, no Jobmon at all.

Each floor is one ``sbatch --array=0-(N-1)`` of a tiny bash job script (the same resources
Jobmon's array asks for: one core, ten minutes, the default memory), its output to
/dev/null. It is watched for the window the Jobmon drain is watched for, or until every job
has left the queue; the figure is the jobs COMPLETED per second. What is left is cancelled,
and the next measurement waits until the cluster has no job at all.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# how often the queue is read while a floor drains (each read costs slurmctld and the
# squeue client a little of the CPU the jobs would get)
POLL_SECONDS = 0.5


@dataclass
class Floor:
    completed: int
    failed: int
    seconds: float
    all_done: bool


def _squeue(env: dict[str, str], *args: str) -> list[str]:
    answer = subprocess.run(["squeue", "-h", *args], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    if answer.returncode != 0:
        raise RuntimeError(f"squeue {' '.join(args)} failed: {answer.stderr.strip()}")
    return answer.stdout.split()


def wait_until_empty(env: dict[str, str], timeout: float = 300) -> float | None:
    """Seconds until the cluster has no pending, running or completing job (of anyone),
    or None if it still has some after ``timeout``."""
    started = time.perf_counter()
    while _squeue(env, "-r", "-o", "%i"):
        if time.perf_counter() - started > timeout:
            return None
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - started


def bare_array(env: dict[str, str], count: int, body: str, window: float | None) -> Floor:
    """Run ``count`` jobs whose script's body is ``body`` as one array; count those
    COMPLETED within ``window`` seconds of the submission (None: until all have ended)."""
    folder = Path(tempfile.mkdtemp(prefix="jm-bench-floor-"))
    try:
        script = folder / "job.sh"
        script.write_text(f"#!/bin/bash\n{body}\n")
        started = time.perf_counter()
        submitted = subprocess.run(
            ["sbatch", "--parsable", f"--array=0-{count - 1}", "--job-name=bench-floor",
             "--no-requeue", "--output=/dev/null", "--error=/dev/null",
             "--cpus-per-task=1", "--time=10", f"--chdir={folder}", str(script)],
            env=env, capture_output=True, text=True, timeout=120, check=False)
        if submitted.returncode != 0:
            raise RuntimeError(f"sbatch of the floor failed: {submitted.stderr.strip()}")
        job_id = submitted.stdout.strip().split(";")[0]
        try:
            return _watch(env, job_id, count, started, window)
        finally:
            subprocess.run(["scancel", job_id], env=env, capture_output=True, timeout=60,
                           check=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _watch(env: dict[str, str], job_id: str, count: int, started: float,
           window: float | None) -> Floor:
    deadline = started + (window if window is not None else 3600)
    all_done = False
    while True:
        # -r: one line per array task, the pending ones too (else they are one line)
        left = len(_squeue(env, "-r", "-j", job_id, "-o", "%i"))
        now = time.perf_counter()
        if left == 0:
            all_done = True
            break
        # a cluster whose cores the machine's other work holds may finish nothing in the
        # window: watch on (up to 2 minutes) until one job has ended, as the Jobmon drain
        # does, so that the rate says so
        if now >= deadline and (left < count or now >= deadline + 120):
            break
        time.sleep(POLL_SECONDS)
    if not all_done:  # the jobs counted below are those done when the queue is read
        now = time.perf_counter()
    seconds = now - started
    states = _squeue(env, "-r", "-j", job_id, "-t", "all", "-o", "%T")
    completed = states.count("COMPLETED")
    active = {"PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED"}
    failed = sum(1 for state in states if state != "COMPLETED" and state not in active)
    return Floor(completed, failed, seconds, all_done)
