"""demo_write: a plan inserted in batches, as the screening, enrollment and imaging services store it."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from ..imaging import uid_hash
from ..models import (
    ImagingExam,
    Participant,
    ParticipantIdentity,
    Role,
    Screening,
    Site,
    SiteSequence,
    Study,
)
from .marks import DEMO_EMAIL_DOMAIN
from .rows import DemoPlan, ExamRow

# 2,000 rows x 16 columns stays well under PostgreSQL's 65,535 bind parameters per statement and keeps a
# statement (and its RETURNING list) under a megabyte, while 56,000 participants with their screenings and
# identities still take only ~100 statements (each row also fires its pghistory trigger).
BATCH_SIZE = 2000


@dataclass(frozen=True)
class SeedResult:
    screenings: int
    participants: int
    plan: DemoPlan


def _uid() -> str:
    """A synthetic DICOM UID: the UUID-derived form (2.25.<the UUID as an integer>, DICOM PS3.5 B.2), new on
    every call, so that no two demo exams share one whatever the seed."""
    return f"2.25.{uuid.uuid4().int}"


def _exam(exam: ExamRow, *, screening: Screening, user) -> ImagingExam:
    """An exam as imaging_exams_register stores it from a header: the UIDs only as keyed hashes."""
    return ImagingExam(
        screening=screening,
        study_id=screening.study_id,
        study_uid_hash=uid_hash(_uid()),
        series_uid_hashes=sorted(uid_hash(_uid()) for _ in range(exam.series_count)),
        modality=exam.modality,
        study_date=exam.study_date,
        body_parts=list(exam.body_parts),
        slice_thickness=Decimal(exam.slice_thickness),
        manufacturer=exam.manufacturer,
        series_count=exam.series_count,
        registered_by=user,
        registered_at=timezone.now(),
    )


def demo_write(*, study: Study, plan: DemoPlan, sites: Sequence[Site], staff: Mapping) -> SeedResult:
    """Insert a plan: screenings with their imaging exams, participants (a registration where the protocol
    waives consent), identities and the sites' sequences. Call in a transaction."""
    version = study.current_version
    waived = version.retrospective
    by_code = {site.code: site for site in sites}
    screenings = Screening.objects.bulk_create(
        (
            Screening(
                study=study,
                protocol_version=version,
                site=by_code[row.site],
                screening_date=row.screening_date,
                age=row.age,
                sex=row.sex,
                fracture_levels=list(row.fracture_levels),
                answers=row.answers,
                outcome=row.outcome,
                failed_criteria=list(row.failed),
                missing_criteria=list(row.missing),
                notes=row.notes,
                not_enrolled_reason=row.not_enrolled_reason,
                screened_by=staff[(row.screener, row.site)],
            )
            for row in plan.screenings
        ),
        batch_size=BATCH_SIZE,
    )
    # Registered by whoever screened the case (site staff may register exams, as data managers may).
    ImagingExam.objects.bulk_create(
        (
            _exam(exam, screening=screening, user=staff[(row.screener, row.site)])
            for row, screening in zip(plan.screenings, screenings, strict=True)
            for exam in row.exams
        ),
        batch_size=BATCH_SIZE,
    )
    enrolled = [
        (row, screening) for row, screening in zip(plan.screenings, screenings, strict=True) if row.enrollment
    ]
    participants = Participant.objects.bulk_create(
        (
            Participant(
                site=screening.site,
                screening=screening,
                study_id=row.enrollment.study_id,
                sequence=row.enrollment.sequence,
                consent_date=None if waived else row.enrollment.consent_date,
                consent_waived=waived,
                enrollment_date=row.enrollment.enrollment_date,
                group=row.enrollment.group,
                status=row.enrollment.status,
                status_date=row.enrollment.status_date,
                status_reason=row.enrollment.status_reason,
                enrolled_by=staff[(Role.COORDINATOR, row.site)],
            )
            for row, screening in enrolled
        ),
        batch_size=BATCH_SIZE,
    )
    ParticipantIdentity.objects.bulk_create(
        (
            ParticipantIdentity(
                participant=participant,
                full_name=row.enrollment.full_name,
                phone=row.enrollment.phone,
                hospital_record_number=row.enrollment.hospital_record_number,
                # Reminders' contacts, from the sequence (no draw, so the plan's random streams are
                # unchanged): four in five have an e-mail address, one in seven reads English.
                email=(
                    f"patient-{row.enrollment.study_id}@{DEMO_EMAIL_DOMAIN}"
                    if row.enrollment.sequence % 5 and not waived  # a retrospective case is never contacted
                    else ""
                ),
                contact_language="en" if row.enrollment.sequence % 7 == 0 else "zh-hans",
            )
            for (row, _screening), participant in zip(enrolled, participants, strict=True)
        ),
        batch_size=BATCH_SIZE,
    )
    last = {}
    for row, _screening in enrolled:
        last[row.site] = max(last.get(row.site, 0), row.enrollment.sequence)
    for code, number in last.items():
        SiteSequence.objects.update_or_create(site=by_code[code], defaults={"last_number": number})
    return SeedResult(screenings=len(screenings), participants=len(participants), plan=plan)
