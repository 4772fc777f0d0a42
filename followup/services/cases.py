"""The life of an adjudication case: settled from its evidence, opened by hand, its evidence withdrawn.

- **Settling** (`cases_settle`): a case with active evidence is open for review (or stays where review
  has taken it); a case whose every piece of evidence is withdrawn is cancelled, its active assignments
  ended and its verdicts kept; a cancelled case that is reported again opens again, in a new round when it
  had been read. Its exam date and location are those of its earliest active evidence.
- **By hand** (`case_open_manual`): a data manager opens a case for imaging outside the MRI form (an
  unscheduled CT, a symptomatic event between visits), with the supporting findings. A level that already has
  a case gets the findings as further evidence of that case.
- **Withdrawal** (`evidence_withdraw`): a data manager withdraws findings entered by hand, with a reason
  (a form record's evidence is withdrawn by correcting the form).
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crf.engine.validate import relation_to
from crf.models import FormRecord
from trial.access import require_role_at
from trial.audit import audit_context, reason_required
from trial.clock import site_today
from trial.errors import Conflict, InvalidInput
from trial.levels import is_level
from trial.models import Role

from ..models import (
    AdjudicationCase,
    CaseAssignment,
    CaseEvidence,
    CaseOrigin,
    CaseStatus,
    Modality,
    Verdict,
)
from ..question import participant_question
from ..selectors.packet import treated_in, treated_source
from .assignment import INDEPENDENT, case_locked, readers_fill

FINDINGS_MAX = 4000


def cases_settle(cases: list[AdjudicationCase]) -> None:
    """Open, cancel or reopen each case from its active evidence, and take its exam date and location from
    the earliest (see the module). Inside the caller's transaction, with the cases' rows locked by it. Two
    queries, plus one for each case cancelled and one for the verdicts of those reopened."""
    if not cases:
        return
    earliest = {}
    for case_id, exam_date, location in (
        CaseEvidence.objects.filter(case__in=cases, active=True)
        .order_by("case_id", "exam_date", "id")
        .values_list("case_id", "exam_date", "location")
    ):
        earliest.setdefault(case_id, (exam_date, location))
    returning = [c for c in cases if c.status == CaseStatus.CANCELLED and c.pk in earliest]
    read = (
        set(Verdict.objects.filter(case__in=returning).values_list("case_id", "round")) if returning else ()
    )
    now, changed = timezone.now(), []
    for case in cases:
        before = (case.status, case.round, case.exam_date, case.location)
        if case.pk not in earliest:
            if case.status != CaseStatus.CANCELLED:
                case.status = CaseStatus.CANCELLED
                CaseAssignment.objects.filter(case=case, active=True).update(active=False, ended_at=now)
        else:
            if case.status == CaseStatus.CANCELLED:
                _reopen(case, read_before=(case.pk, case.round) in read)
            case.exam_date, location = earliest[case.pk]
            case.location = location or case.location
        if (case.status, case.round, case.exam_date, case.location) != before:
            case.updated_at = now
            changed.append(case)
    if changed:
        AdjudicationCase.objects.bulk_update(
            changed,
            [
                "status",
                "round",
                "exam_date",
                "location",
                "final_fracture",
                "final_levels",
                "final_event_date",
                "finalized_at",
                "updated_at",
            ],
        )


def _reopen(case: AdjudicationCase, *, read_before: bool) -> None:
    """A cancelled case reported again: open for review, afresh (a new round) if it had been read. Its former
    readers' assignments were ended at the cancellation: it gets readers as a new case does."""
    case.status = CaseStatus.OPEN
    if read_before:
        case.round += 1
    case.final_fracture, case.final_levels, case.final_event_date, case.finalized_at = None, [], None, None


def treated_levels(participant) -> set[str] | None:
    """The participant's treated levels (selectors/packet.py `treated_source`); None while that form has
    none, or no form adjudicates. One query."""
    source = treated_source()
    if source is None:
        return None
    form_code, group_code, code = source
    data = (
        FormRecord.objects.filter(participant=participant, form_code=form_code, visit_code="")
        .values_list("data", flat=True)
        .first()
    )
    return treated_in(data, group_code, code) or None


