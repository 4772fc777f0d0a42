"""Celery tasks of follow-up: they take no arguments and do their work from the database (the outbox)."""

from dataclasses import asdict

from celery import shared_task

from .messaging.digests import digests_plan
from .messaging.dispatch import outbox_dispatch
from .messaging.sweep import reminders_sweep


@shared_task(name="followup.reminders_sweep", acks_late=True, time_limit=1800)
def reminders_sweep_task() -> dict:
    """Plan the reminders due today and the staff digests of the day and week (idempotent: a second run
    plans nothing new)."""
    planned, existing = digests_plan()
    return {"reminders": asdict(reminders_sweep()), "digests": {"planned": planned, "existing": existing}}


@shared_task(name="followup.outbox_dispatch", acks_late=True, time_limit=600)
def outbox_dispatch_task() -> dict:
    """Send the due messages; a redelivered task finds the rows it had claimed already `sending`."""
    return outbox_dispatch().outcomes
