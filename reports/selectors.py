"""Reads of jobs and downloads shared by the API and the pages: each a fixed number of queries."""

import zoneinfo

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from trial.models import Site

from .access import require_report_role, study_visible
from .models import Download, Job


def job_list(*, study, kind: str | None = None) -> QuerySet:
    """The study's jobs, newest first, with who asked: one query a page."""
    jobs = (
        Job.objects.filter(study=study)
        .select_related("study", "requested_by", "cut")
        .defer("cut__content")
        .order_by("-created_at", "-id")
    )
    return jobs.filter(kind=kind) if kind else jobs


def job_get(*, user, pk: int) -> Job:
    """One job for a reader of reports: 404 if it does not exist or its study is hidden from the user (an
    adjudicator learns nothing), 403 without the role. Three queries."""
    job = (
        Job.objects.select_related("study", "requested_by", "cut").defer("cut__content").filter(pk=pk).first()
    )
    if job is None or not study_visible(user, job.study):
        raise Http404("No such job.")
    require_report_role(user, job.study)
    return job


def download_list(*, study) -> QuerySet:
    """Who downloaded which of the study's files, when, newest first: one query a page."""
    return Download.objects.filter(job__study=study).select_related("job", "user").order_by("-at", "-id")


def study_zone(study_id: int) -> zoneinfo.ZoneInfo:
    """The study's wall clock: its first active site's (by code); the installation's without a site."""
    zone = (
        Site.objects.filter(study_id=study_id, active=True)
        .order_by("code")
        .values_list("time_zone", flat=True)
    ).first()
    return zoneinfo.ZoneInfo(zone or settings.TIME_ZONE)
