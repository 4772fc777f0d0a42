"""Verdicts on adjudication cases: independent, e-signed readings; a third reader when two disagree; a data
manager's reopening.

- **Reading.** Each assigned reader gives one verdict a round, e-signed with the user ID (the first signing
  of a session) and the password again (meaning "adjudication"). The first and second read while the case
  is open, the third only once it is disputed.
- **The question** is the protocol's (followup/question.py): a new non-operative vertebral fracture, yes or
  no, with its levels, acute signal, Genant grade and event date, unless the protocol asks another (acute or
  chronic, per registered vertebra, the answer alone). The answer is stored as `fracture`, True for the
  question's positive answer.
- **Agreement** of the first two on the main question makes the case final. The adjudicated result is then
  the answer, the union of their levels and the earlier of their event dates (when both found one).
  **Disagreement** makes it disputed and assigns the third reader (services/assignment.py), whose verdict
  is final as given.
- **Reopening** a final case is a data manager's, with a reason: a new round, read again by the same first
  and second readers; the earlier verdicts and the former result stay in the audit trail.

Each step locks the case's row and judges its state under the lock: two verdicts arriving at once are
counted in order, and the second of two identical submissions is a 409.
"""

import datetime
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crf.services.signatures import signer_confirm
from crf.services.signing_session import SigningSession
from trial.access import require_role_at
from trial.audit import audit_context, reason_required
from trial.errors import Conflict, Forbidden, InvalidInput
from trial.models import Role

from ..models import AdjudicationCase, CaseAssignment, CaseStatus, Confidence, ReaderSlot, Verdict
from ..question import Part, Question, case_question
from .assignment import INDEPENDENT, case_locked, readers_fill

LEVEL = re.compile(r"^(T([1-9]|1[0-2])|L[1-5])$")  # the thoracic and lumbar vertebrae
MEANING = "adjudication"


def _not_asked(question: Question, values: dict, errors: dict[str, list[str]]) -> None:
    """A part the question does not ask is left empty: given, it is refused, by field."""
    for part, value in values.items():
        if not question.asked(part) and value not in (None, [], 0):
            errors[part] = [_("This question does not ask for it: leave it empty.")]


def _checked(
    *, question: Question, fracture, levels, acute_signal, genant_grade, event_date, confidence, comment
) -> dict:
    """The verdict's fields, or a 400 naming each field that is wrong (nothing is saved). The parts the
    question asks (followup/question.py) are required with the positive answer, empty with the negative;
    the parts it does not ask are empty."""
    errors: dict[str, list[str]] = {}
    levels = list(levels or [])
    if not isinstance(fracture, bool):
        errors["fracture"] = [
            _("Answer %(positive)s or %(negative)s.")
            % {"positive": question.answer_text(True), "negative": question.answer_text(False)}
        ]
    if confidence not in Confidence.values:
        errors["confidence"] = [_("Choose low, moderate or high.")]
    if any(not isinstance(level, str) or not LEVEL.match(level) for level in levels):
        errors["levels"] = [_("Levels are vertebrae from T1 to L5, e.g. L2.")]
    parts = {
        Part.LEVELS: levels,
        Part.ACUTE_SIGNAL: acute_signal,
        Part.GENANT_GRADE: genant_grade,
        Part.EVENT_DATE: event_date,
    }
    _not_asked(question, parts, errors)
    if fracture is True:
        if question.asked(Part.LEVELS) and not levels:
            errors.setdefault("levels", [_("Name the fractured level(s).")])
        if question.asked(Part.GENANT_GRADE) and genant_grade not in (1, 2, 3):
            errors["genant_grade"] = [_("Grade the fracture: Genant 1, 2 or 3.")]
        dated = question.asked(Part.EVENT_DATE)
        if dated and not isinstance(event_date, datetime.date):
            errors["event_date"] = [_("Give the event date.")]
        elif dated and event_date > timezone.localdate():
            errors["event_date"] = [_("The date cannot be in the future.")]
    elif fracture is False and (levels or genant_grade not in (None, 0) or event_date is not None):
        errors.setdefault("fracture", [_("No fracture: leave the levels, the grade and the date empty.")])
    if errors:
        raise InvalidInput(_("The verdict is not complete."), field_errors=errors)
    graded = question.asked(Part.GENANT_GRADE)
    return {
        "fracture": fracture,
        "levels": sorted(set(levels)),
        "acute_signal": acute_signal if fracture and question.asked(Part.ACUTE_SIGNAL) else None,
        # A "no" to the re-fracture question is grade 0; a question that grades nothing stores no grade.
        "genant_grade": (genant_grade if fracture else 0) if graded else None,
        "event_date": event_date if fracture else None,
        "confidence": confidence,
        "comment": (comment or "").strip(),
    }


