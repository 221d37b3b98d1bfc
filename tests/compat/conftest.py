"""Jobmon 3.6 compatibility tests: code as IHME Jobmon's documentation and tests write it.

Each test's docstring names the Jobmon page or test it follows (repository
ihmeuw-scicomp/jobmon, tag client-3.6.0). They use the real server and PostgreSQL
fixtures of tests/conftest.py.
"""

from __future__ import annotations

# the dev Slurm cluster, for the doc programs that also run on it (skipped with the reason
# when it is not reachable, failed under JOBMON_REQUIRE_SLURM=1)
from tests.integration.slurm.conftest import slurm_cluster

__all__ = ["slurm_cluster"]
