"""The scheduled tasks leave a heartbeat, and /healthz/worker judges the outbox dispatch's: 200 while it keeps
finishing its runs, 503 with the reason once it has not for DISPATCH_STALE_SECONDS (counted from the beat's
start when that is later). Times are the database's clock: the tests set the stored times back."""

import datetime

import pytest
from django.db.models.functions import Now
from django.utils import timezone

from followup.messaging.dispatch import outbox_dispatch
from followup.messaging.heartbeats import Heartbeat, HeartbeatName, dispatch_health, heartbeat_record
from followup.tasks import outbox_dispatch_task, reminders_sweep_task

pytestmark = pytest.mark.django_db

DISPATCH, SWEEP, SCHEDULER = HeartbeatName.DISPATCH, HeartbeatName.SWEEP, HeartbeatName.SCHEDULER


def beat(name: HeartbeatName, *, seconds_ago: int) -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"at": Now() - datetime.timedelta(seconds=seconds_ago)}
    )


def healthz(client, django_assert_num_queries):
    with django_assert_num_queries(2):  # the database's answer, then every heartbeat at once
        response = client.get("/healthz/worker")
    return response.status_code, response.json()


def test_each_task_records_when_it_finished_a_run():
    assert not Heartbeat.objects.exists()
    outbox_dispatch_task()
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {DISPATCH}
    reminders_sweep_task()
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {DISPATCH, SWEEP}
    beat(DISPATCH, seconds_ago=60)
    outbox_dispatch_task()
    fresh = Heartbeat.objects.filter(at__gt=Now() - datetime.timedelta(seconds=5))
    assert list(fresh.values_list("name", flat=True).order_by("name")) == [DISPATCH, SWEEP]


def test_a_long_run_records_its_heartbeat_after_each_message_not_only_at_its_end(outbox):
    """A run slowed by a slow gateway is alive: the watchdog must not restart its worker mid-send."""
    beat(DISPATCH, seconds_ago=3600)
    assert outbox_dispatch().outcomes  # the due messages handled, whatever became of them
    assert Heartbeat.objects.get(name=DISPATCH).at > timezone.now() - datetime.timedelta(seconds=5)
    beat(DISPATCH, seconds_ago=3600)
    assert outbox_dispatch().outcomes == {}  # nothing due: no heartbeat (the task records its end)
    assert Heartbeat.objects.get(name=DISPATCH).at < timezone.now() - datetime.timedelta(seconds=3000)


def test_healthz_reports_the_ages_while_the_dispatch_keeps_running(client, django_assert_num_queries):
    beat(SCHEDULER, seconds_ago=3600)
    beat(SWEEP, seconds_ago=600)
    heartbeat_record(name=DISPATCH)
    assert healthz(client, django_assert_num_queries) == (
        200,
        {
            "status": "ok",
            "dispatch": {
                "last_dispatch_seconds_ago": 0,
                "last_sweep_seconds_ago": 600,
                "beat_started_seconds_ago": 3600,
                "stale_after_seconds": 300,
            },
        },
    )


def test_healthz_answers_503_once_the_dispatch_has_not_finished_a_run_for_too_long(
    client, django_assert_num_queries, settings
):
    beat(SCHEDULER, seconds_ago=3600)
    beat(DISPATCH, seconds_ago=300)
    assert healthz(client, django_assert_num_queries)[0] == 200  # at the limit
    beat(DISPATCH, seconds_ago=301)
    status, body = healthz(client, django_assert_num_queries)
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["reason"] == "the outbox dispatch last finished a run 301 s ago (limit 300 s)"
    assert body["dispatch"]["last_dispatch_seconds_ago"] == 301
    settings.DISPATCH_STALE_SECONDS = 600
    assert healthz(client, django_assert_num_queries)[0] == 200


def test_a_beat_just_started_has_time_to_dispatch_first(client, django_assert_num_queries):
    """`make run` or a deploy after a pause: yesterday's last dispatch does not count against a new beat."""
    beat(DISPATCH, seconds_ago=86400)
    beat(SCHEDULER, seconds_ago=60)
    assert healthz(client, django_assert_num_queries)[0] == 200
    beat(SCHEDULER, seconds_ago=400)
    status, body = healthz(client, django_assert_num_queries)
    assert status == 503
    assert body["reason"] == (
        "the outbox dispatch has not finished a run since the beat started 400 s ago (limit 300 s)"
    )


def test_a_beat_that_never_saw_a_dispatch_finish_is_unhealthy_after_the_limit(
    client, django_assert_num_queries
):
    beat(SCHEDULER, seconds_ago=299)
    assert healthz(client, django_assert_num_queries)[0] == 200
    beat(SCHEDULER, seconds_ago=400)
    status, body = healthz(client, django_assert_num_queries)
    assert (status, body["reason"]) == (
        503,
        "the outbox dispatch has not finished a run since the beat started 400 s ago (limit 300 s)",
    )
    assert body["dispatch"]["last_dispatch_seconds_ago"] is None


def test_nothing_recorded_is_not_judged(client, django_assert_num_queries):
    """No beat has ever started on this database (a bare runserver, a fresh install before its first beat)."""
    status, body = healthz(client, django_assert_num_queries)
    assert (status, body["status"]) == (200, "ok")
    assert set(body["dispatch"].values()) == {None, 300}


def test_the_liveness_check_stays_200_when_the_dispatch_is_stale(client, django_assert_num_queries):
    """A stalled worker must not take a healthy web node out of its load balancer: /healthz says it, 200."""
    beat(SCHEDULER, seconds_ago=3600)
    beat(DISPATCH, seconds_ago=900)
    with django_assert_num_queries(2):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.json()["warnings"] == ["the outbox dispatch last finished a run 900 s ago (limit 300 s)"]
    assert client.get("/healthz/worker").status_code == 503


def test_a_stopped_sweep_is_reported_but_is_no_reason_to_restart_the_worker(
    client, django_assert_num_queries
):
    beat(SCHEDULER, seconds_ago=7200)
    beat(DISPATCH, seconds_ago=10)
    beat(SWEEP, seconds_ago=3600)
    assert healthz(client, django_assert_num_queries)[0] == 200  # at the limit
    beat(SWEEP, seconds_ago=3700)
    status, body = healthz(client, django_assert_num_queries)
    assert (status, body["reason"]) == (
        503,
        "the reminder sweep last finished a run 3700 s ago (limit 3600 s)",
    )
    health = dispatch_health(stale_after=datetime.timedelta(seconds=300))
    assert health.ok and health.sweep_problem  # the watchdog restarts on the dispatch alone