def verdict_submit(
    *,
    actor,
    case: AdjudicationCase,
    password: str,
    fracture: bool,
    confidence: str,
    username: str = "",
    session: SigningSession | None = None,
    levels: list[str] | None = None,
    acute_signal: bool | None = None,
    genant_grade: int | None = None,
    event_date: datetime.date | None = None,
    comment: str = "",
) -> Verdict:
    """Record the actor's e-signed verdict on a case assigned to them, then settle the case if the verdicts
    it waits for are in (final on agreement, disputed with a third reader otherwise). The e-signature is the
    user ID (on the first signing of the `session`) and the password given again (21 CFR 11.200(a)(1),
    crf.services.signatures.signer_confirm), meaning "adjudication". 400 for an incomplete verdict; 403 for
    a reader not assigned to read it now, a missing or another user ID or a wrong password; 409 when they
    have read it in this round already, or the case is not being read.

    Atomic: the case's row is locked while the verdict is counted and the case settled."""
    values = _checked(
        question=case_question(case),
        fracture=fracture,
        levels=levels,
        acute_signal=acute_signal,
        genant_grade=genant_grade,
        event_date=event_date,
        confidence=confidence,
        comment=comment,
    )
    printed_name = signer_confirm(
        actor=actor,
        session=session,
        username=username,
        password=password,
        refused=_("The password is not correct; the verdict was not signed."),
        not_your_user_id=_("This is not your user ID; the verdict was not signed."),
    )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=f"signature: {MEANING}"):
        case = case_locked(case)
        if case.status not in (CaseStatus.OPEN, CaseStatus.DISPUTED):
            raise Conflict(_("This case is not being read."), code="case_not_in_review")
        slots = INDEPENDENT if case.status == CaseStatus.OPEN else (ReaderSlot.THIRD,)
        assignment = CaseAssignment.objects.filter(
            case=case, reader=actor, active=True, slot__in=slots
        ).first()
        if assignment is None:
            raise Forbidden(_("This case is not yours to read now."), code="not_assigned")
        if Verdict.objects.filter(assignment=assignment, round=case.round).exists():
            raise Conflict(_("You have given your verdict on this case."), code="already_read")
        verdict = Verdict.objects.create(
            case=case,
            assignment=assignment,
            reader=actor,
            round=case.round,
            printed_name=printed_name,
            signed_at=timezone.now(),
            **values,
        )
        _settle(case)
    if session is not None:
        session.record_signing(actor)  # once committed: a refused verdict is not the session's first signing
    return verdict


def _settle(case: AdjudicationCase) -> None:
    """Final, disputed (with a third reader), or still waiting: judged from this round's verdicts."""
    verdicts = {
        v.assignment.slot: v
        for v in Verdict.objects.filter(case=case, round=case.round).select_related("assignment")
    }
    if ReaderSlot.THIRD in verdicts:
        _finalize(case, [verdicts[ReaderSlot.THIRD]])
    elif all(slot in verdicts for slot in INDEPENDENT):
        first, second = verdicts[ReaderSlot.FIRST], verdicts[ReaderSlot.SECOND]
        if first.fracture == second.fracture:
            _finalize(case, [first, second])
        else:
            case.status = CaseStatus.DISPUTED
            case.save(update_fields=["status", "updated_at"])
            readers_fill(case, (ReaderSlot.THIRD,))


def _finalize(case: AdjudicationCase, verdicts: list[Verdict]) -> None:
    fracture = verdicts[0].fracture
    case.status, case.final_fracture, case.finalized_at = CaseStatus.FINAL, fracture, timezone.now()
    case.final_levels = sorted({level for v in verdicts for level in v.levels}) if fracture else []
    dates = [v.event_date for v in verdicts if v.event_date is not None]  # none when the question asks none
    case.final_event_date = min(dates) if fracture and dates else None
    case.save(
        update_fields=[
            "status",
            "final_fracture",
            "final_levels",
            "final_event_date",
            "finalized_at",
            "updated_at",
        ]
    )


def case_reopen(*, actor, case: AdjudicationCase, reason: str) -> AdjudicationCase:
    """A data manager sends a final case back to review, with a reason: a new round read by the same first
    and second readers (the third's slot is ended; a new disagreement assigns one again). 403 for anyone
    but a data manager; 409 unless final.

    Atomic: the case's row is locked while it is reopened."""
    require_role_at(actor, case.site, {Role.DATA_MANAGER}, gettext_lazy("reopen an adjudicated case"))
    reason = reason_required(reason)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason.strip()):
        case = case_locked(case)
        if case.status != CaseStatus.FINAL:
            raise Conflict(_("Only an adjudicated case can be reopened."), code="case_not_final")
        CaseAssignment.objects.filter(case=case, slot=ReaderSlot.THIRD, active=True).update(
            active=False, ended_at=timezone.now()
        )
        case.status, case.round = CaseStatus.OPEN, case.round + 1
        case.final_fracture, case.final_levels, case.final_event_date, case.finalized_at = (
            None,
            [],
            None,
            None,
        )
        case.save()
    return case
