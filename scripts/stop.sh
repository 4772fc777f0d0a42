#!/usr/bin/env bash
# `make stop`: stop the PostgreSQL and Redis of `make run` (var/) if they are still running,
# e.g. after the run script was killed with SIGKILL.  Data is kept.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
# shellcheck source=scripts/services.sh
source scripts/services.sh

if [[ -f var/redis/redis.pid ]] && kill -0 "$(cat var/redis/redis.pid)" 2>/dev/null; then
    redis_stop "${REDIS_PORT:-63799}" var/redis
fi
if [[ -d var/pgdata ]] && pg_bindir >/dev/null; then
    pg_stop var/pgdata fast
fi
