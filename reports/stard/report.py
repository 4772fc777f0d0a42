"""Asking for the accuracy report (a job), building it (data, figures, PDF or JSON), and the job's runner.

The job, the command line and the tests all go through `accuracy_report_build`, so they give the same
report. A job makes one file, as its `format` asks: the PDF (default) or the JSON (the figures, every
estimate with its interval); the command line writes both.
"""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from followup.question import question_from
from trial.errors import Conflict, InvalidInput
from trial.i18n import LANGUAGES
from trial.models import Study

from ..access import require_report_role
from ..interim import generator_name
from ..jobs import JobOutput, job_request
from ..models import Job, JobKind, JobTrigger
from .data import accuracy_data_read
from .figures import INTERVALS, accuracy_figures

FORMATS = ("pdf", "json")
STEPS = ("read", "statistics", "render")  # what the job's progress counts through


def accuracy_offered(study: Study) -> bool:
    """Whether the study's protocol analyses vertebrae with model outputs (`design.unit: vertebra`) against a
    reference standard read per registered vertebra (`adjudication.cases: registered_levels`): the studies
    the accuracy report is for."""
    version = study.current_version
    if version is None or (version.definition.get("design") or {}).get("unit") != "vertebra":
        return False
    return question_from(version.definition.get("adjudication")).per_registered_level


def accuracy_params(*, language: str, interval: str, format: str) -> dict:
    """The job's params, or a 400 naming every bad option."""
    errors: dict[str, list[str]] = {}
    if language not in LANGUAGES:
        errors["language"] = [_("Unknown language: %(language)s.") % {"language": language}]
    if interval not in INTERVALS:
        errors["interval"] = [_("Unknown interval: %(interval)s.") % {"interval": interval}]
    if format not in FORMATS:
        errors["format"] = [_("Unknown format: %(format)s.") % {"format": format}]
    if errors:
        raise InvalidInput(_("The request is not valid."), field_errors=errors)
    return {"language": language, "interval": interval, "format": format}


def _require_accuracy_study(study: Study) -> None:
    if not accuracy_offered(study):
        raise Conflict(
            _("Study %(study)s does not analyse vertebrae with model outputs: it has no accuracy report.")
            % {"study": study.code},
            code="not_an_accuracy_study",
        )


def accuracy_report_request(
    *,
    study: Study,
    actor,
    language: str,
    interval: str = "wilson",
    format: str = "pdf",
    trigger: str = JobTrigger.ON_DEMAND,
) -> Job:
    """Ask for the study's accuracy report. Only its study-wide principal investigators and data managers
    (403); a study whose protocol does not analyse vertebrae is a 409; a bad option a 400 naming it."""
    if actor is not None:
        require_report_role(actor, study)
    _require_accuracy_study(study)
    params = accuracy_params(language=language, interval=interval, format=format)
    return job_request(study=study, kind=JobKind.ACCURACY_REPORT, params=params, actor=actor, trigger=trigger)


@dataclass(frozen=True)
class AccuracyReport:
    figures: dict
    pdf: bytes | None

    @property
    def json(self) -> bytes:
        """The figures as UTF-8 JSON (keys sorted, never NaN)."""
        return json.dumps(
            self.figures, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False
        ).encode()


def accuracy_report_build(
    *,
    study: Study,
    language: str,
    interval: str = "wilson",
    generated_by: str,
    pdf: bool = True,
    progress: Callable[[str], None] = lambda step: None,
) -> AccuracyReport:
    """The accuracy report of `study` now: its figures, and its PDF in `language` unless `pdf` is False."""
    from ..pdf.stard import accuracy_render  # reportlab is loaded by the runs that draw

    _require_accuracy_study(study)
    progress("read")
    data = accuracy_data_read(study=study)
    progress("statistics")
    figures = accuracy_figures(
        data, interval=interval, generated_by=generated_by, generated_at=timezone.now()
    )
    progress("render")
    return AccuracyReport(figures=figures, pdf=accuracy_render(figures, language=language) if pdf else None)


def accuracy_report_run(job: Job, progress) -> JobOutput:
    """The job runner (reports/jobs.py): the report the job's params ask for, as a PDF or JSON."""
    params = job.params  # set by accuracy_report_request
    wants_pdf = params.get("format", "pdf") == "pdf"
    report = accuracy_report_build(
        study=job.study,
        language=params["language"],
        interval=params.get("interval", "wilson"),
        generated_by=generator_name(job.requested_by),
        pdf=wants_pdf,
        progress=lambda step: progress(step, STEPS.index(step), len(STEPS)),
    )
    at = datetime.datetime.fromisoformat(report.figures["generated"]["at"])
    stem = f"{job.study.code}_accuracy_{at:%Y%m%dT%H%M%SZ}"
    if wants_pdf:
        return JobOutput(
            content=report.pdf, file_name=f"{stem}_{params['language']}.pdf", content_type="application/pdf"
        )
    return JobOutput(content=report.json, file_name=f"{stem}.json", content_type="application/json")
