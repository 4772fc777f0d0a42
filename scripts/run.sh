#!/usr/bin/env bash
# `make run`: the whole demo on one machine.
#
#   PostgreSQL 127.0.0.1:54329 (data var/pgdata)  - skipped when DATABASE_URL is already set
#   Redis      127.0.0.1:63799 (data var/redis)   - skipped when REDIS_URL is already set
#   migrate, compilemessages, collectstatic, load_protocols, seed_demo
#   Celery worker + beat (logs in var/log/), gunicorn on http://127.0.0.1:8000 (this terminal)
#   a watchdog loop: the worker is started again when it exits and restarted when `manage.py worker_watchdog`
#   (every WATCHDOG_SECONDS, default 120) finds it hung, as the systemd units and timer do in production
#
# Ctrl-C stops everything this script started; the data in var/ stays for the next run.
# Ports can be changed with PG_PORT, REDIS_PORT, WEB_PORT.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
# shellcheck source=scripts/services.sh
source scripts/services.sh

PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
WEB_HOST=${WEB_HOST:-127.0.0.1}
WEB_PORT=${WEB_PORT:-8000}
PY=.venv/bin/python
VAR=${ROOT}/var

mkdir -p "${VAR}/log" "${VAR}/redis"

PG_STARTED=0
REDIS_STARTED=0
CHILD_PIDS=() # web and beat
WORKER_PID="" # the worker is restarted by the watchdog loop below: its pid changes

