"""The interim report: a study's data cut captured once (or reused), its figures, and the PDF drawn from
them in the reader's language. Run by the worker as a job (reports/jobs.py) or by `manage.py
interim_report`; both go through `report_build`, so the command line and the pages give the same report.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trial.errors import Conflict, InvalidInput
from trial.models import Study

from .dataset import dataset_capture, dataset_load
from .figures import SECTIONS, figures_compute
from .jobs import JobOutput
from .models import DataCut
from .pdf import report_render

STEPS = ("capture", *SECTIONS, "render")  # what the job's progress counts through


@dataclass(frozen=True)
class Report:
    pdf: bytes
    cut: DataCut
    figures: dict


def cut_time(value: datetime.datetime | None) -> datetime.datetime:
    """The cut asked for, to the second (it is quoted on the report and typed back on the command line);
    now when none. A cut in the future is refused: it would describe data that does not exist yet."""
    now = timezone.now()
    cut = (value or now).astimezone(datetime.UTC).replace(microsecond=0)
    if cut > now:
        raise InvalidInput(
            _("The data cut cannot be in the future."), field_errors={"cut": [_("Choose a time up to now.")]}
        )
    return cut


def data_cut_get_or_capture(
    *, study: Study, cut_at: datetime.datetime, actor=None, load: bool = True
) -> tuple[DataCut, dict | None]:
    """The study's stored cut at `cut_at`, or a new one captured now: (the row, its dataset; None unless
    `load`: an export needs the cut's hash, not its dataset in memory).

    Captured once: a second request for the same time reads the stored bytes, so it gives the same hash and
    the same numbers whatever changed since. Two workers capturing the same new cut at once: the unique
    constraint keeps the first, and the second reads it."""
    stored = DataCut.objects.filter(study=study, cut_at=cut_at).first()
    if stored is not None:
        return stored, dataset_load(stored.content) if load else None
    captured = dataset_capture(study=study, cut_at=cut_at)
    try:
        # Atomic so that a lost race rolls back only this insert, then the winner's row is read.
        with transaction.atomic():
            stored = DataCut.objects.create(
                study=study,
                cut_at=cut_at,
                sha256=captured.sha256,
                content=captured.compressed,
                size=captured.size,
                protocol_version=captured.protocol_version,
                created_by=actor,
            )
    except IntegrityError:
        stored = DataCut.objects.get(study=study, cut_at=cut_at)
        return stored, dataset_load(stored.content) if load else None
    return stored, captured.dataset if load else None


def generator_name(user) -> str:
    """How the report names who generated it: full name and username, or "scheduled" for the beat."""
    if user is None:
        return "scheduled"  # translated by the PDF, in the reader's language
    full = user.get_full_name().strip()
    return f"{full} ({user.get_username()})" if full else user.get_username()


def report_build(
    *,
    study: Study,
    language: str,
    cut_at: datetime.datetime | None = None,
    actor=None,
    generated_by: str | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> Report:
    """The interim report of `study` at `cut_at` (now when None) in `language`; `progress` is told each
    step of STEPS as it starts. The report names `generated_by`, or else the actor (the beat when None)."""
    if not study.current_version_id:
        raise Conflict(
            _("Study %(study)s has no protocol loaded.") % {"study": study.code}, code="no_protocol"
        )
    cut_at = cut_time(cut_at)
    progress("capture")
    cut, dataset = data_cut_get_or_capture(study=study, cut_at=cut_at, actor=actor)
    figures = figures_compute(
        dataset,
        sha256=cut.sha256,
        generated_by=generated_by or generator_name(actor),
        generated_at=timezone.now(),
        progress=progress,
    )
    progress("render")
    return Report(pdf=report_render(figures, language=language), cut=cut, figures=figures)


def interim_report_run(job, progress) -> JobOutput:
    """The job runner (reports/jobs.py): the report the job's parameters ask for, step by step."""
    language = job.params["language"]  # set by every request (services.interim_report_request)
    cut = job.params.get("cut")
    report = report_build(
        study=job.study,
        language=language,
        cut_at=datetime.datetime.fromisoformat(cut) if cut else job.created_at,
        actor=job.requested_by,
        progress=lambda step: progress(step, STEPS.index(step), len(STEPS)),
    )
    at = report.cut.cut_at.astimezone(datetime.UTC)
    return JobOutput(
        content=report.pdf,
        file_name=f"{job.study.code}_interim_{at:%Y%m%dT%H%M%SZ}_{language}.pdf",
        content_type="application/pdf",
        cut_id=report.cut.pk,
    )
