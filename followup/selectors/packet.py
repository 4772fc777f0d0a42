"""What a blinded adjudicator reads: their queue and a case's packet.

Blinding (FDA 2018 imaging-endpoint process; TRIPOD; STARD 2015 items 13a and 13b): a reader sees the case by
their own reading code (followup/reading_codes.py) and its level, in the order of their codes, never by its
number or the date it was opened (both follow the order of registration, which can be the reference group's);
never the participant's study ID (it names the site), the site, its staff or the site's own
classification and grade of the fracture; of the participant's forms, only the fields each form's `packet`
declares (crf/forms/FORMAT.md): the imaging findings of every MRI, the exam dates, the treated levels and the
procedure date; of the imaging exams registered from DICOM headers (trial.ImagingExam), the modality, date,
body part and number of series, never a UID. Never the baseline PDFF, R2* or clinical risk factors, the
case's registration group (the clinical diagnosis a reference standard is read blind to) or any index test's
output (followup never reads reports). The question asked is the protocol's (followup/question.py). A reader
sees the other reader's verdict only once both are in; the third reader sees both.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from crf.engine.definitions import form_definitions
from crf.engine.validate import relation_to
from crf.models import FormRecord, FormStatus
from trial.i18n import localized
from trial.levels import is_level
from trial.models import ImagingExam, Participant

from ..models import AdjudicationCase, CaseAssignment, CaseEvidence, CaseStatus, ReaderSlot, Verdict, Visit
from ..question import CASE_SECTION, case_question
from ..reading_codes import reading_code_parsed


class Bucket:
    """Where a case stands for one reader (the queue's tabs)."""

    AWAITING_ME = "awaiting_me"
    AWAITING_OTHER = "awaiting_other"
    AWAITING_TIEBREAK = "awaiting_tiebreak"
    FINAL = "final"
    ALL = (AWAITING_ME, AWAITING_OTHER, AWAITING_TIEBREAK, FINAL)


def reader_cases(*, user) -> QuerySet:
    """The cases assigned to the reader (an active assignment; cancelled cases leave the queue), each with
    `my_slot`, `reading_code`, `bucket` and its study's `adjudication_section` (followup/question.py), in the
    order of the reader's codes (random: it says nothing of when or why a case was opened). No participant,
    site or location is read."""
    mine = CaseAssignment.objects.filter(case=OuterRef("pk"), reader=user, active=True)
    read = Verdict.objects.filter(case=OuterRef("pk"), reader=user, round=OuterRef("round"))
    independent = list(map(str, (ReaderSlot.FIRST, ReaderSlot.SECOND)))
    return (
        AdjudicationCase.objects.filter(Exists(mine))
        .exclude(status=CaseStatus.CANCELLED)
        .annotate(
            my_slot=Subquery(mine.values("slot")[:1]),
            reading_code=Subquery(mine.values("reading_code")[:1]),
            my_read=Exists(read),
        )
        .annotate(
            bucket=Case(
                When(status=CaseStatus.FINAL, then=Value(Bucket.FINAL)),
                When(status=CaseStatus.OPEN, my_read=True, then=Value(Bucket.AWAITING_OTHER)),
                When(
                    status=CaseStatus.DISPUTED, my_slot__in=independent, then=Value(Bucket.AWAITING_TIEBREAK)
                ),
                default=Value(Bucket.AWAITING_ME),
            ),
            adjudication_section=CASE_SECTION,
        )
        .only("id", "participant_id", "level", "round", "status", "exam_date", "updated_at")
        .order_by("reading_code")
    )


def reader_case(*, user, code: str) -> QuerySet:
    """The reader's case that their reading code names (`reader_cases`, filtered): empty for a code that is
    not theirs, or not one. The code of an ended assignment names nothing."""
    code = reading_code_parsed(code) or ""
    mine = CaseAssignment.objects.filter(case=OuterRef("pk"), reader=user, active=True, reading_code=code)
    return reader_cases(user=user).filter(Exists(mine))


INDEPENDENT = (ReaderSlot.FIRST, ReaderSlot.SECOND)


def reader_bucket(*, user, bucket: str) -> QuerySet:
    """The reader's cases in one bucket (the queue's tab), in the order of the reader's codes, each with
    `my_slot`, `reading_code`, `bucket` and its study's `adjudication_section`.

    Each tab is a filter on the case's status and the reader's own assignment row, joined once: a reader's
    finished cases (most of them, in a long study) cost no per-row subquery. Only the open cases' verdicts of
    this round are looked up."""
    read = Exists(Verdict.objects.filter(case=OuterRef("pk"), reader=user, round=OuterRef("round")))
    mine = Q(assignments__reader=user, assignments__active=True)
    independent = Q(assignments__slot__in=INDEPENDENT)
    condition = {
        Bucket.FINAL: Q(status=CaseStatus.FINAL),
        Bucket.AWAITING_TIEBREAK: Q(status=CaseStatus.DISPUTED) & independent,
        Bucket.AWAITING_OTHER: Q(status=CaseStatus.OPEN) & independent & read,
        # The status list first, once: the planner starts from the (few) cases in review, not from all of the
        # reader's assignments.
        Bucket.AWAITING_ME: Q(status__in=(CaseStatus.OPEN, CaseStatus.DISPUTED))
        & (
            (Q(status=CaseStatus.OPEN) & independent & ~read)
            | Q(status=CaseStatus.DISPUTED, assignments__slot=ReaderSlot.THIRD)
        ),
    }[bucket]
    return (
        # One filter() call: one assignment join for the reader, the slot, my_slot and the code.
        AdjudicationCase.objects.filter(mine & condition)
        .annotate(
            my_slot=F("assignments__slot"),
            reading_code=F("assignments__reading_code"),
            bucket=Value(bucket),
            adjudication_section=CASE_SECTION,
        )
        .only("id", "participant_id", "level", "round", "status", "exam_date", "updated_at")
        .order_by("reading_code")
    )


def _counted(assignments: QuerySet):
    """The number of these assignment rows, as a subquery (0 for none)."""
    counted = assignments.order_by().values("reader").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted), 0)


