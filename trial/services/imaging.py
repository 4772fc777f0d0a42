"""Imaging exams: register a screening's exams from DICOM files and re-judge the screening with them."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..access import require_role_at
from ..audit import audit_context
from ..clock import site_today
from ..dicom import ExamHeader, FileProblem, Source, read_exams, sources_from_paths
from ..errors import Conflict, InvalidInput
from ..imaging import uid_hash
from ..models import ImagingExam, Participant, Role, Screening
from ..models.site import SITE_STAFF_ROLES
from .screening import screening_judge

# Who registers exams: the site staff who screen at the site, and data managers (at the site or study-wide),
# who often load a centre's exams in bulk.
REGISTERING_ROLES = SITE_STAFF_ROLES | {Role.DATA_MANAGER}
FILES_FIELD = "files"
JUDGED_REASON = "imaging exams registered: verdict re-judged"


@dataclass
class Registered:
    """What a registration did: the exams saved, the files that gave none, the screening as re-judged."""

    screening: Screening
    exams: list[ImagingExam] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)


def _refuse(problems: list[FileProblem], message: str) -> InvalidInput:
    lines = [f"{p.file}: {p.message}" for p in problems]
    return InvalidInput(message, field_errors={FILES_FIELD: lines or [message]})


def _dated_after_today(exams: list[ExamHeader], screening: Screening) -> list[FileProblem]:
    today = site_today(screening.site)
    return [
        FileProblem(name, _("The study date is after today at the site: check the scanner's clock."))
        for exam in exams
        if exam.study_date > today
        for name in exam.files
    ]


def imaging_exams_register(
    *, actor, screening: Screening, paths: Iterable[Path] = (), files: Iterable[Source] = ()
) -> Registered:
    """Register the exams that DICOM files make up (one per StudyInstanceUID) for a screening; re-judge it.

    `paths`: files and folders (walked) on this machine (the command); `files`: (name, open binary file)
    pairs (an upload).

    Files that are not DICOM, or unreadable, are left out with a message each; if no file makes an exam, or
    a study is already registered in the study (trial), nothing is saved (400 naming `files`). The screening
    is re-judged with its exams (its imaging rule turns from unknown to met or not) unless it is enrolled.
    Atomic under the screening's row lock, so that a registration, a correction and an enrollment of the
    same screening do not interleave.
    """
    require_role_at(actor, screening.site, REGISTERING_ROLES, gettext_lazy("register imaging exams"))
    # Read before the lock: reading files is slow.
    headers, problems = read_exams([*sources_from_paths(paths), *files])
    future = _dated_after_today(headers, screening)
    if future:
        raise _refuse(future, _("An exam is dated in the future."))
    if not headers:
        raise _refuse(problems, _("No file makes an imaging exam."))
    hashes = {uid_hash(h.study_uid): h for h in headers}
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=JUDGED_REASON):
        screening = (
            Screening.objects.select_for_update(of=("self",))
            .select_related("site", "protocol_version", "study")
            .get(pk=screening.pk)
        )
        taken = ImagingExam.objects.filter(study=screening.study, study_uid_hash__in=hashes).values_list(
            "study_uid_hash", "screening_id"
        )
        if taken:
            raise _refuse(
                [_duplicate(hashes[digest], own=owner == screening.pk) for digest, owner in taken],
                _("A study in these files is already registered."),
            )
        try:
            with transaction.atomic():  # a concurrent registration of the same study: refused, not a 500
                exams = ImagingExam.objects.bulk_create(
                    [_exam(header, screening=screening, actor=actor) for header in headers]
                )
        except IntegrityError:
            raise Conflict(
                _("The same study was registered at the same moment; reload and look again."),
                code="imaging_duplicate",
            ) from None
        _rejudge(screening)
        return Registered(screening=screening, exams=exams, problems=problems)


def _duplicate(header: ExamHeader, *, own: bool) -> FileProblem:
    # Only whether it is this screening's: another case's number would tell another site's staff it exists.
    message = (
        _("This study is already registered for this screening.")
        if own
        else _("This study is already registered for another case of the study.")
    )
    return FileProblem(", ".join(header.files), message)


def _exam(header: ExamHeader, *, screening: Screening, actor) -> ImagingExam:
    return ImagingExam(
        screening=screening,
        study=screening.study,
        study_uid_hash=uid_hash(header.study_uid),
        series_uid_hashes=sorted(uid_hash(uid) for uid in header.series_uids),
        modality=header.modality[:16],
        study_date=header.study_date,
        body_parts=[part[:16] for part in header.body_parts],
        slice_thickness=header.slice_thickness,
        manufacturer=header.manufacturer,
        series_count=len(header.series_uids),
        registered_by=actor,
        registered_at=timezone.now(),
    )


def _rejudge(screening: Screening) -> None:
    """The verdict with the exams, saved (and so audited) when it changed; an enrolled screening keeps the
    verdict it was enrolled under."""
    if Participant.objects.filter(screening=screening).exists():
        return
    verdict = screening_judge(screening)
    new = (verdict.outcome, verdict.failed, verdict.missing)
    if new == (screening.outcome, screening.failed_criteria, screening.missing_criteria):
        return
    screening.outcome, screening.failed_criteria, screening.missing_criteria = new
    screening.save(update_fields=["outcome", "failed_criteria", "missing_criteria", "updated_at"])
