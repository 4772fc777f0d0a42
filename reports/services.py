"""Writes of the reports app that people make: asking for an interim report or an export, and downloading a
job's file (every download is logged)."""

import datetime

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _

from trial.errors import Conflict, InvalidInput
from trial.i18n import LANGUAGES

from .access import require_report_role
from .exports.deid import salt_new
from .exports.formats import ANALYSIS, BOM_FORMATS, DATASETS, FORMATS, TABULAR
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


def export_request(
    *,
    study,
    actor,
    format: str,
    dataset: str = ANALYSIS,
    deidentify: bool = False,
    bom: bool = False,
    language: str,
    trigger: str = JobTrigger.ON_DEMAND,
) -> Job:
    """Ask for an export of the study's data (the formats and params contract: reports/exports/formats.py).

    A person must be a principal investigator or data manager of the study (403). Every bad option is a 400
    naming its field, all of them at once. An option that does not apply to the format is refused, not
    dropped, so nobody receives a file other than the one they asked for: `dataset` "long" with REDCap or
    ODM (their own layout: the default "analysis" is accepted and stored as None), `bom` outside CSV and
    REDCap. A de-identified export draws its salt here and keeps it in the job's params (never shown).
    """
    if actor is not None:
        require_report_role(actor, study)
    params = export_params(format=format, dataset=dataset, deidentify=deidentify, bom=bom, language=language)
    return job_request(study=study, kind=JobKind.EXPORT, params=params, actor=actor, trigger=trigger)


def export_params(*, format: str, dataset: str, deidentify: bool, bom: bool, language: str) -> dict:
    """The job's params for these options (reports/exports/formats.py), or a 400 naming every bad one; the
    one check of the pages, the API and `manage.py export`."""
    errors: dict[str, list[str]] = {}
    if format not in FORMATS:
        errors["format"] = [_("Unknown format: %(format)s.") % {"format": format}]
    if dataset not in DATASETS:
        errors["dataset"] = [_("Unknown dataset: %(dataset)s.") % {"dataset": dataset}]
    elif format in FORMATS and format not in TABULAR and dataset != ANALYSIS:
        errors["dataset"] = [
            _("%(format)s has its own layout: the dataset applies to CSV, Excel, Stata and SPSS only.")
            % {"format": FORMATS[format]}
        ]
    for name, value in (("deidentify", deidentify), ("bom", bom)):
        if not isinstance(value, bool):
            errors[name] = [_("Give true or false.")]
    if bom is True and format in FORMATS and format not in BOM_FORMATS:
        errors["bom"] = [_("The byte-order mark applies to CSV and REDCap files only.")]
    if language not in LANGUAGES:
        errors["language"] = [_("Unknown language: %(language)s.") % {"language": language}]
    if errors:
        raise InvalidInput(_("The request is not valid."), field_errors=errors)
    params = {
        "format": format,
        "dataset": dataset if format in TABULAR else None,
        "deidentify": deidentify,
        "bom": bom,
        "language": language,
    }
    if deidentify:
        params["salt"] = salt_new()  # per export: its hashes link to no other export's
    return params


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
