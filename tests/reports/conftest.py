"""Shared by the reports tests: the people of the study in every role, the stand-in runners, and a real
Celery worker on this test's database."""

import contextlib
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from reports.jobs import JOB_RUNNERS, job_runner_register
from reports.models import JobKind
from trial.models import Role

from ..followup.messaging.servers import smtp_server  # noqa: F401 -- the loopback SMTP server fixture
from ..followup.messaging.workers import database_url_of_test
from . import runners

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"


@pytest.fixture
def people(make_user, study, site, coordinator, monitor):
    def with_email(user, address):
        user.email = address
        user.save(update_fields=["email"])
        return user

    return {
        "pi": with_email(
            make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study), "pi@example.invalid"
        ),
        "data_manager": make_user("dm", role=Role.DATA_MANAGER, study=study),
        "site_pi": make_user("pi07", role=Role.PRINCIPAL_INVESTIGATOR, study=study, site=site),
        "coordinator": coordinator,
        "monitor": monitor,
        "adjudicator": make_user("adj", role=Role.ADJUDICATOR, study=study),
    }


def api_for(user, language: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.force_authenticate(user)
    return client


@pytest.fixture
def fake_interim(monkeypatch):
    """The interim report's place taken by the stand-in (its own tests build the real one)."""
    monkeypatch.setitem(JOB_RUNNERS, "interim_report", runners.test_report)


@pytest.fixture
def fake_export():
    """The exports' runner replaced by the stand-in (the writers' own tests build the real files); the
    registry as it was afterwards."""
    taken = JOB_RUNNERS.get(JobKind.EXPORT)
    job_runner_register(JobKind.EXPORT, runners.test_export, replace=True)
    yield runners.test_export
    if taken is None:
        JOB_RUNNERS.pop(JobKind.EXPORT, None)
    else:
        job_runner_register(JobKind.EXPORT, taken, replace=True)


@pytest.fixture
def gate(tmp_path):
    directory = tmp_path / "gates"
    directory.mkdir()
    return directory


@pytest.fixture
def job_worker(transactional_db, gate, tmp_path):
    """`celery worker` (solo pool) on the default queue, on this test's database, with the stand-in runners
    included and the interim report replaced by the gated one. Killed after the test."""
    yield from _worker(tmp_path, REPORTS_TEST_GATE_DIR=str(gate), REPORTS_FAKE_INTERIM="1")


@pytest.fixture
def export_worker(transactional_db, gate, tmp_path, fake_export):
    """The worker with the exports' runner replaced by the gated stand-in (this process has it too)."""
    yield from _worker(tmp_path, REPORTS_TEST_GATE_DIR=str(gate), REPORTS_FAKE_EXPORT="1")


@pytest.fixture
def report_worker(transactional_db, tmp_path):
    """The same worker running the real interim report."""
    yield from _worker(tmp_path)


def _worker(tmp_path, **extra_env):
    from config.celery import app

    app.control.purge()  # nothing a previous test queued reaches this worker
    log = tmp_path / "worker.log"
    env = {name: value for name, value in os.environ.items() if name != "TEST_CLOCK"}
    env.update(DATABASE_URL=database_url_of_test(), CONN_MAX_AGE="0", **extra_env)
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 -- the project's own worker
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-l",
                "info",
                "-Q",
                "reports,celery",  # the reports' tasks are routed to their own queue (config/celery.py)
                "-n",
                f"jobs-{uuid.uuid4().hex[:6]}@%h",
                "--include",
                "tests.reports.runners",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log.read_bytes():
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the worker did not start:\n" + log.read_text(
                errors="replace"
            )
            time.sleep(0.1)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait(timeout=10)
        print(log.read_text(errors="replace")[-4000:])  # shown when the test failed


def wait_for(read, condition, *, timeout: float = 60, what: str = "the job"):
    """Read until `condition(value)` holds; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if condition(value):
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {value}"
        time.sleep(0.1)
