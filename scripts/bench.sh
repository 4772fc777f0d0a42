#!/usr/bin/env bash
# `make bench`: the `bench` management command against a throwaway PostgreSQL + Redis (not the test db).
# BENCH_SIZES (default 560,56000) is passed as --sizes; further arguments go to the command unchanged.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
# shellcheck source=scripts/services.sh
source scripts/services.sh
PY=.venv/bin/python

# Production durability (fsync, synchronous commit): numbers measured as a hospital server would run.
THROWAWAY_PG_CONF='' throwaway_up

export DEBUG=0
# The bench's clients speak plain http to the app (no nginx in front): no redirect to https.
export SECURE_SSL_REDIRECT=0
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY

"${PY}" manage.py migrate --noinput
compile_messages >/dev/null
"${PY}" manage.py collectstatic --noinput >/dev/null
"${PY}" manage.py load_protocols
"${PY}" manage.py bench --sizes "${BENCH_SIZES:-560,56000}" "$@"
