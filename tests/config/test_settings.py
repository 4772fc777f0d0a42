"""Settings come from the environment; no secret lives in the repository."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_missing_secret_key_outside_debug_is_a_clear_startup_error():
    result = run_check(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_starts_with_a_secret_key():
    result = run_check(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


def test_health_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_the_pool_covers_the_primary_and_the_replica_alike():
    """DB_POOL_MAX_SIZE with REPLICA_DATABASE_URL: both aliases pooled, neither with persistent connections
    (which Django refuses beside a pool: the replica would fail and every report read the primary)."""
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps({a: [d['CONN_MAX_AGE'], d['OPTIONS'].get('pool', {}).get('max_size')] "
        "for a, d in settings.DATABASES.items()}))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DB_POOL_MAX_SIZE": "7"}
    env["REPLICA_DATABASE_URL"] = "postgres://reader@127.0.0.1:5999/spinetrial"
    done = subprocess.run(  # noqa: S603 -- this interpreter on the script above
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == '{"default": [0, 7], "replica": [0, 7]}'
