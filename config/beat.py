"""The beat's scheduler: django-celery-beat's (schedules in the database, editable in the admin), run by one
beat at a time.

Two beats would queue every periodic task twice. The scheduler takes a lock in Redis at start-up (SET NX with
an expiry, the holder's host and pid as its value) and renews it on every tick; a second beat finds the lock
taken and stops with a message saying who holds it. A beat that dies lets its lock expire after
BEAT_LOCK_SECONDS, so a replacement can start without anyone deleting anything.

Once it holds the lock it records its start as a heartbeat: /healthz and `manage.py worker_watchdog` judge the
outbox dispatch's age from the later of its last run and this start (a beat just started has dispatched
nothing yet).
"""

import os
import socket

import redis
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

from followup.messaging.heartbeats import HeartbeatName, heartbeat_record

LOCK_KEY = "spinetrial:celery-beat"


class AnotherBeatIsRunning(SystemExit):
    pass


class SingleBeatScheduler(DatabaseScheduler):
    """DatabaseScheduler that runs only while it holds the one beat lock."""

    def setup_schedule(self):
        self._redis = redis.Redis.from_url(settings.REDIS_URL)
        self._holder = f"{socket.gethostname()}:{os.getpid()}"
        if not self._redis.set(LOCK_KEY, self._holder, nx=True, ex=settings.BEAT_LOCK_SECONDS):
            holder = (self._redis.get(LOCK_KEY) or b"?").decode()
            raise AnotherBeatIsRunning(
                f"Another Celery beat is running ({holder}); exactly one may run. Stop it first, or wait "
                f"{settings.BEAT_LOCK_SECONDS} s if it died."
            )
        heartbeat_record(name=HeartbeatName.SCHEDULER)
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        if (self._redis.get(LOCK_KEY) or b"").decode() != self._holder:
            raise AnotherBeatIsRunning("This beat lost its lock (it stalled past its expiry): stopping.")
        self._redis.expire(LOCK_KEY, settings.BEAT_LOCK_SECONDS)
        return min(super().tick(*args, **kwargs), settings.BEAT_LOCK_SECONDS / 3)

    def close(self):
        try:
            super().close()
        finally:
            if (self._redis.get(LOCK_KEY) or b"").decode() == self._holder:
                self._redis.delete(LOCK_KEY)
