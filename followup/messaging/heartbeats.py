"""Heartbeats of the scheduled messaging work: when the outbox dispatch and the reminder sweep last finished
a run, and when the beat last started. A worker that stopped consuming (celery #10205: after a Redis outage
a busy worker may neither consume again nor exit) or a beat that died sends nothing; the heartbeat's age
shows it on /healthz and to `manage.py worker_watchdog`, which restarts the worker.

Kept in PostgreSQL, not in Redis: Redis is the part that fails here, and a restarted Redis comes back empty,
so a heartbeat kept there would vanish exactly when it matters (and with it the difference between "never ran"
and "stopped running"). A row per name costs one upsert a minute. Times are the database's clock (the
statement's time, as Django's Now()), written and read, so that the worker, the web and the watchdog judge
by one clock wherever they run.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, models

from trial.hooks import HealthReport


class HeartbeatName(models.TextChoices):
    DISPATCH = "followup.outbox_dispatch", "outbox dispatch finished"
    SWEEP = "followup.reminders_sweep", "reminder sweep finished"
    SCHEDULER = "celery.beat", "beat started"


class Heartbeat(models.Model):
    """The last time something happened (a task finished a run, the beat started). Not audited: it holds no
    research data, only a time, overwritten every minute."""

    name = models.CharField(max_length=64, primary_key=True, choices=HeartbeatName.choices)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


def heartbeat_record(*, name: HeartbeatName) -> None:
    """Set `name`'s time to the database's now (one row per name, an upsert: atomic on its own)."""
    table = Heartbeat._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" (name, at) VALUES (%s, statement_timestamp()) '  # noqa: S608 -- our table
            "ON CONFLICT (name) DO UPDATE SET at = EXCLUDED.at",
            [name.value],
        )


# The sweep runs every 15 minutes (followup migration 0006): four missed runs are a stopped sweep.
SWEEP_STALE = 3600


@dataclass(frozen=True)
class DispatchHealth:
    """Whether the outbox dispatch keeps finishing its runs. Ages in whole seconds, None when never."""

    dispatch_age: int | None
    sweep_age: int | None
    scheduler_age: int | None
    stale_after: int
    problem: str  # "" when the dispatch is healthy: one line otherwise (the watchdog restarts on it)
    sweep_problem: str = ""  # the reminder sweep's: reported, never a reason to restart a worker mid-send

    @property
    def ok(self) -> bool:
        return not self.problem

    def figures(self) -> dict:
        return {
            "last_dispatch_seconds_ago": self.dispatch_age,
            "last_sweep_seconds_ago": self.sweep_age,
            "beat_started_seconds_ago": self.scheduler_age,
            "stale_after_seconds": self.stale_after,
        }


def dispatch_health(*, stale_after: datetime.timedelta) -> DispatchHealth:
    """How long since the outbox dispatch last finished a run, judged against `stale_after` (one query).

    The clock runs from the later of the dispatch's last finished run and the beat's last start: a beat that
    has just started (`make run`, a deploy) has had no time to dispatch yet. Nothing recorded at all (no beat
    has ever started on this database: tests, a bare runserver) is not judged.
    """
    age = "floor(extract(epoch FROM statement_timestamp() - at))::int"
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT name, {age} FROM "{Heartbeat._meta.db_table}"')  # noqa: S608 -- our table
        ages = dict(cursor.fetchall())
    dispatch, scheduler = ages.get(HeartbeatName.DISPATCH), ages.get(HeartbeatName.SCHEDULER)
    limit = int(stale_after.total_seconds())
    known = [age for age in (dispatch, scheduler) if age is not None]
    problem = ""
    if known and min(known) > limit:
        if dispatch is None or (scheduler is not None and scheduler < dispatch):
            problem = (
                f"the outbox dispatch has not finished a run since the beat started {scheduler} s ago "
                f"(limit {limit} s)"
            )
        else:
            problem = f"the outbox dispatch last finished a run {dispatch} s ago (limit {limit} s)"
    sweep = ages.get(HeartbeatName.SWEEP)
    sweep_problem = ""
    if scheduler is not None and min(age for age in (sweep, scheduler) if age is not None) > SWEEP_STALE:
        sweep_problem = (
            f"the reminder sweep has not finished a run since the beat started {scheduler} s ago"
            if sweep is None or scheduler < sweep
            else f"the reminder sweep last finished a run {sweep} s ago"
        ) + f" (limit {SWEEP_STALE} s)"
    return DispatchHealth(
        dispatch_age=dispatch,
        sweep_age=sweep,
        scheduler_age=scheduler,
        stale_after=limit,
        problem=problem,
        sweep_problem=sweep_problem,
    )


def dispatch_health_report() -> HealthReport:
    """/healthz's part for the outbox dispatch (trial.hooks.health_checks), limit DISPATCH_STALE_SECONDS."""
    health = dispatch_health(stale_after=datetime.timedelta(seconds=settings.DISPATCH_STALE_SECONDS))
    problems = "; ".join(problem for problem in (health.problem, health.sweep_problem) if problem)
    return HealthReport(name="dispatch", figures=health.figures(), problem=problems)
