"""Periodic schedules live in the database (django-celery-beat) and exactly one beat runs: a second beat,
started while the first holds its lock, stops at once and says who holds it. Real beats, real Redis."""

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from config.beat import LOCK_KEY
from config.celery import app
from followup.messaging.heartbeats import Heartbeat, HeartbeatName

from .test_server_logs import database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")


def test_the_reminder_schedules_are_rows_naming_registered_tasks():
    # A transactional test run before this one empties every table, the migration's rows with them: they
    # are put back by the migration's own step (idempotent), so that the test does not depend on its order.
    schedules_migration = importlib.import_module("followup.migrations.0006_reminder_schedules")
    schedules_migration.create(django_apps, None)
    app.loader.import_default_modules()
    schedules = {task.task: task.interval for task in PeriodicTask.objects.select_related("interval")}
    assert {"followup.reminders_sweep", "followup.outbox_dispatch"} <= set(schedules)
    assert set(schedules) <= set(app.tasks)
    assert (schedules["followup.outbox_dispatch"].every, schedules["followup.outbox_dispatch"].period) == (
        60,
        "seconds",
    )


def beat(log: Path, env: dict) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 -- the project's own command
            [str(CELERY), "-A", "config", "beat", "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def test_a_second_beat_stops_while_the_first_runs(tmp_path):
    store = redis.Redis.from_url(settings.REDIS_URL)
    store.delete(LOCK_KEY)
    env = {**os.environ, "DATABASE_URL": database_url(), "CONN_MAX_AGE": "0", "PYTHONUNBUFFERED": "1"}
    first = beat(tmp_path / "first.log", env)
    try:
        deadline = time.monotonic() + 30
        while not store.get(LOCK_KEY):
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "the first beat never took the lock"
            time.sleep(0.2)
        holder = store.get(LOCK_KEY).decode()
        assert holder.endswith(f":{first.pid}")
        # Its start is a heartbeat (/healthz counts the dispatch's age from it), recorded after the lock.
        while not Heartbeat.objects.filter(name=HeartbeatName.SCHEDULER).exists():
            assert time.monotonic() < deadline, "the first beat never recorded its start"
            time.sleep(0.1)
        started = Heartbeat.objects.get(name=HeartbeatName.SCHEDULER).at
        second = beat(tmp_path / "second.log", env)
        assert second.wait(timeout=60) != 0
        said = (tmp_path / "second.log").read_text()
        assert "Another Celery beat is running" in said and holder in said
        assert Heartbeat.objects.get(name=HeartbeatName.SCHEDULER).at == started  # not the second
        assert first.poll() is None  # the first goes on
    finally:
        os.killpg(first.pid, signal.SIGTERM)
        first.wait(timeout=30)
    assert store.get(LOCK_KEY) is None  # a beat stopped cleanly lets the next one start at once
