"""Celery tasks of the reports: they receive ids (or nothing) and work from the database."""

from celery import shared_task

from .jobs import JOB_SOFT_TIME_LIMIT, JOB_TIME_LIMIT, job_execute
from .monthly import monthly_reports_plan


@shared_task(
    name="reports.job_run",
    acks_late=True,
    time_limit=int(JOB_TIME_LIMIT.total_seconds()),
    soft_time_limit=int(JOB_SOFT_TIME_LIMIT.total_seconds()),
)
def job_run(job_id: int) -> str:
    """Build one queued job; a job in any other state (a second delivery) is left alone. Its final status."""
    return job_execute(job_id)


@shared_task(name="reports.monthly_reports", acks_late=True, time_limit=300)
def monthly_reports_task() -> dict:
    """Request this month's interim report of each study, one job per language its PIs read (idempotent)."""
    return monthly_reports_plan()
