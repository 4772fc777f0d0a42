"""demo_write: a plan inserted in batches, as the screening and enrollment services would store it."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..models import Participant, ParticipantIdentity, Role, Screening, Site, SiteSequence, Study
from .marks import DEMO_EMAIL_DOMAIN
from .rows import DemoPlan

# 2,000 rows x 16 columns stays well under PostgreSQL's 65,535 bind parameters per statement and keeps a
# statement (and its RETURNING list) under a megabyte, while 56,000 participants with their screenings and
# identities still take only ~100 statements (each row also fires its pghistory trigger).
BATCH_SIZE = 2000


@dataclass(frozen=True)
class SeedResult:
    screenings: int
    participants: int
    plan: DemoPlan


def demo_write(*, study: Study, plan: DemoPlan, sites: Sequence[Site], staff: Mapping) -> SeedResult:
    """Insert a plan: screenings, participants, identities and the sites' sequences. Call in a transaction."""
    version = study.current_version
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
                consent_date=row.enrollment.consent_date,
                enrollment_date=row.enrollment.enrollment_date,
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
                    if row.enrollment.sequence % 5
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
