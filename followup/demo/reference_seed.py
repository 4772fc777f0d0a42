"""The demo's reference-standard readings, stored (seed_demo's stage, trial.hooks.demo_stages): for a study
whose protocol asks per-vertebra readings (`adjudication.cases: registered_levels`), the cases of its
registered demo participants, opened where missing, their readers and their e-signed verdicts
(reference.py plans them). Nothing for any other study.

Whatever registered the participants (trial's demo, or a demo login on the pages, whose registration opened
the cases already): they are read from the database. A case already read (a verdict in, or no longer open)
is left as it is, so a second run adds nothing.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from trial.audit import audit_context
from trial.bulk import bulk_insert
from trial.clock import site_today
from trial.demo import DEMO_COMMAND, DEMO_EMAIL_DOMAIN, DEMO_REASON, demo_inserted
from trial.hooks import DemoAdded
from trial.models import Participant, ParticipantStatus, Study

from ..models import AdjudicationCase, CaseAssignment, CaseOrigin, CaseStatus, Verdict
from ..question import study_question
from .reference import Vertebra, VertebraReading, reference_reading_plan
from .seeder import _loads, _readers
from .writer import with_reading_codes


@dataclass
class ReferenceSeedResult:
    asked: bool = False  # the protocol asks per-vertebra readings
    vertebrae: int = 0  # cases read in this run
    opened: int = 0  # of which opened here
    cases: Counter = field(default_factory=Counter)  # by status
    verdicts: int = 0


def _stamp(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _demo_participants(study: Study):
    """The study's registered participants that the demo made: inserted by seed_demo, or registered by a demo
    login (as demo_foreign_participants tells them from real ones)."""
    return Participant.objects.filter(
        Q(demo_inserted()) | Q(enrolled_by__email__iendswith=f"@{DEMO_EMAIL_DOMAIN}"),
        site__study=study,
        status=ParticipantStatus.ENROLLED,
    )


def _vertebrae(study: Study) -> list[Vertebra]:
    """Every registered vertebra of the demo participants still to be read: no case yet, or an open case with
    no verdict (with the readers already on it). Three queries."""
    rows = _demo_participants(study).values_list(
        "pk",
        "study_id",
        "group",
        "screening__fracture_levels",
        "site__code",
        "site__time_zone",
        "enrollment_date",
    )
    read = Verdict.objects.filter(case=OuterRef("pk"))
    cases = {
        (participant, level): (pk, status, has_verdict)
        for pk, participant, level, status, has_verdict in AdjudicationCase.objects.filter(
            participant__in=_demo_participants(study)
        )
        .annotate(read=Exists(read))
        .values_list("pk", "participant_id", "level", "status", "read")
    }
    assigned: dict[int, dict[str, int]] = {}
    for case_id, slot, reader in CaseAssignment.objects.filter(
        case__participant__in=_demo_participants(study), active=True
    ).values_list("case_id", "slot", "reader_id"):
        assigned.setdefault(case_id, {})[slot] = reader
    vertebrae = []
    for pk, study_id, group, levels, site, zone, registered in rows.order_by("pk"):
        for level in levels or ():
            case_id, status, has_verdict = cases.get((pk, level), (None, CaseStatus.OPEN, False))
            if status != CaseStatus.OPEN or has_verdict:
                continue
            vertebrae.append(
                Vertebra(
                    case=case_id,
                    participant=pk,
                    study_id=study_id,
                    group=group,
                    levels=tuple(levels),
                    level=level,
                    site=site,
                    time_zone=zone,
                    registered=registered,
                    assigned=assigned.get(case_id, {}),
                )
            )
    return vertebrae


def _case_columns(reading: VertebraReading) -> dict:
    return {
        "status": reading.status,
        "final_fracture": reading.final_fracture,
        "finalized_at": _stamp(reading.finalized_at),
        "updated_at": _stamp(reading.updated_at or reading.opened_at),
    }


def _write(readings: list[VertebraReading]) -> int:
    """Insert the cases not yet opened (dated by their registration), update the others, then insert the
    assignments and verdicts. Returns the number opened."""
    new = [r for r in readings if r.vertebra.case is None]
    ids = {
        (participant, level): case_id
        for case_id, participant, level in bulk_insert(
            AdjudicationCase,
            [
                {
                    "participant_id": r.vertebra.participant,
                    "level": r.vertebra.level,
                    "origin": CaseOrigin.REGISTRATION,
                    "location": "",
                    "created_at": r.opened_at.isoformat(),
                    **_case_columns(r),
                }
                for r in new
            ],
            returning=("id", "participant_id", "level"),
        )
    }
    case_of = {id(r): r.vertebra.case or ids[(r.vertebra.participant, r.vertebra.level)] for r in readings}
    changed = [
        AdjudicationCase(
            pk=r.vertebra.case,
            status=r.status,
            final_fracture=r.final_fracture,
            finalized_at=r.finalized_at,
            updated_at=r.updated_at or r.opened_at,
        )
        for r in readings
        if r.vertebra.case is not None and r.status != CaseStatus.OPEN
    ]
    AdjudicationCase.objects.bulk_update(changed, ["status", "final_fracture", "finalized_at", "updated_at"])
    assignments = [
        {
            "case_id": case_of[id(r)],
            "reader_id": reader,
            "slot": slot,
            "active": True,
            "assigned_at": at.isoformat(),
        }
        for r in readings
        for slot, (reader, at) in r.assigned.items()
    ]
    bulk_insert(CaseAssignment, with_reading_codes(assignments))
    slots = {
        (case_id, slot): pk
        for pk, case_id, slot in CaseAssignment.objects.filter(
            case_id__in=[case_of[id(r)] for r in readings if r.verdicts], active=True
        ).values_list("pk", "case_id", "slot")
    }
    verdicts = []
    for r in readings:
        for slot, verdict in r.verdicts.items():
            verdict = dict(verdict)
            verdicts.append(
                {
                    "case_id": case_of[id(r)],
                    "assignment_id": slots[(case_of[id(r)], slot)],
                    "reader_id": verdict.pop("reader"),
                    **verdict,
                    "signed_at": verdict["signed_at"].isoformat(),
                }
            )
    bulk_insert(Verdict, verdicts)
    return len(new)


def reference_seed(*, study: Study, seed: int, today: datetime.date | None = None) -> ReferenceSeedResult:
    """Read the registered vertebrae of the study's demo participants that are still to be read (nothing for
    a protocol that asks no per-vertebra readings); a second run adds nothing.

    Atomic and durable so that a failed seed leaves nothing behind; the study row is locked so that two
    seeders cannot read the same cases."""
    result = ReferenceSeedResult()
    with transaction.atomic(durable=True), audit_context(reason=DEMO_REASON, command=DEMO_COMMAND):
        study = (
            Study.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=study.pk)
        )
        if not study_question(study).per_registered_level:
            return result
        result.asked = True
        vertebrae = _vertebrae(study)
        if not vertebrae:
            return result
        today = today or min(site_today(site) for site in study.sites.all())
        readings = reference_reading_plan(
            vertebrae, readers=_readers(study), loads=_loads(), seed=seed, today=today
        )
        result.opened = _write(readings)
        result.vertebrae = len(readings)
        result.cases.update(r.status for r in readings)
        result.verdicts = sum(len(r.verdicts) for r in readings)
    return result


def reference_demo_stage(*, study: Study, seed: int) -> DemoAdded:
    """trial.hooks.demo_stages: the reference readings of a study whose protocol asks per-vertebra readings,
    with a line saying what was added."""
    added = reference_seed(study=study, seed=seed)
    if not added.asked:
        return DemoAdded(
            name="reference_standard", line=f"{study.code} reference standard: no per-vertebra readings asked"
        )
    if not added.vertebrae:
        return DemoAdded(
            name="reference_standard",
            line=f"{study.code} reference standard: nothing to read",
            counts={"reference_cases_read": 0},
        )
    states = ", ".join(
        f"{status} {added.cases[status]:,}" for status in CaseStatus.values if added.cases[status]
    )
    return DemoAdded(
        name="reference_standard",
        line=(
            f"{study.code} reference standard: {added.vertebrae:,} registered vertebrae read ({states}; "
            f"{added.opened:,} cases opened here) with {added.verdicts:,} verdicts"
        ),
        counts={"reference_cases_read": added.vertebrae, "reference_verdicts_added": added.verdicts},
    )
