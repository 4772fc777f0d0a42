"""manage.py worker_watchdog against a real Celery worker on real Redis: 0 while the worker answers and the
outbox dispatch keeps finishing its runs; 1 (restart the worker) when it does not answer or no longer
dispatches, 2 (restart the beat) when the dispatch stopped and no beat runs, 3 when the broker is gone."""

import datetime
import os
import re
import signal

import pytest
import redis
from django.conf import settings
from django.core.management import ManagementUtility
from django.db.models.functions import Now

from config.beat import LOCK_KEY
from followup.messaging.heartbeats import Heartbeat, HeartbeatName

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def watchdog(capsys, *args: str) -> tuple[int, str]:
    """Run the command as `manage.py worker_watchdog` would: its exit status and what it said."""
    try:
        ManagementUtility(["manage.py", "worker_watchdog", "--timeout", "1", *args]).execute()
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, (out + err).strip()


@pytest.fixture
def beat_lock():
    """The lock a running beat holds (config/beat.py), held for the test."""
    store = redis.Redis.from_url(settings.REDIS_URL)
    store.set(LOCK_KEY, "test:1", ex=60)
    try:
        yield store
    finally:
        store.delete(LOCK_KEY)


def test_a_live_worker_that_dispatches_is_healthy_a_stale_or_stopped_one_is_not(cluster, beat_lock, capsys):
    worker = cluster.worker()
    Heartbeat.objects.create(name=HeartbeatName.SCHEDULER, at=Now() - datetime.timedelta(hours=1))
    assert cluster.run("followup.outbox_dispatch") == {}
    assert Heartbeat.objects.filter(name=HeartbeatName.DISPATCH).exists()  # the worker's run left it

    status, said = watchdog(capsys)
    assert status == 0, said
    assert re.fullmatch(r"ok: 1 worker\(s\) answered \(faults-\S+\); dispatched \d s ago", said), said

    # The worker answers but the dispatch has not finished a run for 6 minutes: it does not consume.
    dispatched = Heartbeat.objects.filter(name=HeartbeatName.DISPATCH)
    dispatched.update(at=Now() - datetime.timedelta(minutes=6))
    assert watchdog(capsys) == (
        10,
        "CommandError: the outbox dispatch last finished a run 360 s ago (limit 300 s), though 1 worker(s) "
        "answered a ping: not consuming",
    )
    beat_lock.delete(LOCK_KEY)  # ... and no beat runs: the beat is what to restart
    dispatched.update(at=Now() - datetime.timedelta(minutes=6))
    assert watchdog(capsys) == (
        11,
        "CommandError: the outbox dispatch last finished a run 360 s ago (limit 300 s), and no beat is "
        "running",
    )

    dispatched.update(at=Now())
    os.killpg(worker.process.pid, signal.SIGSTOP)  # hung: alive, answering nothing
    try:
        assert watchdog(capsys) == (
            10,
            "CommandError: no Celery worker answered a ping within 1 s (hung or not running)",
        )
    finally:
        os.killpg(worker.process.pid, signal.SIGCONT)
