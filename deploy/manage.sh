#!/usr/bin/env bash
# Production helper: run manage.py as the spinetrial user with /etc/spinetrial/env loaded.
#   sudo /opt/spinetrial/deploy/manage.sh migrate --noinput
set -euo pipefail

APP_DIR=${APP_DIR:-/opt/spinetrial}
ENV_FILE=${ENV_FILE:-/etc/spinetrial/env}

set -a
# shellcheck disable=SC1090
source "${ENV_FILE}"
set +a
cd "${APP_DIR}"
if [[ ${EUID} -eq 0 ]]; then
    exec runuser -u spinetrial -- "${APP_DIR}/.venv/bin/python" manage.py "$@"
fi
exec "${APP_DIR}/.venv/bin/python" manage.py "$@"