def reader_counts(*, user) -> dict[str, int]:
    """{bucket: number of cases} for the reader's queue, every bucket present. One query of small counts: the
    reader's active assignments (an index-only count), and those on cases not yet final (few, found from the
    case status); final is the difference, so that a long study's finished cases are never joined."""
    mine = CaseAssignment.objects.filter(reader=user, active=True)
    reviewing = mine.filter(case__status__in=(CaseStatus.OPEN, CaseStatus.DISPUTED))
    independent = Q(slot__in=INDEPENDENT)
    read = Exists(Verdict.objects.filter(assignment=OuterRef("pk"), round=OuterRef("case__round")))
    found = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            total=_counted(mine),
            unfinished=_counted(
                mine.filter(case__status__in=(CaseStatus.OPEN, CaseStatus.DISPUTED, CaseStatus.CANCELLED))
            ),
            tiebreak=_counted(reviewing.filter(independent, case__status=CaseStatus.DISPUTED)),
            third=_counted(reviewing.filter(case__status=CaseStatus.DISPUTED, slot=ReaderSlot.THIRD)),
            open=_counted(reviewing.filter(independent, case__status=CaseStatus.OPEN)),
            other=_counted(reviewing.filter(independent, case__status=CaseStatus.OPEN).filter(read)),
        )
        .values("total", "unfinished", "tiebreak", "third", "open", "other")
        .get()
    )
    return {
        Bucket.AWAITING_ME: found["open"] - found["other"] + found["third"],
        Bucket.AWAITING_OTHER: found["other"],
        Bucket.AWAITING_TIEBREAK: found["tiebreak"],
        Bucket.FINAL: found["total"] - found["unfinished"],
    }


@dataclass
class Item:
    """A form record as the packet shows it: title, date, the declared fields, the declared rows."""

    form: str
    title: str
    visit: str
    exam_date: str | None
    draft: bool
    fields: list[dict] = field(default_factory=list)
    rows: list[list[dict]] = field(default_factory=list)


def _text(spec, value) -> str:
    """A stored value as read: yes / no, choice labels, the unit; a dash for none."""
    if value in (None, "", []):
        return "—"
    if spec.type == "boolean":
        return _("Yes") if value else _("No")
    if spec.type in ("choice", "multichoice"):
        labels = {choice.code: localized(choice.label) for choice in spec.choices}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    return f"{value} {spec.unit}".strip()


def _shown(form, path: str, code: str, value) -> dict:
    spec = form.resolve(path)[1]
    return {"code": code, "label": localized(spec.label), "value": _text(spec, value)}


def _items(participant_id: int) -> tuple[list[Item], dict[str, dict]]:
    """The records of the forms that declare a packet, as shown, by date (a draft's marked: the procedure
    form may still be one when the MRI is complete); and the data by form code of the participant-level ones
    (the treated levels are read from it). Two queries."""
    forms = {code: form for code, form in form_definitions().items() if form.packet is not None}
    records = list(
        FormRecord.objects.filter(participant_id=participant_id, form_code__in=forms).only(
            "form_code", "visit_code", "status", "data"
        )
    )
    labels = dict(
        Visit.objects.filter(
            participant_id=participant_id, code__in={r.visit_code for r in records if r.visit_code}
        ).values_list("code", "label")
    )
    items = []
    for record in records:
        form, data = forms[record.form_code], record.data
        packet = form.packet
        items.append(
            Item(
                form=form.code,
                title=localized(form.title),
                visit=localized(labels.get(record.visit_code)) if record.visit_code else "",
                exam_date=data.get(packet.date),
                draft=record.status == FormStatus.DRAFT,
                fields=[_shown(form, code, code, data.get(code)) for code in packet.fields],
                rows=[
                    [_shown(form, f"{packet.group}.{code}", code, row.get(code)) for code in packet.rows]
                    for row in data.get(packet.group) or []
                ]
                if packet.group
                else [],
            )
        )
    items.sort(key=lambda item: (item.exam_date or "", item.form))
    return items, {r.form_code: r.data for r in records if not r.visit_code}


