#!/usr/bin/env bash
# Install the test dependencies, start what the tests need, and run the whole suite.
#
#   bash scripts/test.sh [pytest args...]
#
# PostgreSQL: the tests start an embedded one, unless JOBMON_TEST_DATABASE_URL names a
# server (for example postgresql://postgres@127.0.0.1:5432/test).
# Slurm: as root, the dev cluster in deploy/slurm-dev is started (and stopped at the end),
# and the Slurm tests must pass; elsewhere they are skipped with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

SLURM_DIR="${JOBMON_SLURM_DIR:-/tmp/jobmon-slurm}"
if [ "$(id -u)" = 0 ] && [ "${JOBMON_SKIP_SLURM:-0}" != 1 ]; then
  # a folder this run makes is removed at the end (nothing is left in /tmp); one that was
  # there before is kept, with the cluster's logs
  SLURM_DIR_MADE=0
  [ -e "$SLURM_DIR" ] || SLURM_DIR_MADE=1
  bash deploy/slurm-dev/start.sh "$SLURM_DIR"
  trap 'bash deploy/slurm-dev/stop.sh "$SLURM_DIR"; [ "$SLURM_DIR_MADE" = 1 ] && rm -rf "$SLURM_DIR"' EXIT
  # shellcheck disable=SC1091
  source "$SLURM_DIR/env.sh"
  export JOBMON_REQUIRE_SLURM=1
fi

if [ "$(id -u)" = 0 ]; then
  # as root chromium is installed below: the dashboard test must then run, not skip
  export JOBMON_REQUIRE_BROWSER=1
fi
if [ "$(id -u)" = 0 ] && ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null; then
  # the dashboard test drives Debian's chromium (no browser download is possible)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
    || echo "warning: could not install chromium; the browser tests will fail" >&2
fi

if [ "$(id -u)" = 0 ] && ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null; then
  # the heartbeat benchmark (run at a small size by the suite) drives the server with wrk
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null \
    || echo "warning: could not install wrk; the benchmark test will fail" >&2
fi

if [ "$(id -u)" = 0 ]; then
  # as root nginx is installed below: the production-shape test must then run, not skip
  export JOBMON_REQUIRE_NGINX=1
fi
if [ "$(id -u)" = 0 ] && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ] \
    && command -v apt-get >/dev/null; then
  # tests/integration/test_production.py runs Debian's nginx (as a child process with its
  # own configuration; the package's service is not started) in front of two servers
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; } \
    || echo "warning: could not install nginx; the production-shape test will fail" >&2
fi

bash scripts/check.sh
# several workers (pytest-xdist): most tests wait on processes, not on the CPU; the Slurm
# tests share one worker (tests/conftest.py). JOBMON_TEST_WORKERS=0 runs them serially.
.venv/bin/python -m pytest -n "${JOBMON_TEST_WORKERS:-4}" --dist loadgroup --durations=25 "$@"
