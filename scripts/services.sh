#!/usr/bin/env bash
# PG_STARTED / REDIS_STARTED are set here for the scripts that source this file:
# shellcheck disable=SC2034
# Shared helpers for the local PostgreSQL / Redis used by `make run`, `make test` and `make bench`.
#
# Use it either as a library:   source scripts/services.sh; pg_start var/pgdata 54329
# or as a command:              bash scripts/services.sh install_system_packages
#
# Everything listens on 127.0.0.1 only.  PostgreSQL uses trust authentication, which is fine for a
# developer machine or a CI runner and never for production (see deploy/).
set -euo pipefail

SERVICES_DB_ROLE="${SERVICES_DB_ROLE:-spinetrial}"
SERVICES_DB_NAME="${SERVICES_DB_NAME:-spinetrial}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [[ ${EUID} -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root for: $*"
    fi
}

# ---------------------------------------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------------------------------------

# Newest installed PostgreSQL server bin directory (Debian keeps them in /usr/lib/postgresql/<ver>/bin).
pg_bindir() {
    if [[ -n ${PG_BINDIR:-} ]]; then
        echo "${PG_BINDIR}"
        return
    fi
    local dir
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    [[ -n ${dir} && -x ${dir}/initdb ]] || return 1
    echo "${dir}"
}

