"""HTTP resources, one module each; they all register on ``API``."""

from __future__ import annotations

from jobmon.server.http import Api

API = Api()
