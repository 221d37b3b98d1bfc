#!/usr/bin/env bash
# Static checks: ruff, the import-linter contracts, and mypy --strict.
# import-linter and mypy cannot follow the package-dir mapping of an editable install,
# so they read a plain install of the package made in build/check.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
"$VENV/bin/ruff" check .
rm -rf build/check
"$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation --target build/check . 2>/dev/null
(cd build/check && PYTHONPATH=. "../../$VENV/bin/lint-imports" --config ../../pyproject.toml)
"$VENV/bin/mypy" --config-file pyproject.toml build/check/jobmon
