# Sourced by deploy/backup.sh and deploy/restore.sh. `pgpass_split URL` sets PG_URL to URL without its
# password and exports that password as PGPASSWORD (percent-decoded), so that it never appears on a command
# line, where `ps` shows it to every user of the host. A URL without a password is kept as it is.
# (A function that sets variables, not one that prints: $(...) would run it in a subshell and lose them.)
pgpass_split() {
    local pattern='^(postgres(ql)?://[^:/@]*):([^@]*)@(.*)$'
    PG_URL=$1
    if [[ $1 =~ ${pattern} ]]; then
        local encoded=${BASH_REMATCH[3]}
        PGPASSWORD=$(printf '%b' "${encoded//%/\\x}")
        export PGPASSWORD
        PG_URL="${BASH_REMATCH[1]}@${BASH_REMATCH[4]}"
    fi
}
