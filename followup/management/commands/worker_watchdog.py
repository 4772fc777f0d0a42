"""manage.py worker_watchdog [--queue NAME] [--timeout SECONDS]: are the Celery workers alive and is the
outbox dispatched?

With --queue, only the workers consuming that queue count (a worker per queue in production:
deploy/systemd/spinetrial-worker@.service and a watchdog timer per queue), and the outbox dispatch's heartbeat
is judged only for the messaging queue, whose worker runs the dispatch: a stalled dispatch is no reason to
restart the reports worker in the middle of an export.

Exit 0 and one line when healthy. Otherwise one line saying why, and a status saying what would help (the
systemd timer in deploy/systemd/ and `make run` act on it):
  10  restart the worker: none answered a ping, or they answer but the outbox dispatch has stopped finishing
      its runs while the beat runs (a worker that no longer consumes: celery #10205 after a Redis outage);
  11  restart the beat: the dispatch has stopped and no beat holds the beat lock;
  12  the broker (Redis) is unreachable: restarting the worker would not help;
  13  the database is unreachable: nor would it.
Codes of their own: Python exits 1 on an uncaught error and argparse 2 on bad arguments, which must not read
as "restart the worker".
"""

import dataclasses
import datetime

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from kombu.exceptions import OperationalError

from config.beat import LOCK_KEY
from config.celery import MESSAGING_QUEUE, app

from ...messaging.heartbeats import dispatch_health

RESTART_WORKER, RESTART_BEAT, BROKER_DOWN, DATABASE_DOWN = 10, 11, 12, 13


class Command(BaseCommand):
    help = (
        "Ping the Celery workers through the broker and check the outbox dispatch's heartbeat; exit 0 when "
        "healthy, else 10 (restart the worker), 11 (restart the beat), 12 (the broker is unreachable) or 13 "
        "(the database is unreachable)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=5.0, help="seconds to wait for the workers' answers (default 5)"
        )
        parser.add_argument(
            "--queue",
            default="",
            help="check only the workers consuming this queue (the dispatch's heartbeat: only for messaging)",
        )

    def handle(self, *args, timeout: float, queue: str, **options):
        try:
            health = dispatch_health(stale_after=datetime.timedelta(seconds=settings.DISPATCH_STALE_SECONDS))
        except DatabaseError as error:
            raise CommandError(
                f"the database is unreachable: {type(error).__name__}", returncode=DATABASE_DOWN
            ) from error
        try:
            # The worker's main process answers, also while its pool processes are busy with tasks.
            replies = self._replies(queue=queue, timeout=timeout)
            beat_running = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout).exists(LOCK_KEY)
        except (OperationalError, redis.RedisError, OSError) as error:
            raise CommandError(f"the broker is unreachable: {error}", returncode=BROKER_DOWN) from error
        if not replies:
            consuming = f" consuming the {queue} queue" if queue else ""
            raise CommandError(
                f"no Celery worker{consuming} answered a ping within {timeout:g} s (hung or not running)",
                returncode=RESTART_WORKER,
            )
        if queue not in ("", MESSAGING_QUEUE):
            health = dataclasses.replace(health, problem="")  # another queue's worker does not dispatch
        if not health.ok:
            if not beat_running:
                raise CommandError(f"{health.problem}, and no beat is running", returncode=RESTART_BEAT)
            raise CommandError(
                f"{health.problem}, though {len(replies)} worker(s) answered a ping: not consuming",
                returncode=RESTART_WORKER,
            )
        workers = sorted(name for reply in replies for name in reply)
        age = "never" if health.dispatch_age is None else f"{health.dispatch_age} s ago"
        self.stdout.write(f"ok: {len(workers)} worker(s) answered ({', '.join(workers)}); dispatched {age}")

    @staticmethod
    def _replies(*, queue: str, timeout: float) -> list[dict]:
        """The live workers' answers ([{name: answer}]), only those consuming `queue` when one is named."""
        if not queue:
            return app.control.ping(timeout=timeout)
        # active_queues is answered by the worker's main process as a ping is, and names what it consumes.
        answers = app.control.inspect(timeout=timeout).active_queues() or {}
        return [
            {name: {"ok": "pong"}}
            for name, queues in answers.items()
            if any(consumed.get("name") == queue for consumed in queues or ())
        ]