# Install only what is missing, so a warm machine never touches apt.
# SKIP_SYSTEM_PACKAGES=1 skips the whole check (e.g. on a non-Debian machine with its own packages).
install_system_packages() {
    if [[ ${SKIP_SYSTEM_PACKAGES:-0} == 1 ]]; then
        return 0
    fi
    local missing=()
    pg_bindir >/dev/null || missing+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
    command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
    # Playwright drives Debian's chromium; we never download a browser.
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    # Chinese pages and PDFs need a CJK font: without one chromium draws boxes and reportlab cannot embed
    # the glyphs.
    dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'ok installed' || missing+=(fonts-noto-cjk)
    # The interim report's PDF embeds WenQuanYi Micro Hei: a TrueType font, which reportlab can subset and
    # embed (Noto CJK is CFF-flavoured OpenType, which reportlab cannot embed).
    dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q 'ok installed' ||
        missing+=(fonts-wqy-microhei)
    # pdftotext, pdffonts and pdftoppm: the report's tests read the PDF back.
    command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
    # nginx for the deployment's smoke test (tests/deploy/test_smoke.py runs the shipped site in front of two
    # gunicorn instances): the binary, about 1.5 MB; the test never uses the system's own nginx service.
    [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
    # Debian's own python3 ships venv/ensurepip separately (pyenv builds include them).
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "missing system packages (${missing[*]}) and no apt-get; install them or set SKIP_SYSTEM_PACKAGES=1"
    log "installing system packages: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------------------------------------

# Print a TCP port that is free on 127.0.0.1 right now (the kernel picks it when binding port 0).
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
    python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# ---------------------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------------------

# initdb/pg_ctl refuse to run as root: run them as the postgres user when we are root.
as_pg_user() {
    if [[ ${EUID} -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The postgres user must be able to reach DIR: add o+x to every ancestor that lacks it.
# (A no-op on the usual 755 paths; only matters for checkouts under e.g. a 700 home directory.)
ensure_pg_can_traverse() {
    [[ ${EUID} -eq 0 ]] || return 0
    local dir
    dir=$(realpath -m "$1")
    while [[ ${dir} != / ]]; do
        dir=$(dirname "${dir}")
        if ! runuser -u postgres -- test -x "${dir}"; then
            log "chmod o+x ${dir} (so the postgres user can reach its data directory)"
            chmod o+x "${dir}"
        fi
    done
}

pg_is_running() { # DATA
    [[ -f $1/PG_VERSION ]] || return 1
    as_pg_user "$(pg_bindir)/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_init DATA: create a cluster in DATA unless one is there.  PG_EXTRA_CONF: extra postgresql.conf lines.
pg_init() {
    local data bindir
    data=$(realpath -m "$1")
    bindir=$(pg_bindir) || die "PostgreSQL server binaries not found (run: make install)"
    [[ ! -f ${data}/PG_VERSION ]] || return 0
    log "initdb ${data}"
    mkdir -p "${data}" || die "cannot create ${data}"
    ensure_pg_can_traverse "${data}"
    if [[ ${EUID} -eq 0 ]]; then
        chown postgres:postgres "${data}" || die "cannot chown ${data}"
    fi
    chmod 700 "${data}"
    as_pg_user "${bindir}/initdb" -D "${data}" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null || die "initdb failed for ${data}"
    # TCP on loopback only, no Unix socket (its path has a length limit and /run/postgresql may not exist).
    printf '\n# --- added by scripts/services.sh ---\n%s\n%s\n%s\n' \
        "listen_addresses = '127.0.0.1'" "unix_socket_directories = ''" "${PG_EXTRA_CONF:-}" |
        as_pg_user tee -a "${data}/postgresql.conf" >/dev/null || die "cannot write ${data}/postgresql.conf"
}

# pg_start DATA PORT [LOGFILE]
# Create the cluster in DATA if needed and start it on 127.0.0.1:PORT (reused when already running).
# Sets PG_STARTED=1 when this call started the server, 0 when it was already running.
# Returns 1 (after showing the log) when the server does not come up, e.g. because PORT was taken.
# Every step checks its own status, so this also behaves when called as an `if` condition.
pg_start() {
    local data port logfile bindir
    data=$(realpath -m "$1")
    port=$2
    logfile=$(realpath -m "${3:-${data}/postgresql.log}")
    bindir=$(pg_bindir) || die "PostgreSQL server binaries not found (run: make install)"
    PG_STARTED=0

    pg_init "${data}"
    ensure_pg_can_traverse "${data}"
    if pg_is_running "${data}"; then
        log "PostgreSQL already running from ${data}, reusing it"
        return 0
    fi
    if port_in_use "${port}"; then
        log "port ${port} is taken by another program; PostgreSQL for ${data} cannot start there"
        return 1
    fi
    mkdir -p "$(dirname "${logfile}")" || die "cannot create the directory of ${logfile}"
    touch "${logfile}" || die "cannot create ${logfile}"
    if [[ ${EUID} -eq 0 ]]; then
        chown postgres:postgres "${logfile}" || die "cannot chown ${logfile}"
    fi
    log "starting PostgreSQL on 127.0.0.1:${port} (data ${data}, log ${logfile})"
    if ! as_pg_user "${bindir}/pg_ctl" -D "${data}" -l "${logfile}" -o "-p ${port}" -w -t 60 start >/dev/null; then
        tail -n 30 "${logfile}" >&2 || true
        log "PostgreSQL did not start"
        return 1
    fi
    PG_STARTED=1
}

# pg_ensure_db PORT: create the application role (CREATEDB, so pytest-django can make test_<name>) and db.
pg_ensure_db() {
    local port=$1 role=${SERVICES_DB_ROLE} db=${SERVICES_DB_NAME}
    local psql
    psql=("$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${port}" -U postgres -d postgres)
    if [[ -z $("${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '${role}'") ]]; then
        "${psql[@]}" -c "CREATE ROLE \"${role}\" LOGIN CREATEDB NOSUPERUSER"
    fi
    if [[ -z $("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '${db}'") ]]; then
        "${psql[@]}" -c "CREATE DATABASE \"${db}\" OWNER \"${role}\""
    fi
}

# pg_stop DATA [MODE]  (MODE: fast (default) or immediate for throwaway clusters)
pg_stop() {
    local data=$1 mode=${2:-fast} bindir
    pg_is_running "${data}" || return 0
    bindir=$(pg_bindir)
    log "stopping PostgreSQL (${data})"
    as_pg_user "${bindir}/pg_ctl" -D "${data}" stop -m "${mode}" -w -t 60 >/dev/null ||
        as_pg_user "${bindir}/pg_ctl" -D "${data}" stop -m immediate -w -t 30 >/dev/null || true
}

# ---------------------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------------------

redis_ping() { # PORT
    [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]
}

# redis_start DIR PORT
# Start redis-server daemonised on 127.0.0.1:PORT with its data, pid and log in DIR (reused when running).
# Sets REDIS_STARTED=1/0 and returns 1 when it cannot start, like pg_start.
# REDIS_SAVE overrides the snapshot policy ("" disables snapshots).
redis_start() {
    local dir port
    dir=$(realpath -m "$1")
    port=$2
    REDIS_STARTED=0
    mkdir -p "${dir}" || die "cannot create ${dir}"
    if redis_ping "${port}"; then
        # Ours if the pid file in DIR names a live process; otherwise the port belongs to someone else.
        if [[ -f ${dir}/redis.pid ]] && kill -0 "$(cat "${dir}/redis.pid")" 2>/dev/null; then
            log "Redis already running on 127.0.0.1:${port}, reusing it"
            return 0
        fi
        log "port ${port} is taken by another Redis; cannot start the one for ${dir}"
        return 1
    fi
    if port_in_use "${port}"; then
        log "port ${port} is taken by another program; Redis cannot start there"
        return 1
    fi
    log "starting Redis on 127.0.0.1:${port} (data ${dir})"
    redis-server --bind 127.0.0.1 --port "${port}" --protected-mode yes \
        --dir "${dir}" --daemonize yes --pidfile "${dir}/redis.pid" --logfile "${dir}/redis.log" \
        --save "${REDIS_SAVE-3600 1 300 100 60 10000}" --appendonly no || return 1
    local _
    for _ in $(seq 1 100); do
        redis_ping "${port}" && { REDIS_STARTED=1; return 0; }
        sleep 0.1
    done
    tail -n 30 "${dir}/redis.log" >&2 || true
    log "Redis did not start"
    return 1
}

# redis_stop PORT [DIR]  (DIR: where redis.pid lives, used when SHUTDOWN does not work)
redis_stop() {
    local port=$1 dir=${2:-} _
    redis_ping "${port}" || return 0
    log "stopping Redis (127.0.0.1:${port})"
    redis-cli -h 127.0.0.1 -p "${port}" shutdown >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do
        redis_ping "${port}" || return 0
        sleep 0.1
    done
    if [[ -n ${dir} && -f ${dir}/redis.pid ]]; then
        kill "$(cat "${dir}/redis.pid")" 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------------------------------------------------
# Throwaway services for `make test` and `make bench`
# ---------------------------------------------------------------------------------------------------------

# throwaway_up: PostgreSQL + Redis in a fresh temporary directory on free ports; exports DATABASE_URL and
# REDIS_URL and installs an EXIT trap that stops both and deletes the directory, whatever happens next.
throwaway_up() {
    THROWAWAY_DIR=$(mktemp -d "${TMPDIR:-/tmp}/spinetrial-svc.XXXXXX")
    chmod 755 "${THROWAWAY_DIR}" # the postgres user must reach pgdata inside it
    trap 'throwaway_down' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # Durability is pointless for a database that is deleted afterwards (THROWAWAY_PG_CONF overrides: the
    # benchmark keeps production durability, since asynchronous commit also stops VACUUM from marking pages
    # all-visible right after a bulk load, which slows index-only COUNTs).
    PG_EXTRA_CONF=${THROWAWAY_PG_CONF-$'fsync = off\nsynchronous_commit = off\nfull_page_writes = off'} \
        pg_init "${THROWAWAY_DIR}/pgdata"

    # Another process can grab a free port before our server binds it: retry on a new port.
    local attempt
    for attempt in 1 2 3 4 5; do
        THROWAWAY_PG_PORT=$(free_port)
        pg_start "${THROWAWAY_DIR}/pgdata" "${THROWAWAY_PG_PORT}" "${THROWAWAY_DIR}/postgresql.log" && break
        ((attempt < 5)) || die "could not start a throwaway PostgreSQL"
    done
    pg_ensure_db "${THROWAWAY_PG_PORT}"

    for attempt in 1 2 3 4 5; do
        THROWAWAY_REDIS_PORT=$(free_port)
        [[ ${THROWAWAY_REDIS_PORT} != "${THROWAWAY_PG_PORT}" ]] || continue
        REDIS_SAVE='' redis_start "${THROWAWAY_DIR}/redis" "${THROWAWAY_REDIS_PORT}" && break
        ((attempt < 5)) || die "could not start a throwaway Redis"
    done

    export DATABASE_URL="postgres://${SERVICES_DB_ROLE}@127.0.0.1:${THROWAWAY_PG_PORT}/${SERVICES_DB_NAME}"
    export REDIS_URL="redis://127.0.0.1:${THROWAWAY_REDIS_PORT}/0"
    log "DATABASE_URL=${DATABASE_URL}"
    log "REDIS_URL=${REDIS_URL}"
}

throwaway_down() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    if [[ -n ${THROWAWAY_DIR:-} && -d ${THROWAWAY_DIR} ]]; then
        [[ -z ${THROWAWAY_REDIS_PORT:-} ]] || redis_stop "${THROWAWAY_REDIS_PORT}" "${THROWAWAY_DIR}/redis"
        pg_stop "${THROWAWAY_DIR}/pgdata" immediate
        rm -rf "${THROWAWAY_DIR}"
    fi
    exit "${rc}"
}

# ---------------------------------------------------------------------------------------------------------
# Django helpers
# ---------------------------------------------------------------------------------------------------------

# compilemessages refuses to run when no locale directory exists yet, so only call it when there are
# .po files (outside .venv and var, which it would otherwise walk into).
compile_messages() {
    if [[ -z $(find . \( -path ./.venv -o -path ./var -o -path ./.git \) -prune -o -name '*.po' -print -quit) ]]; then
        log "compilemessages: no .po files yet, skipped"
        return 0
    fi
    log "compilemessages"
    .venv/bin/python manage.py compilemessages --ignore=.venv --ignore=var
}

# Called as a script: run the named function, e.g. `bash scripts/services.sh install_system_packages`.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    (($# > 0)) || die "usage: $0 FUNCTION [ARGS...]"
    "$@"
fi
