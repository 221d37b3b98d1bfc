"""`python -m jobmon` is the `jobmon` command."""

from __future__ import annotations

from jobmon.cli.main import main

main()
