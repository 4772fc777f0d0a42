"""Re-fracture adjudication cases opened by a follow-up MRI reporting a new non-operated fracture.

Which rows open a case is data: the form's `adjudication` declaration (crf/forms/FORMAT.md), e.g. the
follow-up MRI's rows with a new fracture whose derived relation is adjacent or remote (a treated level's
recollapse is excluded). **One case per participant and level:** each record reporting the level is a piece of
evidence of that case (an M12 MRI re-reporting a fracture first seen at an unscheduled visit joins it), never
a second case. Evidence is recorded on every save, a draft too, so that the coordinator cannot forget it and
the committee sees it early; a record that stops reporting the level withdraws its evidence, and a case left
with none is cancelled, its history kept (services/cases.py). Only complete forms send a case to review:
its readers are assigned when a record that supports it is no longer a draft (services/assignment.py).
"""

import datetime

from django.utils import timezone

from crf.models import FormStatus

from ..models import AdjudicationCase, CaseEvidence, CaseStatus, FractureLocation, Visit
from .assignment import INDEPENDENT, readers_fill
from .cases import cases_settle


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


def _cases(record, levels, reported, exam_date) -> dict[str, AdjudicationCase]:
    """The participant's cases at these levels by level, under their row locks; the missing ones opened.

    Another record of the participant may open the same level at the same moment: the insert skips a row
    that the other wrote first (the unique participant-and-level constraint), and the read that follows
    locks whichever exists."""
    found = AdjudicationCase.objects.filter(participant_id=record.participant_id, level__in=levels)
    missing = set(reported) - set(found.values_list("level", flat=True))
    if missing:
        visit_id = _visit_id(record)
        AdjudicationCase.objects.bulk_create(
            [
                AdjudicationCase(
                    participant_id=record.participant_id,
                    record=record,
                    visit_id=visit_id,
                    level=level,
                    location=reported[level],
                    exam_date=exam_date,
                )
                for level in sorted(missing)
            ],
            ignore_conflicts=True,
        )
    locked = found.select_for_update(of=("self",)).select_related("participant__site").order_by("pk")
    return {case.level: case for case in locked}


def adjudication_sync(*, record, form) -> None:
    """Record this MRI record's evidence for each level it reports; withdraw the evidence of the levels it no
    longer reports; settle the cases touched (open, cancelled, opened again); send those it supports to their
    readers once the record is complete.

    Runs inside the caller's transaction (crf_save, crf_complete, a procedure change that moves a derived
    relation), with the record's row locked by it. Idempotent: a second call with the same data changes
    nothing. Returns at once, with no query, for a form that declares no adjudication, and after one query
    (its evidence) for a draft whose evidence is unchanged or a record that reports nothing and never did.
    """
    if form is None or form.adjudication is None:
        return
    reported = _reported(record, form)
    exam_date = _exam_date(record, form)
    evidence = {e.case.level: e for e in CaseEvidence.objects.filter(record=record).select_related("case")}
    now = timezone.now()
    new, changed = [], []
    for level, location in reported.items():
        item = evidence.get(level)
        if item is None:
            new.append((level, CaseEvidence(record=record, exam_date=exam_date, location=location)))
        elif (item.location, item.exam_date, item.active) != (location, exam_date, True):
            item.location, item.exam_date, item.active, item.withdrawn_at = location, exam_date, True, None
            changed.append(item)
    for level, item in evidence.items():
        if level not in reported and item.active:
            item.active, item.withdrawn_at = False, now
            changed.append(item)
    if not new and not changed and (record.status == FormStatus.DRAFT or not reported):
        return
    cases = _cases(record, set(reported) | set(evidence), reported, exam_date)
    for level, item in new:
        item.case = cases[level]
    if new:
        CaseEvidence.objects.bulk_create([item for _level, item in new])
    if changed:
        CaseEvidence.objects.bulk_update(changed, ["location", "exam_date", "active", "withdrawn_at"])
    cases_settle(list(cases.values()))
    if record.status != FormStatus.DRAFT:
        # Only a complete MRI form goes to review: the open cases it supports get their two readers now (a
        # case from a draft waits, unread, until then). No eligible reader must not stop the form being
        # completed: the slot stays empty for the data manager.
        for level in reported:
            if cases[level].status == CaseStatus.OPEN:
                readers_fill(cases[level], INDEPENDENT, strict=False)
