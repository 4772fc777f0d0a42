"""`manage.py check --deploy` is clean with the production settings: deploy/env.example as systemd reads it,
with a real-looking SECRET_KEY in place of its placeholder."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_environment() -> dict[str, str]:
    """deploy/env.example's KEY=value lines (systemd EnvironmentFile syntax: no quotes, no expansion)."""
    env = {}
    for line in (ROOT / "deploy" / "env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def run_deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what a process needs to start from the outside world; every setting comes from env.example.
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}  # noqa: S108
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_env_example_is_production():
    env = production_environment()
    assert env["DEBUG"] == "0"


def test_check_deploy_is_clean_with_env_example():
    result = run_deploy_check(production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


def test_check_deploy_notices_a_weakened_setting():
    """The check is not vacuous: turning HSTS off in the environment is reported."""
    result = run_deploy_check({**production_environment(), "SECURE_HSTS_SECONDS": "0"})
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
