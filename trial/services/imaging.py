"""Imaging exams: register a screening's exams from DICOM files and re-judge the screening with them, or a
participant's follow-up exams (the 12-month MRI), which a visit form then links (crf, field type `exam`).

Both read the files the same way (trial/dicom.py: headers only) and keep the same rules: no identity, UIDs
hashed, nothing dated after the site's today, a study (StudyInstanceUID) registered once per study (trial).
"""

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
from ..models import ImagingExam, Participant, ParticipantStatus, Role, Screening, Site
from ..models.site import SITE_STAFF_ROLES
from .screening import screening_judge

# Who registers exams: the site staff who screen at the site, and data managers (at the site or study-wide),
# who often load a centre's exams in bulk.
REGISTERING_ROLES = SITE_STAFF_ROLES | {Role.DATA_MANAGER}
FILES_FIELD = "files"
JUDGED_REASON = "imaging exams registered: verdict re-judged"
FOLLOW_UP_REASON = "follow-up imaging exams registered"
# A participant who withdrew or died has no exam after that date (no data is collected after a withdrawal).
CLOSED_STATUSES = {
    ParticipantStatus.WITHDRAWN: gettext_lazy(
        "The study date is after the participant's withdrawal (%(date)s)."
    ),
    ParticipantStatus.DIED: gettext_lazy("The study date is after the participant's death (%(date)s)."),
}


@dataclass
class Registered:
    """What a registration did: the exams saved, the files that gave none, the screening (as re-judged for a
    screening's exams), and the participant whose follow-up exams they are (None for a screening's)."""

    screening: Screening
    exams: list[ImagingExam] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    participant: Participant | None = None


def _refuse(problems: list[FileProblem], message: str) -> InvalidInput:
    lines = [f"{p.file}: {p.message}" for p in problems]
    return InvalidInput(message, field_errors={FILES_FIELD: lines or [message]})


def _dated_after(exams: list[ExamHeader], day, message: str) -> list[FileProblem]:
    return [FileProblem(name, message) for exam in exams if exam.study_date > day for name in exam.files]


def _read(site: Site, paths: Iterable[Path], files: Iterable[Source]) -> tuple[list[ExamHeader], list]:
    """The exams of the files (400 when none, or one dated after the site's today), and the files that made
    none. Read before any lock: reading files is slow."""
    headers, problems = read_exams([*sources_from_paths(paths), *files])
    message = _("The study date is after today at the site: check the scanner's clock.")
    future = _dated_after(headers, site_today(site), message)
    if future:
        raise _refuse(future, _("An exam is dated in the future."))
    if not headers:
        raise _refuse(problems, _("No file makes an imaging exam."))
    return headers, problems


def _save(headers: list[ExamHeader], *, screening: Screening, participant: Participant | None, actor) -> list:
    """The exams saved for the screening (and the participant, for follow-up exams); a study already
    registered in the study (trial) refuses them all (400). Inside the caller's transaction and lock."""
    hashes = {uid_hash(h.study_uid): h for h in headers}
    taken = ImagingExam.objects.filter(study=screening.study, study_uid_hash__in=hashes).values_list(
        "study_uid_hash", "screening_id", "participant_id"
    )
    if taken:
        raise _refuse(
            [_duplicate(hashes[digest], case=case, owner=owner, participant=participant, screening=screening)
             for digest, case, owner in taken],
            _("A study in these files is already registered."),
        )  # fmt: skip
    try:
        with transaction.atomic():  # a concurrent registration of the same study: refused, not a 500
            return ImagingExam.objects.bulk_create(
                [
                    _exam(header, screening=screening, participant=participant, actor=actor)
                    for header in headers
                ]
            )
    except IntegrityError:
        raise Conflict(
            _("The same study was registered at the same moment; reload and look again."),
            code="imaging_duplicate",
        ) from None


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
    headers, problems = _read(screening.site, paths, files)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=JUDGED_REASON):
        screening = (
            Screening.objects.select_for_update(of=("self",))
            .select_related("site", "protocol_version", "study")
            .get(pk=screening.pk)
        )
        exams = _save(headers, screening=screening, participant=None, actor=actor)
        _rejudge(screening)
        return Registered(screening=screening, exams=exams, problems=problems)


def participant_exams_register(
    *, actor, participant: Participant, paths: Iterable[Path] = (), files: Iterable[Source] = ()
) -> Registered:
    """Register a participant's follow-up exams (one per StudyInstanceUID) from DICOM files, as
    imaging_exams_register does a screening's: the same reading, rules and 400s.

    They belong to the participant (and their screening's case) and never count in its eligibility; a visit
    form links one of them (crf, type `exam`). An exam dated after a withdrawal or a death is refused.
    Atomic under the participant's row lock, so that a registration and a status change (a withdrawal) do
    not interleave: the status is judged as it is under the lock.
    """
    require_role_at(actor, participant.site, REGISTERING_ROLES, gettext_lazy("register imaging exams"))
    headers, problems = _read(participant.site, paths, files)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=FOLLOW_UP_REASON):
        participant = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("site", "screening__study")
            .get(pk=participant.pk)
        )
        closed = CLOSED_STATUSES.get(participant.status)
        if closed and participant.status_date:
            late = _dated_after(headers, participant.status_date, closed % {"date": participant.status_date})
            if late:
                raise _refuse(late, _("An exam is dated after the participant's follow-up ended."))
        exams = _save(headers, screening=participant.screening, participant=participant, actor=actor)
        return Registered(
            screening=participant.screening, exams=exams, problems=problems, participant=participant
        )


def _duplicate(header: ExamHeader, *, case: int, owner: int | None, participant, screening) -> FileProblem:
    """Says only whether the study is this case's: another case's number would tell another site's staff that
    it exists."""
    if participant is not None and owner == participant.pk:
        message = _("This study is already registered for this participant.")
    elif case == screening.pk and owner is None:
        message = (
            _("This study is already registered for this screening.")
            if participant is None
            else _("This study is already registered for this participant's screening.")
        )
    elif case == screening.pk:
        message = _("This study is already registered as a follow-up exam of this case.")
    else:
        message = _("This study is already registered for another case of the study.")
    return FileProblem(", ".join(header.files), message)


def _exam(header: ExamHeader, *, screening: Screening, participant: Participant | None, actor) -> ImagingExam:
    return ImagingExam(
        screening=screening,
        participant=participant,
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
