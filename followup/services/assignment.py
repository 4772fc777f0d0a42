"""Who reads an adjudication case: two independent adjudicators, and a third when they disagree.

The rules (FDA 2018 imaging-endpoint process: central, independent, blinded reads):
- **Eligible** are the study's active adjudicators who hold no role at the participant's site: a reader never
  judges a participant of their own site.
- **Balanced round-robin:** each slot goes to the eligible reader with the fewest active assignments, then the
  fewest ever, then the lowest user id, so that work spreads evenly and the choice can be predicted.
- **A reader sits in one slot of a case:** the third is never one of the first two.
- **Reassignment** by a data manager, before the slot's reader has given a verdict, ends the slot's row and
  adds another (both stay in the audit trail).

Each service locks the case's row, so two assignments of one case cannot interleave; the partial unique
constraints on active rows are the database's own guard.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crf.models import FormStatus
from trial.access import require_role_at
from trial.audit import audit_context, reason_required
from trial.errors import Conflict, InvalidInput
from trial.models import Role, StaffRole

from ..models import (
    AdjudicationCase,
    CaseAssignment,
    CaseEvidence,
    CaseOrigin,
    CaseStatus,
    ReaderSlot,
    Verdict,
)

INDEPENDENT = (ReaderSlot.FIRST, ReaderSlot.SECOND)


def eligible_readers(case: AdjudicationCase):
    """The study's active adjudicators who hold no active role at the case's site, least loaded first (the
    round-robin order): fewest active assignments, then fewest ever, then user id. One query."""
    site_staff = StaffRole.objects.filter(site_id=case.site_id, active=True).values("user_id")
    adjudicators = StaffRole.objects.filter(
        study_id=case.participant.site.study_id, role=Role.ADJUDICATOR, active=True
    ).values("user_id")
    return (
        get_user_model()
        .objects.filter(pk__in=adjudicators, is_active=True)
        .exclude(pk__in=site_staff)
        .annotate(
            load=Count("adjudication_assignments", filter=Q(adjudication_assignments__active=True)),
            ever=Count("adjudication_assignments"),
        )
        .order_by("load", "ever", "pk")
    )


def case_locked(case: AdjudicationCase) -> AdjudicationCase:
    """The case re-read under its row lock, with its participant's site (inside the caller's transaction)."""
    return (
        AdjudicationCase.objects.select_for_update(of=("self",))
        .select_related("participant__site")
        .get(pk=case.pk)
    )


def case_has_complete_evidence(case: AdjudicationCase) -> bool:
    """True when findings entered by hand, or a form record that is no longer a draft, support the case: only
    then does it go to review. One query; none for a registered vertebra's case (its registration is its
    evidence, complete)."""
    if case.origin == CaseOrigin.REGISTRATION:
        return True
    return (
        CaseEvidence.objects.filter(case=case, active=True).exclude(record__status=FormStatus.DRAFT).exists()
    )


CODE_DRAWS = 5  # a repeat is rare (reading_codes.py): five in a row would mean a broken generator


def assignment_create(*, case: AdjudicationCase, reader, slot: str) -> CaseAssignment:
    """A new active assignment with a fresh reading code (the model's default), inside the caller's
    transaction. A code already in use is drawn again: each try in a savepoint, so that the unique
    constraint's refusal leaves the caller's transaction usable; any other refusal is raised."""
    draws = 0
    while True:
        draws += 1
        try:
            with transaction.atomic():
                return CaseAssignment.objects.create(case=case, reader=reader, slot=slot)
        except IntegrityError as error:
            if "reading_code" not in str(error) or draws == CODE_DRAWS:
                raise


def readers_fill(case: AdjudicationCase, slots, *, strict: bool = True) -> list[CaseAssignment]:
    """Give each empty slot among `slots` the least loaded eligible reader not already on the case; the new
    assignments. Inside the caller's transaction, with the case's row locked by it. When none is left: a 409
    if `strict`, else the slot stays empty (for the data manager to fill)."""
    active = {a.slot: a for a in CaseAssignment.objects.filter(case=case, active=True)}
    taken = {a.reader_id for a in active.values()}
    added = []
    for slot in slots:
        if slot in active:
            continue
        reader = eligible_readers(case).exclude(pk__in=taken).first()
        if reader is None and not strict:
            break
        if reader is None:
            raise Conflict(
                _("No eligible adjudicator is left for this case: add an adjudicator from another site."),
                code="no_eligible_reader",
            )
        added.append(assignment_create(case=case, reader=reader, slot=slot))
        taken.add(reader.pk)
    return added


def case_readers_assign(*, case: AdjudicationCase, actor=None) -> list[CaseAssignment]:
    """Assign the two independent readers a case still lacks (none when it has both); the new assignments.
    `actor`: the data manager who asks (403 for anyone else); none when the system assigns. 409 when no
    eligible reader is left, the case is cancelled, or only a draft form supports it (it goes to review when
    the form is complete).

    Atomic: the case's row is locked while its slots are filled."""
    if actor is not None:
        require_role_at(actor, case.site, {Role.DATA_MANAGER}, gettext_lazy("assign adjudication readers"))
    with transaction.atomic(), audit_context(actor=actor, reason="adjudication: readers assigned"):
        case = case_locked(case)
        if case.status == CaseStatus.CANCELLED:
            raise Conflict(_("This case is cancelled: it is not read."), code="case_cancelled")
        if not case_has_complete_evidence(case):
            raise Conflict(
                _("This case waits for its MRI form to be complete before it is read."), code="case_draft"
            )
        return readers_fill(case, INDEPENDENT)


def case_tiebreaker_assign(*, case: AdjudicationCase) -> CaseAssignment | None:
    """Assign the third reader (one who is neither of the first two), unless there is one; the new
    assignment or None. Atomic, as above."""
    with transaction.atomic(), audit_context(reason="adjudication: tie-breaker assigned"):
        added = readers_fill(case_locked(case), (ReaderSlot.THIRD,))
    return added[0] if added else None


def case_reader_reassign(*, actor, case: AdjudicationCase, slot: str, reader, reason: str) -> CaseAssignment:
    """A data manager gives a case's slot to another eligible reader, with a reason. 400 for an unknown slot
    or an ineligible reader (of the participant's site, not an adjudicator, or already on the case); 403 for
    anyone but a data manager of the study; 409 for a cancelled case.

    Atomic: the case's row is locked while the slot changes hands."""
    require_role_at(actor, case.site, {Role.DATA_MANAGER}, gettext_lazy("reassign an adjudication case"))
    if slot not in ReaderSlot.values:
        raise InvalidInput(
            _("Unknown reader slot."), field_errors={"slot": [_("Choose first, second or third.")]}
        )
    reason = reason_required(reason)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason.strip()):
        case = case_locked(case)
        if case.status == CaseStatus.CANCELLED:
            raise Conflict(_("This case is cancelled: it is not read."), code="case_cancelled")
        if Verdict.objects.filter(case=case, round=case.round, assignment__slot=slot).exists():
            raise Conflict(
                _("This reader has given their verdict: the slot can no longer change hands."),
                code="already_read",
            )
        others = CaseAssignment.objects.filter(case=case, active=True).exclude(slot=slot)
        eligible = eligible_readers(case).exclude(pk__in=others.values("reader_id"))
        if not eligible.filter(pk=reader.pk).exists():
            message = _(
                "This adjudicator cannot read this case (own site, not an adjudicator, or already on it)."
            )
            raise InvalidInput(message, field_errors={"reader": [message]})
        CaseAssignment.objects.filter(case=case, slot=slot, active=True).update(
            active=False, ended_at=timezone.now()
        )
        return assignment_create(case=case, reader=reader, slot=slot)
