"""The daily prune of sign-in records: what has expired or passed its retention goes, nothing else."""

import datetime
import importlib

import pytest
from axes.models import AccessAttempt, AccessLog
from django.apps import apps as django_apps
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from knox.models import AuthToken

from trial.services.housekeeping import signin_records_prune
from trial.tasks import signin_records_prune_task

pytestmark = pytest.mark.frozen


def session(expires_in: datetime.timedelta) -> str:
    store = SessionStore()
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


def signin_log(days_ago: int, username: str) -> None:
    row = AccessLog.objects.create(username=username, ip_address="198.51.100.7", user_agent="test")
    AccessLog.objects.filter(pk=row.pk).update(
        attempt_time=timezone.now() - datetime.timedelta(days=days_ago)
    )


def test_expired_and_old_rows_go_live_and_recent_ones_stay(coordinator, settings):
    settings.SIGNIN_LOG_DAYS = 365
    expired, live = session(-datetime.timedelta(minutes=1)), session(datetime.timedelta(hours=1))
    old_token, _ = AuthToken.objects.create(user=coordinator, expiry=datetime.timedelta(hours=-1))
    new_token, _ = AuthToken.objects.create(user=coordinator, expiry=datetime.timedelta(hours=1))
    signin_log(366, "gone")
    signin_log(364, "kept")
    stale = AccessAttempt.objects.create(
        username="x", ip_address="198.51.100.7", user_agent="t", failures_since_start=2
    )
    AccessAttempt.objects.filter(pk=stale.pk).update(
        attempt_time=timezone.now() - datetime.timedelta(minutes=16)
    )
    AccessAttempt.objects.create(
        username="y", ip_address="198.51.100.7", user_agent="t", failures_since_start=2
    )

    assert signin_records_prune() == {
        "sessions": 1,
        "api_tokens": 1,
        "lockout_counters": 1,
        "signin_log": 1,
        "failure_log": 0,
    }
    assert list(Session.objects.values_list("session_key", flat=True)) == [live]
    assert expired != live
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [new_token.pk]
    assert old_token.pk != new_token.pk
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["kept"]
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["y"]
    # idempotent: a second run finds nothing
    assert set(signin_records_prune_task().values()) == {0}


@pytest.mark.django_db
def test_the_beat_runs_it_daily():
    # A transactional test run before this one empties every table, the migration's rows with them: put
    # back by the migration's own step (idempotent), so that the test does not depend on its order.
    importlib.import_module("trial.migrations.0011_signin_records_prune_schedule").create(django_apps, None)
    task = PeriodicTask.objects.get(task="trial.signin_records_prune")
    assert (task.enabled, task.interval.every, task.interval.period) == (True, 1, "days")
