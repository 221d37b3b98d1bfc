"""The dev Slurm cluster, as tests/integration/slurm uses it: every test here needs it."""

from __future__ import annotations

from tests.integration.slurm.conftest import _needs_slurm, slurm_cluster

__all__ = ["_needs_slurm", "slurm_cluster"]
