#!/usr/bin/env bash
# `make bench`: the `bench` management command against a throwaway PostgreSQL + Redis (not the test db).
# BENCH_SIZES (default 560,56000) is passed as --sizes; further arguments go to the command unchanged.
# Then the load test (loadtest/): LOAD_SECONDS (default 300), LOAD_USERS (50 coordinators), LOAD_WORKERS
# (4 gunicorn workers). BENCH_PARTS=load runs the load test alone on a demo-sized study (e.g.
# `BENCH_PARTS=load LOAD_SECONDS=30 make bench`); BENCH_PARTS=endpoints the endpoint benchmark alone.
# BENCH_PARTS=fuzz: the API fuzz (tests/test_api_fuzz.py), longer than in `make test` and still bounded:
# FUZZ_EXAMPLES (default 25) cases per operation and role, the coverage phase for every role, FUZZ_SCENARIOS
# (default 100) stateful scenarios.
# BENCH_PARTS=riskmodel: `manage.py bench_riskmodel` (BENCH.md): the shipped re-fracture model developed on the
# demo at 560 and 56,000 participants (BENCH_SIZES), then validated on the same cohort (each timed, with its
# peak memory), each true odds ratio of the demo's generator held to
# the workbench's 95 % interval at 56,000; RISKMODEL_BOOTSTRAP (default 200), RISKMODEL_IMPUTATIONS (5). Run
# after the endpoints part (the default's last part), it finds the study at 56,000 and checks that size only.
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
PARTS=${BENCH_PARTS:-endpoints,load,fuzz,riskmodel}
if [[ ${PARTS} == *endpoints* ]]; then
    "${PY}" manage.py bench --sizes "${BENCH_SIZES:-560,56000}" "$@"
fi
if [[ ${PARTS} == *load* ]]; then
    # The load runs on the study the benchmark grew (or, alone, on the demo's 560 participants).
    "${PY}" -m loadtest.run --seconds "${LOAD_SECONDS:-300}" --users "${LOAD_USERS:-50}" \
        --workers "${LOAD_WORKERS:-4}"
fi
if [[ ${PARTS} == *fuzz* ]]; then
    # pytest makes its own database (test_...) on the throwaway server; the timings are pytest's --durations.
    FUZZ_EXAMPLES=${FUZZ_EXAMPLES:-25} FUZZ_SCENARIOS=${FUZZ_SCENARIOS:-100} FUZZ_COVERAGE_ROLES=all \
        "${PY}" -m pytest tests/test_api_fuzz.py -q -p no:randomly -p no:cacheprovider --durations=12
fi
if [[ ${PARTS} == *riskmodel* ]]; then
    # One BLAS thread: the workbench's many small fits run slower when OpenBLAS threads share the cores.
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "${PY}" manage.py bench_riskmodel --sizes "${BENCH_SIZES:-560,56000}" \
        --bootstrap "${RISKMODEL_BOOTSTRAP:-200}" --imputations "${RISKMODEL_IMPUTATIONS:-5}"
fi
