"""Writes of the reports app that people make: asking for an interim report, and downloading a job's file
(every download is logged)."""

import datetime

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _

from trial.errors import Conflict, InvalidInput
from trial.i18n import LANGUAGES

from .access import require_report_role
from .jobs import job_request, job_state
from .models import Download, Job, JobKind, JobStatus, JobTrigger

DOWNLOAD_VIA = ("api", "page")


def interim_report_request(
    *,
    study,
    actor,
    language: str,
    cut: datetime.datetime | None = None,
    trigger: str = JobTrigger.ON_DEMAND,
    extra_params: dict | None = None,
) -> Job:
    """Ask for the study's interim report in `language` at data cut `cut` (None: the moment it is built).

    A person must be a principal investigator or data manager of the study (403); a cut in the future or an
    unknown language is a 400 naming the field. `extra_params` are kept with the job (the monthly period and
    whom to tell).
    """
    if actor is not None:
        require_report_role(actor, study)
    errors: dict[str, list[str]] = {}
    if language not in LANGUAGES:
        errors["language"] = [_("Unknown language: %(language)s.") % {"language": language}]
    if cut is not None and timezone.is_naive(cut):
        errors["cut"] = [_("Give the data cut with its time zone, e.g. 2027-01-31T23:59+08:00.")]
    elif cut is not None and cut > timezone.now():
        errors["cut"] = [_("The data cut cannot be in the future.")]
    elif cut is not None and (opened := _opened(study)) and cut.date() < opened:
        # Nothing was recorded before; and a year-1 cut would overflow converting it to UTC.
        errors["cut"] = [
            _("The data cut cannot be before the study opened (%(date)s).") % {"date": opened.isoformat()}
        ]
    if errors:
        raise InvalidInput(_("The request is not valid."), field_errors=errors)
    params = {"language": language, "cut": cut.astimezone(datetime.UTC).isoformat() if cut else None}
    params.update(extra_params or {})
    return job_request(study=study, kind=JobKind.INTERIM_REPORT, params=params, actor=actor, trigger=trigger)


def _opened(study) -> datetime.date | None:
    """The study's opening: its first protocol version's effective date."""
    return study.versions.order_by("number").values_list("effective_date", flat=True).first()


def job_download(*, job: Job, user, via: str) -> File:
    """The job's file, opened, after logging who downloaded it and how (`via`: "api" or "page").

    Only the study's principal investigators and data managers (403); a job not done has no file (409).
    """
    require_report_role(user, job.study)
    if job_state(job).status != JobStatus.DONE or not job.file:
        raise Conflict(
            _("The job has no file yet: it is %(status)s.") % {"status": job_state(job).status_text}
        )
    if via not in DOWNLOAD_VIA:
        raise InvalidInput(_("Unknown way of downloading: %(via)s.") % {"via": via})
    opened = job.file.open("rb")  # opened first: a missing file logs no download
    Download.objects.create(job=job, user=user, via=via)
    return opened