def treated_source() -> tuple[str, str, str] | None:
    """(form, group, field) holding the treated levels: where the adjudicating form derives a fracture's
    location from (e.g. `procedure.levels.level`); None when no form adjudicates."""
    for form in form_definitions().values():
        spec = form.adjudication
        location = form.group(spec.group).field(spec.location) if spec else None
        if location is not None and location.source_form is not None:
            form_code, group_code, code = location.derivation[1]["source"].split(".")
            return form_code, group_code, code
    return None


def treated_in(data: dict | None, group_code: str, code: str) -> set[str]:
    """The treated levels in that form's data."""
    return {row.get(code) for row in (data or {}).get(group_code) or [] if is_level(row.get(code))}


def _treatment(forms_data: dict) -> tuple[list[str], str | None]:
    """(treated levels, procedure date): the treated-levels form's, with the date its packet declares."""
    source = treated_source()
    if source is None:
        return [], None
    form_code, group_code, code = source
    data = forms_data.get(form_code) or {}
    form = form_definitions().get(form_code)
    date = data.get(form.packet.date) if form and form.packet else None
    return sorted(treated_in(data, group_code, code)), date


def verdict_view(verdict: Verdict, treated: list[str]) -> dict:
    """A verdict as readers see it: by slot, never by name; each level's position to the treated levels
    (derived, shown as a check)."""
    return {
        "slot": verdict.assignment.slot,
        "round": verdict.round,
        "fracture": verdict.fracture,
        "levels": verdict.levels,
        "locations": {level: relation_to(level, set(treated)) for level in verdict.levels},
        "acute_signal": verdict.acute_signal,
        "genant_grade": verdict.genant_grade,
        "event_date": verdict.event_date,
        "confidence": verdict.confidence,
        "comment": verdict.comment,
        "signed_at": verdict.signed_at,
    }


def event_date_suggestion(
    case: AdjudicationCase, evidence: list[CaseEvidence]
) -> tuple[str, datetime.date | None]:
    """(the protocol's rule, the date it gives) for the reader's event date: the earliest exam supporting the
    case (`confirming_mri`), or the earliest symptom onset recorded with it when the protocol says
    `symptom_onset_when_recorded` and one is recorded. No rule without an `endpoint:` section."""
    definition = (
        Participant.objects.filter(pk=case.participant_id)
        .values_list("site__study__current_version__definition", flat=True)
        .first()
    )
    spec = (definition or {}).get("endpoint") or {}
    rule = spec.get("event_date", "")
    onsets = [e.symptom_onset for e in evidence if e.symptom_onset]
    if rule == "symptom_onset_when_recorded" and onsets:
        return rule, min(onsets)
    return rule, case.exam_date


def imaging_exams(participant_id: int) -> list[dict]:
    """The participant's imaging exams registered from DICOM headers, by date: modality, date, body parts and
    number of series (never a UID, the manufacturer or the slice thickness). One query."""
    return list(
        ImagingExam.objects.filter(screening__participant=participant_id)
        .order_by("study_date", "modality", "id")
        .values("modality", "study_date", "body_parts", "series_count")
    )


def case_packet(*, case: AdjudicationCase, user) -> dict:
    """The packet of a case assigned to the reader (the caller found it in `reader_cases`), named by the
    reader's code, never by its number or opening date: the protocol's question, the imaging and the
    treatment as the forms' packets declare them, the imaging exams registered, the findings entered by hand,
    and the verdicts the reader may see. Seven queries."""
    question = case_question(case)
    items, forms_data = _items(case.participant_id)
    treated, procedure_date = _treatment(forms_data)
    evidence = list(CaseEvidence.objects.filter(case=case, active=True).order_by("exam_date", "id"))
    findings = [
        {
            "modality": e.get_modality_display(),
            "exam_date": e.exam_date,
            "symptom_onset": e.symptom_onset,
            "findings": e.findings,
        }
        for e in evidence
        if e.record_id is None
    ]
    rule, suggested = event_date_suggestion(case, evidence)
    verdicts = list(
        Verdict.objects.filter(case=case, round=case.round).select_related("assignment").order_by("signed_at")
    )
    both_in = case.status in (CaseStatus.DISPUTED, CaseStatus.FINAL)
    visible = [v for v in verdicts if v.reader_id == user.pk or both_in]
    return {
        "case": {
            "code": case.reading_code,
            "level": case.level,
            "round": case.round,
            "bucket": getattr(case, "bucket", ""),
            "slot": getattr(case, "my_slot", ""),
            "mine_given": any(v.reader_id == user.pk for v in verdicts),
        },
        "question": question.as_data(),
        "imaging_exams": imaging_exams(case.participant_id),
        "treated_levels": treated,
        "procedure_date": procedure_date,
        "event_date_rule": rule,
        "event_date_suggested": suggested,
        "exams": [item.__dict__ for item in items],
        "findings": findings,
        "verdicts": [verdict_view(v, treated) for v in visible],
    }


def board_counts(cases: QuerySet) -> dict[str, int]:
    """{status: number} over a case list (the board's tabs), every status present. One query."""
    counts = dict.fromkeys(CaseStatus.values, 0)
    rows = cases.order_by().values("status").annotate(n=Coalesce(Count("id"), 0))
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