def _manual_checked(*, participant, level, exam_date, modality, findings, symptom_onset) -> tuple[str, str]:
    """(location, findings) of findings entered by hand, or a 400 naming every wrong field."""
    errors: dict[str, list[str]] = {}
    if not is_level(level):
        errors["level"] = [_("Levels are vertebrae from T1 to L5, e.g. L2.")]
    if modality not in Modality.values:
        errors["modality"] = [_("Choose MRI, CT or radiograph.")]
    if not isinstance(exam_date, datetime.date):
        errors["exam_date"] = [_("Give the exam date.")]
    elif exam_date > site_today(participant.site):
        errors["exam_date"] = [_("The date cannot be in the future.")]
    elif exam_date < participant.enrollment_date:
        errors["exam_date"] = [_("The exam cannot be before the enrollment.")]
    if symptom_onset is not None and not isinstance(symptom_onset, datetime.date):
        errors["symptom_onset"] = [_("Enter a date.")]
    elif symptom_onset is not None and isinstance(exam_date, datetime.date) and symptom_onset > exam_date:
        errors["symptom_onset"] = [_("The symptoms cannot begin after the exam that shows the fracture.")]
    elif symptom_onset is not None and symptom_onset < participant.enrollment_date:
        errors["symptom_onset"] = [_("A new fracture's symptoms begin after the enrollment.")]
    findings = findings.strip() if isinstance(findings, str) else ""
    if not findings:
        errors["findings"] = [_("Describe the findings that support the case.")]
    elif len(findings) > FINDINGS_MAX:
        errors["findings"] = [_("At most %(count)d characters.") % {"count": FINDINGS_MAX}]
    location = None
    if "level" not in errors:
        treated = treated_levels(participant)
        location = relation_to(level, treated) if treated else None
        if treated and location == "treated":
            errors["level"] = [
                _(
                    "This level was treated: a same-level recollapse is not a new fracture at a "
                    "non-operated level."
                )
            ]
    if errors:
        raise InvalidInput(_("The case cannot be opened."), field_errors=errors)
    if location is None:
        raise Conflict(
            _("The treated levels are not recorded yet: complete the procedure form first."),
            code="no_treated_levels",
        )
    return location, findings


def case_open_manual(
    *,
    actor,
    participant,
    level: str,
    exam_date: datetime.date,
    modality: str,
    findings: str,
    reason: str,
    symptom_onset: datetime.date | None = None,
) -> AdjudicationCase:
    """A data manager opens a case by hand with the supporting findings (unscheduled imaging, a symptomatic
    event between visits, with the date its symptoms began when known), or adds them to the case already open
    at that level; the case. It goes to its two
    readers at once (the findings are complete when entered). 403 for anyone but a data manager of the
    study; 400 naming each wrong field (a treated level, a date in the future, no findings); 409 while the
    treated levels are unknown.

    Atomic: the participant's case at the level is locked (or created) before the evidence is added."""
    require_role_at(actor, participant.site, {Role.DATA_MANAGER}, gettext_lazy("open an adjudication case"))
    reason = reason_required(reason)
    if participant_question(participant.pk).per_registered_level:
        raise Conflict(
            _(
                "This study's cases are its registered fractured vertebrae: they open when a case is "
                "registered, not by hand."
            ),
            code="cases_from_registration",
        )
    location, findings = _manual_checked(
        participant=participant,
        level=level,
        exam_date=exam_date,
        modality=modality,
        findings=findings,
        symptom_onset=symptom_onset,
    )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason):
        AdjudicationCase.objects.bulk_create(
            [
                AdjudicationCase(
                    participant=participant,
                    level=level,
                    location=location,
                    exam_date=exam_date,
                    origin=CaseOrigin.MANUAL,
                    opened_by=actor,
                )
            ],
            ignore_conflicts=True,
        )
        case = case_locked(AdjudicationCase.objects.get(participant=participant, level=level))
        CaseEvidence.objects.create(
            case=case,
            modality=modality,
            exam_date=exam_date,
            location=location,
            findings=findings,
            symptom_onset=symptom_onset,
            entered_by=actor,
        )
        cases_settle([case])
        if case.status == CaseStatus.OPEN:
            readers_fill(case, INDEPENDENT, strict=False)
    return case


def evidence_withdraw(*, actor, evidence: CaseEvidence, reason: str) -> CaseEvidence:
    """A data manager withdraws findings entered by hand, with a reason; a case left with no evidence is
    cancelled (its history kept). 403 for anyone but a data manager; 409 for a form record's evidence (the
    form is corrected instead) or evidence already withdrawn.

    Atomic: the case's row is locked while its evidence changes."""
    require_role_at(
        actor, evidence.case.site, {Role.DATA_MANAGER}, gettext_lazy("withdraw an adjudication finding")
    )
    reason = reason_required(reason)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason):
        case = case_locked(evidence.case)
        evidence = CaseEvidence.objects.select_for_update().get(pk=evidence.pk)
        if evidence.record_id is not None:
            raise Conflict(
                _("These findings come from a form: correct the form to withdraw them."), code="form_evidence"
            )
        if not evidence.active:
            raise Conflict(_("These findings are already withdrawn."), code="already_withdrawn")
        evidence.active, evidence.withdrawn_at = False, timezone.now()
        evidence.save(update_fields=["active", "withdrawn_at"])
        cases_settle([case])
    return evidence
