"""The dev Slurm cluster (deploy/slurm-dev): every test here needs it.

When it is not reachable the tests are skipped with the reason, except where
JOBMON_REQUIRE_SLURM=1 (CI, which starts the cluster): there they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_DIR = "/tmp/jobmon-slurm"


@dataclass(frozen=True)
class SlurmCluster:
    conf: str
    cpus: int


def _problem() -> str | None:
    """Why Slurm cannot be used here, or None."""
    for command in ("sbatch", "squeue", "scancel", "scontrol", "sinfo"):
        if shutil.which(command) is None:
            return f"{command} is not installed (start deploy/slurm-dev/start.sh as root)"
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=20,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"scontrol ping failed: {error}"
    if ping.returncode != 0 or "UP" not in ping.stdout:
        return f"the Slurm controller does not answer: {(ping.stdout + ping.stderr).strip()}"
    nodes = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                           timeout=20, check=False)
    states = set(nodes.stdout.split())
    if not states & {"idle", "mixed", "allocated", "completing"}:
        return f"no Slurm node can run jobs (node states: {sorted(states) or 'none'})"
    return None


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    if "SLURM_CONF" not in os.environ:
        conf = Path(os.environ.get("JOBMON_SLURM_DIR", DEFAULT_DIR)) / "slurm.conf"
        if conf.exists():
            os.environ["SLURM_CONF"] = str(conf)
    problem = _problem()
    if problem is not None:
        if os.environ.get("JOBMON_REQUIRE_SLURM") == "1":
            pytest.fail(f"JOBMON_REQUIRE_SLURM=1 but Slurm is not usable: {problem}")
        pytest.skip(f"no Slurm cluster: {problem}")
    cpus = subprocess.run(["sinfo", "-h", "-o", "%c"], capture_output=True, text=True,
                          timeout=20, check=False).stdout.split()
    yield SlurmCluster(conf=os.environ.get("SLURM_CONF", ""),
                       cpus=int(cpus[0]) if cpus and cpus[0].isdigit() else 1)


@pytest.fixture(autouse=True)
def _needs_slurm(slurm_cluster: SlurmCluster) -> SlurmCluster:
    return slurm_cluster
