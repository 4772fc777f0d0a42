"""Celery tasks of trial: they take no arguments and work from the database."""

from celery import shared_task

from .services.housekeeping import signin_records_prune


@shared_task(name="trial.signin_records_prune", acks_late=True, time_limit=600)
def signin_records_prune_task() -> dict:
    """Expired sessions and tokens, and old sign-in logs, deleted (daily; idempotent)."""
    return signin_records_prune()