# Each server runs in its own process group (setsid), so a whole group - e.g. Celery's pool processes -
# can be signalled at once with a negative pid.
signal_groups() { # SIGNAL PID...
    local sig=$1 pid
    shift
    for pid in "$@"; do
        kill "-${sig}" -- "-${pid}" 2>/dev/null
    done
}
any_group_alive() { # PID...
    local pid
    for pid in "$@"; do
        kill -0 -- "-${pid}" 2>/dev/null && return 0
    done
    return 1
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    echo >&2
    [[ -z ${WORKER_PID} ]] || CHILD_PIDS+=("${WORKER_PID}")
    if ((${#CHILD_PIDS[@]} > 0)); then
        log "stopping web server and Celery"
        # TERM is a graceful stop for both: Celery finishes its current task (warm shutdown), gunicorn its
        # requests.  Give them 30 s, then KILL whatever is left of their process groups.
        signal_groups TERM "${CHILD_PIDS[@]}"
        local _
        for _ in $(seq 1 300); do
            any_group_alive "${CHILD_PIDS[@]}" || break
            sleep 0.1
        done
        signal_groups KILL "${CHILD_PIDS[@]}"
        wait 2>/dev/null
    fi
    ((REDIS_STARTED == 0)) || redis_stop "${REDIS_PORT}" "${VAR}/redis"
    ((PG_STARTED == 0)) || pg_stop "${VAR}/pgdata" fast
    exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- configuration -----------------------------------------------------------------------------------------
# A SECRET_KEY generated once and kept in var/ (so sessions survive restarts); DEBUG on for the local demo.
if [[ -z ${SECRET_KEY:-} ]]; then
    if [[ ! -s ${VAR}/secret_key ]]; then
        (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(50))' >"${VAR}/secret_key")
    fi
    SECRET_KEY=$(cat "${VAR}/secret_key")
    export SECRET_KEY
fi
export DEBUG=${DEBUG:-1}
# The demo logins sign in with a password alone: two-factor sign-in (on by default, as in production) is off.
export TWO_FACTOR_REQUIRED=${TWO_FACTOR_REQUIRED:-0}
export PYTHONUNBUFFERED=1

port_in_use "${WEB_PORT}" && die "port ${WEB_PORT} is already in use (another make run?); set WEB_PORT=..."

# --- services ----------------------------------------------------------------------------------------------
LOCAL_DB=0
if [[ -z ${DATABASE_URL:-} ]]; then
    LOCAL_DB=1
    pg_start "${VAR}/pgdata" "${PG_PORT}" "${VAR}/log/postgresql.log" || die "cannot start PostgreSQL"
    pg_ensure_db "${PG_PORT}"
    export DATABASE_URL="postgres://${SERVICES_DB_ROLE}@127.0.0.1:${PG_PORT}/${SERVICES_DB_NAME}"
else
    log "using DATABASE_URL from the environment"
fi
if [[ -z ${REDIS_URL:-} ]]; then
    redis_start "${VAR}/redis" "${REDIS_PORT}" || die "cannot start Redis"
    export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
else
    log "using REDIS_URL from the environment"
fi

# --- application -------------------------------------------------------------------------------------------
log "migrate"
"${PY}" manage.py migrate --noinput
compile_messages
log "collectstatic"
"${PY}" manage.py collectstatic --noinput >/dev/null
log "load_protocols"
"${PY}" manage.py load_protocols
log "seed_demo (idempotent)"
# seed_demo refuses to run with DEBUG off unless told the database is not production: the var/ database is
# this demo's own, so it may be told so; a DATABASE_URL from the environment gets no such pass.
SEED_FLAGS=()
((LOCAL_DB == 0)) || SEED_FLAGS+=(--i-know-this-is-not-production)
# The studies of the demo (DEMO_STUDIES), each with its protocol's target enrollment, in one process: the
# prospective cohort (NCT06379243: 560 participants, CRFs, follow-up, adjudication), its sister study
# (NCT06172179: 500, the external cohort the risk-model workbench validates the clinical model on) and the
# retrospective accuracy study (NCT07306858: 276 cases at two centres, imaging exams, model outputs).
read -r -a DEMO_STUDIES <<<"${DEMO_STUDIES:-NCT06379243 NCT06172179 NCT07306858}"
STUDY_FLAGS=()
for study in "${DEMO_STUDIES[@]}"; do STUDY_FLAGS+=(--study "${study}"); done
"${PY}" manage.py seed_demo "${STUDY_FLAGS[@]}" --seed 1 "${SEED_FLAGS[@]}"
# Plan today's reminders and digests now rather than at the beat's first 15-minute sweep, so that the worker
# prints them on the console backends within a minute (outside the site's quiet hours).
"${PY}" manage.py reminders_sweep

log "starting Celery worker (log: var/log/celery-worker.log) and beat (log: var/log/celery-beat.log)"
# (setsid execs in place here, as a background job is never a group leader, so $! is the server's pid.)
# One worker consumes every queue here (config/celery.py); production runs one per queue
# (deploy/systemd/spinetrial-worker@.service), so that an export never holds up a reminder.
# One BLAS thread per worker process, as in production (the risk-model jobs' small fits).
start_worker() {
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 setsid .venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 --queues=messaging,reports,celery \
        >>"${VAR}/log/celery-worker.log" 2>&1 &
    WORKER_PID=$!
}
start_worker
setsid .venv/bin/celery -A config beat --loglevel=INFO \
    >>"${VAR}/log/celery-beat.log" 2>&1 &
BEAT_PID=$!
CHILD_PIDS+=("${BEAT_PID}")

log "starting gunicorn on ${WEB_HOST}:${WEB_PORT}"
# Settings (the access log that masks patient-link tokens included) come from ./gunicorn.conf.py, shared with
# the systemd unit; only the address and the number of workers differ here.
setsid .venv/bin/gunicorn -c gunicorn.conf.py config.wsgi -b "${WEB_HOST}:${WEB_PORT}" --workers 3 &
WEB_PID=$!
CHILD_PIDS+=("${WEB_PID}")

# Announce the URL once the web server answers (or give up quietly if it died: the loop below handles that).
for _ in $(seq 1 100); do
    if port_in_use "${WEB_PORT}"; then
        cat <<MSG

    SpineTrial is running:  http://${WEB_HOST}:${WEB_PORT}/
    (demo logins are listed by seed_demo above; Ctrl-C stops everything)

MSG
        break
    fi
    kill -0 "${WEB_PID}" 2>/dev/null || break
    sleep 0.2
done

# Run until the web server or the beat exits (or Ctrl-C); the EXIT trap then stops the rest. The worker is
# looked after as in production (deploy/systemd): started again when it exits, and restarted when
# `manage.py worker_watchdog` (every WATCHDOG_SECONDS) finds it hung: after a Redis outage a busy worker may
# never consume again nor exit (celery #10205).
WATCHDOG_SECONDS=${WATCHDOG_SECONDS:-120}
restart_worker() { # REASON
    log "$1; restarting the Celery worker"
    signal_groups TERM "${WORKER_PID}"
    local _
    for _ in $(seq 1 100); do
        any_group_alive "${WORKER_PID}" || break
        sleep 0.1
    done
    signal_groups KILL "${WORKER_PID}"
    wait "${WORKER_PID}" 2>/dev/null || true
    start_worker
}
next_check=$((SECONDS + WATCHDOG_SECONDS))
while :; do
    sleep 2 &
    wait $! || true # a signal interrupts `wait` (not sleep), so Ctrl-C is handled at once
    for pid in "${WEB_PID}" "${BEAT_PID}"; do
        if ! kill -0 "${pid}" 2>/dev/null; then
            rc=0
            wait "${pid}" || rc=$?
            log "a server process exited (status ${rc}); shutting down"
            exit "${rc}"
        fi
    done
    if ! kill -0 "${WORKER_PID}" 2>/dev/null; then
        rc=0
        wait "${WORKER_PID}" || rc=$?
        sleep 5 # as systemd's RestartSec: no tight loop while Redis is down
        restart_worker "the Celery worker exited (status ${rc})"
        next_check=$((SECONDS + WATCHDOG_SECONDS))
    elif ((SECONDS >= next_check)); then
        rc=0
        reason=$("${PY}" manage.py worker_watchdog --timeout 5 2>&1 >/dev/null) || rc=$?
        reason=${reason##*$'\n'} # its one line, the last (after any warning)
        # 10: the worker is hung or gone. 11 (no beat), 12 (Redis) and 13 (PostgreSQL unreachable) are not the
        # worker's to mend, and any other failure is the watchdog's own.
        if ((rc == 10)); then
            restart_worker "worker_watchdog: ${reason#CommandError: }"
        elif ((rc != 0)); then
            log "worker_watchdog: ${reason#CommandError: }"
        fi
        next_check=$((SECONDS + WATCHDOG_SECONDS))
    fi
done
