"""Re-fracture adjudication cases: opened by a follow-up MRI reporting a new non-operated fracture.

Which rows open a case is data: the form's `adjudication` declaration (crf/forms/FORMAT.md), e.g. the
follow-up MRI's rows with a new fracture whose derived relation is adjacent or remote (a treated level's
recollapse is excluded). A case opens on every save that reports the fracture, a draft too, so that the
coordinator cannot forget it and the adjudication committee sees it early; it is cancelled when the MRI no
longer reports it (a correction, a level renamed, the procedure's levels changed) and opened again if it comes
back. Once the MRI form is complete (no longer a draft), each open case gets its two readers
(services/assignment.py).
"""

import datetime

from django.utils import timezone

from crf.models import FormStatus

from ..models import AdjudicationCase, CaseStatus, FractureLocation, Visit
from .assignment import INDEPENDENT, readers_fill


def _reported(record, form) -> dict[str, str]:
    """{level: location} of the rows that open a case."""
    spec = form.adjudication
    group = form.group(spec.group)
    reported = {}
    for row in record.data.get(spec.group) or []:
        if row.get(spec.when.code) != spec.when.equals:
            continue
        location = row.get(spec.location)
        # A location not yet known (no procedure data to derive it from) opens nothing until it is known.
        if location in FractureLocation.values and location not in spec.exclude:
            reported[str(row.get(group.key))] = location
    return reported


def _exam_date(record, form) -> datetime.date | None:
    value = record.data.get(form.adjudication.date) if form.adjudication.date else None
    return datetime.date.fromisoformat(value) if isinstance(value, str) else None


def _visit_id(record) -> int | None:
    """The visit a visit-level record was collected at (crf names it by code)."""
    if not record.visit_code:
        return None
    return (
        Visit.objects.filter(participant_id=record.participant_id, code=record.visit_code)
        .values_list("pk", flat=True)
        .first()
    )


def adjudication_sync(*, record, form) -> None:
    """Open a case per new non-operated fracture; cancel those no longer reported; reopen those back again.

    Runs inside the caller's transaction (crf_save, crf_complete, a procedure change that moves a derived
    relation), with the record's row locked by it. Idempotent: the cases are unique per record and level, and
    a second call with the same data changes nothing. Returns at once, with no query, for a form that declares
    no adjudication. On a draft, four queries at most: the record's cases, its visit (for a new case), one
    insert, one update; on a complete form, a few more per open case (its readers).
    """
    if form is None or form.adjudication is None:
        return
    reported = _reported(record, form)
    exam_date = _exam_date(record, form)
    cases = {case.level: case for case in AdjudicationCase.objects.filter(record=record)}
    now = timezone.now()
    new, changed = [], []
    visit_id = _visit_id(record) if set(reported) - set(cases) else None
    for level, location in reported.items():
        case = cases.get(level)
        if case is None:
            new.append(
                AdjudicationCase(
                    participant_id=record.participant_id,
                    record=record,
                    visit_id=visit_id,
                    level=level,
                    location=location,
                    exam_date=exam_date,
                )
            )
        elif (case.location, case.exam_date, case.status) != (location, exam_date, CaseStatus.OPEN):
            case.location, case.exam_date, case.status, case.updated_at = (
                location,
                exam_date,
                CaseStatus.OPEN,
                now,
            )
            changed.append(case)
    for level, case in cases.items():
        if level not in reported and case.status != CaseStatus.CANCELLED:
            case.status, case.updated_at = CaseStatus.CANCELLED, now
            changed.append(case)
    if new:
        AdjudicationCase.objects.bulk_create(new)
    if changed:
        AdjudicationCase.objects.bulk_update(changed, ["location", "exam_date", "status", "updated_at"])
    if record.status != FormStatus.DRAFT:
        # Only a complete MRI form goes to review: its open cases get their two readers now (a case from a
        # draft waits, unread, until then). No eligible reader must not stop the form being completed: the
        # slot stays empty for the data manager. The record's row lock (the caller's) orders these writes.
        for case in [*cases.values(), *new]:
            if case.status == CaseStatus.OPEN:
                readers_fill(case, INDEPENDENT, strict=False)
