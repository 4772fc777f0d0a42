#!/usr/bin/env bash
# deploy/restore.sh DUMP TARGET_URL: restore a deploy/backup.sh dump into a fresh, empty database.
#
# Checks the dump against its .sha256 first and refuses a database that already holds tables (a restore
# never mixes with live data: create a new database, restore, check, then point DATABASE_URL at it). Runs in
# one transaction and stops at the first error, so a failed restore leaves the target empty. Owners and
# grants come back as they were dumped: the roles (the owner and the application's) must exist in the target
# server, and TARGET_URL's role must be the owner or a superuser (deploy/README.md "Backup and restore").
#
#   PG_BINDIR  the PostgreSQL client programs (default: the newest /usr/lib/postgresql/*/bin)
# Exit status: 0 restored, 1 failed (checksum, non-empty target, pg_restore), 2 usage.
set -euo pipefail

die() { printf 'restore.sh: %s\n' "$*" >&2; exit 1; }

(($# == 2)) || { echo "usage: $0 DUMP TARGET_URL" >&2; exit 2; }
dump=$1
url=$2
# shellcheck source=deploy/pgpass.sh
source "$(dirname "${BASH_SOURCE[0]}")/pgpass.sh"
pgpass_split "${url}" # the password goes to PGPASSWORD, never onto a command line
url=${PG_URL}
[[ -f ${dump} ]] || die "no dump at ${dump}"
[[ -f ${dump}.sha256 ]] || die "no checksum beside the dump (${dump}.sha256)"

bindir=${PG_BINDIR:-$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)}
pg_restore=${bindir:+${bindir}/}pg_restore
psql=${bindir:+${bindir}/}psql

expected=$(cut -d ' ' -f 1 "${dump}.sha256")
actual=$(sha256sum "${dump}" | cut -d ' ' -f 1)
[[ ${expected} == "${actual}" ]] || die "checksum mismatch: ${dump} is not the file that was backed up"

tables=$("${psql}" -X -q -t -A --no-password -v ON_ERROR_STOP=1 --dbname="${url}" \
    -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')") ||
    die "cannot connect to the target database"
[[ ${tables} == 0 ]] || die "the target database holds ${tables} tables: restore into a fresh one"

"${pg_restore}" --exit-on-error --single-transaction --no-password --dbname="${url}" "${dump}" ||
    die "pg_restore failed; the target was left as it was"
echo "restored ${dump} (sha256 ${actual})"
