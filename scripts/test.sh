#!/usr/bin/env bash
# `make test`: ruff, then pytest against a throwaway PostgreSQL + Redis; `make coverage` (COVERAGE=1) the same
# under line coverage, with its report (about half as long again: Python 3.11's tracer slows every line).
#
# The servers live in a temporary directory on free ports and are stopped (and the directory removed) on
# exit, whether the tests pass, fail or are interrupted.  Arguments are passed on to pytest.
# Exit status: pytest's when it fails, otherwise 1 if ruff found problems, otherwise 0.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
# shellcheck source=scripts/services.sh
source scripts/services.sh
PY=.venv/bin/python

log "ruff check, ruff format --check"
ruff_rc=0
.venv/bin/ruff check . || ruff_rc=$?
.venv/bin/ruff format --check . >/dev/null || { ruff_rc=$?; .venv/bin/ruff format --check . | tail -20; }
if ((ruff_rc != 0)); then
    log "ruff check failed (status ${ruff_rc}); running the tests anyway, the run will fail at the end"
fi

throwaway_up

# Production-like settings: no DEBUG, a random key, static files from collectstatic's manifest.
export DEBUG=0
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # browser tests use /usr/bin/chromium
# The live test server speaks plain http on 127.0.0.1: secure-only cookies would never reach the browser, and
# the redirect to https would answer every request with a 301 (production behind nginx keeps both on).
export SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_SSL_REDIRECT=0
# Collected static files go to the throwaway directory, not to the var/static of `make run`.
export STATIC_ROOT="${THROWAWAY_DIR}/static"
export MEDIA_ROOT="${THROWAWAY_DIR}/media"
# One BLAS thread per process: the two pytest workers already use both cores, and the risk-model tests' many
# small fits (statsmodels, numpy) run about ten times slower when OpenBLAS threads fight over them.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

compile_messages
log "collectstatic"
"${PY}" manage.py collectstatic --noinput >/dev/null

log "pytest $*"
pytest_rc=0
# Two workers (the machine's two cores): tests/parallel.py gives each its own Redis database and media
# folder and keeps a module's tests (and all of tests/deploy/) on one worker; pytest-cov adds up the coverage
# of both when it is asked for.
# `python -m` puts the checkout on sys.path, so that `-p tests.parallel` imports before Django is set up.
coverage_args=()
if [[ ${COVERAGE:-0} == 1 ]]; then
    coverage_args=(--cov --cov-report=term)
fi
"${PY}" -m pytest -p tests.parallel -n "${TEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder \
    "${coverage_args[@]}" --durations=25 "$@" || pytest_rc=$?

if ((pytest_rc != 0)); then
    log "pytest failed (status ${pytest_rc})"
    exit "${pytest_rc}"
fi
if ((ruff_rc != 0)); then
    log "tests passed but ruff check failed"
    exit 1
fi
log "all good"
