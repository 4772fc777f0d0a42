"""Celery tasks of follow-up: they take no arguments and do their work from the database (the outbox).

Each records a heartbeat when it finishes a run (followup/messaging/heartbeats.py): a worker that stopped
consuming shows as a heartbeat growing old, on /healthz and to `manage.py worker_watchdog`.
"""

from dataclasses import asdict

from celery import shared_task

from .messaging.digests import digests_plan
from .messaging.dispatch import outbox_dispatch
from .messaging.heartbeats import HeartbeatName, heartbeat_record
from .messaging.sweep import reminders_sweep


@shared_task(name="followup.reminders_sweep", acks_late=True, time_limit=1800)
def reminders_sweep_task() -> dict:
    """Plan the reminders due today and the staff digests of the day and week (idempotent: a second run
    plans nothing new)."""
    planned, existing = digests_plan()
    result = {"reminders": asdict(reminders_sweep()), "digests": {"planned": planned, "existing": existing}}
    heartbeat_record(name=HeartbeatName.SWEEP)
    return result


@shared_task(name="followup.outbox_dispatch", acks_late=True, time_limit=600)
def outbox_dispatch_task() -> dict:
    """Send the due messages; a redelivered task finds the rows it had claimed already `sending`."""
    outcomes = outbox_dispatch().outcomes
    heartbeat_record(name=HeartbeatName.DISPATCH)
    return outcomes
