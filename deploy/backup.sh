#!/usr/bin/env bash
# deploy/backup.sh [DIR]: one pg_dump of the SpineTrial database, checked, checksummed and rotated.
#
# The dump is pg_dump's custom format of the whole database: every table, the audit trail's event tables and
# triggers included, with owners and grants (restored as they were by deploy/restore.sh). It is written under
# a temporary name, read back whole (pg_restore --list), its SHA-256 written beside it, and only then renamed
# to spinetrial_<UTC time>.dump; a failed run leaves no file that looks like a backup. Then all but the newest
# BACKUP_KEEP dumps (and their .sha256) are removed.
#
# Settings (the environment, e.g. /etc/spinetrial/env; deploy/README.md "Backup and restore"):
#   BACKUP_DATABASE_URL  the database to dump; default MIGRATION_DATABASE_URL (the owner), then DATABASE_URL
#   BACKUP_DIR           where the dumps go when DIR is not given (default /var/backups/spinetrial)
#   BACKUP_KEEP          how many dumps to keep (default 14)
#   PG_BINDIR            the PostgreSQL client programs (default: the newest /usr/lib/postgresql/*/bin)
# Prints the dump's path. Exit status: 0 done, 1 failed (nothing rotated away), 2 usage.
set -euo pipefail

die() { printf 'backup.sh: %s\n' "$*" >&2; exit 1; }

(($# <= 1)) || { echo "usage: $0 [DIR]" >&2; exit 2; }
dir=${1:-${BACKUP_DIR:-/var/backups/spinetrial}}
url=${BACKUP_DATABASE_URL:-${MIGRATION_DATABASE_URL:-${DATABASE_URL:-}}}
keep=${BACKUP_KEEP:-14}
[[ -n ${url} ]] || die "set BACKUP_DATABASE_URL (or MIGRATION_DATABASE_URL / DATABASE_URL)"
# shellcheck source=deploy/pgpass.sh
source "$(dirname "${BASH_SOURCE[0]}")/pgpass.sh"
pgpass_split "${url}" # the password goes to PGPASSWORD, never onto a command line
url=${PG_URL}
[[ ${keep} =~ ^[1-9][0-9]*$ ]] || die "BACKUP_KEEP must be a whole number of at least 1, not '${keep}'"

bindir=${PG_BINDIR:-$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)}
pg_dump=${bindir:+${bindir}/}pg_dump
pg_restore=${bindir:+${bindir}/}pg_restore

# The dumps hold patient data: readable by their owner alone.
umask 077
mkdir -p "${dir}" || die "cannot create ${dir}"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="${dir}/spinetrial_${stamp}.dump"
partial="${dir}/.spinetrial_${stamp}.dump.partial"
[[ ! -e ${final} ]] || die "${final} exists already (two backups in one second?)"
trap 'rm -f "${partial}" "${partial}.sha256"' EXIT

"${pg_dump}" --format=custom --compress=6 --no-password --file="${partial}" --dbname="${url}" ||
    die "pg_dump failed"
# Read back every entry of the archive's table of contents: a truncated file fails here, not at restore time.
"${pg_restore}" --list "${partial}" >/dev/null || die "the dump cannot be read back"
entries=$("${pg_restore}" --list "${partial}" | grep -c ' TABLE DATA ' || true)
((entries > 0)) || die "the dump holds no table data"

checksum=$(sha256sum "${partial}" | cut -d ' ' -f 1)
printf '%s  %s\n' "${checksum}" "$(basename "${final}")" >"${partial}.sha256"
mv "${partial}.sha256" "${final}.sha256"
mv "${partial}" "${final}"
trap - EXIT

# Rotation: the newest BACKUP_KEEP dumps stay (their names sort by time).
mapfile -t dumps < <(find "${dir}" -maxdepth 1 -name 'spinetrial_*.dump' -type f | sort)
if ((${#dumps[@]} > keep)); then
    for old in "${dumps[@]:0:${#dumps[@]}-keep}"; do
        rm -f -- "${old}" "${old}.sha256"
    done
fi
echo "${final}"
