"""Visits: created from the protocol's schedule when their anchor date is known, then recorded as done,
declared missed, reopened, or added unscheduled.

The schedule is the `visits:` section of the participant's protocol version (trial/protocols/FORMAT.md). A
visit's stored state is a decision (pending, completed, missed, not applicable); upcoming, open and overdue
are computed from the window and the site's today (followup.schedule.visit_status).

Lock order, the same everywhere so that nothing deadlocks: participant, then form record, then visits. The
hooks run inside the caller's transaction, which already holds the participant or the record; the
services below lock the visit (or, to add one, the participant) and nothing else.
"""

import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crf.models import FormRecord, FormStatus
from trial.access import require_site_staff
from trial.audit import audit_context
from trial.clock import site_today
from trial.errors import Conflict, InvalidInput, ReasonRequired
from trial.models import Participant, ParticipantStatus

from ..models import ResponseStatus, Visit, VisitKind, VisitState, VisitStatus
from ..schedule import (
    anchor_date_of,
    form_anchors,
    participant_anchors,
    participant_followed,
    plan_visits,
    visit_status,
)

FINAL_STATUSES = (ParticipantStatus.WITHDRAWN, ParticipantStatus.DIED)
UNSCHEDULED_SEQUENCE = 1000  # unscheduled visits sort after the scheduled ones of the same date
UNSCHEDULED_LABEL = {"en": "Unscheduled visit {n}", "zh-hans": "计划外随访 {n}"}
MAX_REASON = 500
WINDOW_FIELDS = ("target_date", "window_open", "window_close")


# --- hooks: called by crf and enrollment inside their transactions ------------------------------------------


def _schedule_of(participant_id: int) -> tuple[str, dict]:
    """The participant's status and their protocol version's `visits:` section, in one query."""
    status, visits = (
        Participant.objects.filter(pk=participant_id)
        .values_list("status", "screening__protocol_version__definition__visits")
        .get()
    )
    return status, visits or {}


def _schedule(*, participant_id: int, visits: dict, anchor_dates: dict, actor) -> None:
    """Create the visits of these anchors that do not exist yet, and move the pending ones whose anchor date
    changed. Completed, missed and not-applicable visits keep their dates: they record what happened.

    Three queries at most: the existing visits (locked), one insert, one update.
    """
    planned = plan_visits(visits, anchor_dates)
    if not planned:
        return
    existing = {
        visit.code: visit
        for visit in Visit.objects.select_for_update().filter(
            participant_id=participant_id, code__in=[plan.code for plan in planned]
        )
    }
    now = timezone.now()
    new, moved = [], []
    for plan in planned:
        visit = existing.get(plan.code)
        if visit is None:
            new.append(
                Visit(
                    participant_id=participant_id,
                    code=plan.code,
                    label=plan.label,
                    kind=VisitKind.SCHEDULED,
                    sequence=plan.sequence,
                    anchor=plan.anchor,
                    day=plan.day,
                    target_date=plan.target_date,
                    window_open=plan.window_open,
                    window_close=plan.window_close,
                    forms=list(plan.forms),
                    questionnaires=list(plan.questionnaires),
                    updated_by=actor,
                )
            )
        elif visit.state == VisitState.PENDING and any(
            getattr(visit, name) != getattr(plan, name) for name in WINDOW_FIELDS
        ):
            for name in WINDOW_FIELDS:
                setattr(visit, name, getattr(plan, name))
            visit.updated_by, visit.updated_at = actor, now
            moved.append(visit)
    # ignore_conflicts: two anchor forms completed at once each create their own codes; should a visit appear
    # between the read and the insert all the same, the one that exists stands.
    Visit.objects.bulk_create(new, ignore_conflicts=True)
    Visit.objects.bulk_update(moved, [*WINDOW_FIELDS, "updated_by", "updated_at"])


def visits_on_record(*, record, actor) -> None:
    """A CRF record was saved: if it dates an anchor (procedure date...), create or reschedule its visits.

    Runs on every CRF save, so a draft costs nothing and a record of a form that anchors nothing one query.
    A record must be complete (not a draft) to anchor visits; a later change of its date moves the pending
    visits only. Visit-level records (the forms a visit collects) anchor nothing.
    """
    if record.status == FormStatus.DRAFT or record.visit_code:
        return
    status, visits = _schedule_of(record.participant_id)
    anchors = form_anchors(visits, record.form_code)
    if not anchors or status in FINAL_STATUSES:
        return
    dates = {name: anchor_date_of((record.data or {}).get(field)) for name, field in anchors.items()}
    dates = {name: day for name, day in dates.items() if day is not None}
    if dates:
        _schedule(participant_id=record.participant_id, visits=visits, anchor_dates=dates, actor=actor)


def visits_on_participant_status(*, participant, actor) -> None:
    """Enrollment creates the visits anchored at the participant's own dates (baseline); withdrawal and death
    make the pending visits not applicable, with the reason. Loss to follow-up writes nothing: the visits
    stay pending and read as on hold (followup.schedule.visit_status), off the worklist and the due and
    overdue counts, so a reinstated participant has nothing to undo and their visits come back by their
    windows.
    """
    if participant.status in FINAL_STATUSES:
        what = (
            _("Not applicable: the participant withdrew on %(date)s.")
            if participant.status == ParticipantStatus.WITHDRAWN
            else _("Not applicable: the participant died on %(date)s.")
        )
        Visit.objects.filter(participant=participant, state=VisitState.PENDING).update(
            state=VisitState.NOT_APPLICABLE,
            reason=what % {"date": participant.status_date},
            updated_by=actor,
            updated_at=timezone.now(),
        )
    elif participant.status == ParticipantStatus.ENROLLED:
        _status, visits = _schedule_of(participant.pk)
        dates = {name: getattr(participant, field) for name, field in participant_anchors(visits).items()}
        _schedule(participant_id=participant.pk, visits=visits, anchor_dates=dates, actor=actor)


# --- services: what coordinators and investigators do ------------------------------------------------------


def _reason(reason: str, *, required: bool, message: str = "") -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ReasonRequired(
            message or _("A reason is required."), field_errors={"reason": [_("Give the reason.")]}
        )
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            _("The reason is too long."),
            field_errors={"reason": [_("At most %(n)s characters.") % {"n": MAX_REASON}]},
        )
    return reason


def _check_visit_date(visit_date, *, participant: Participant, not_before: datetime.date, what: str) -> None:
    """A visit date is a date at the site, not in the future there and not before `not_before`."""
    if not isinstance(visit_date, datetime.date) or isinstance(visit_date, datetime.datetime):
        message = _("Give the date of the visit (YYYY-MM-DD).")
    elif visit_date > site_today(participant.site):
        message = _("The date cannot be in the future.")
    elif visit_date < not_before:
        message = _("The visit cannot be before %(what)s (%(date)s).") % {"what": what, "date": not_before}
    else:
        return
    raise InvalidInput(_("The visit date is invalid."), field_errors={"visit_date": [message]})


def _lock_visit(visit: Visit) -> Visit:
    return Visit.objects.select_for_update(of=("self",)).select_related("participant__site").get(pk=visit.pk)


def _refuse_if_final(participant: Participant) -> None:
    if participant.status in FINAL_STATUSES:
        raise Conflict(
            _("The participant is %(status)s: their visits no longer change.")
            % {"status": participant.get_status_display()},
            code="participant_final",
        )


def _refuse_if_not_followed(participant: Participant, visit_date: datetime.date) -> None:
    """No visit after the date a participant stopped being followed (lost to follow-up): reinstate first."""
    if participant_followed(participant.status):
        return
    if participant.status_date is None or visit_date > participant.status_date:
        raise Conflict(
            _("The participant is %(status)s since %(date)s: reinstate them before recording a later visit.")
            % {"status": participant.get_status_display(), "date": participant.status_date},
            code="participant_not_followed",
        )


def visit_complete(*, actor, visit: Visit, visit_date, reason: str = "") -> Visit:
    """Record a pending visit as done on `visit_date` (a site date, not in the future, not before its anchor).

    A date outside the window is accepted (the visit happened then); the window stays as planned, so the
    deviation shows. An unscheduled visit is dated by its visit: its window moves with it. A participant who
    is not followed (lost to follow-up) has no visit after that date: their visits are on hold until they are
    reinstated; one that took place before the loss can still be recorded.
    Atomic with the participant row, then the visit row, locked: two people recording one visit cannot both
    win, and a loss to follow-up cannot commit between the check and the completion.
    """
    require_site_staff(actor, visit.participant.site, gettext_lazy("record visits"))
    reason = _reason(reason, required=False)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason):
        participant = (
            Participant.objects.select_for_update(of=("self",), no_key=True)
            .select_related("site")
            .get(pk=visit.participant_id)
        )
        visit = _lock_visit(visit)
        if visit.state != VisitState.PENDING:
            raise Conflict(
                _("The visit is already %(state)s; reopen it first to change it.")
                % {"state": visit.get_state_display()},
                code="visit_not_pending",
            )
        if visit.kind == VisitKind.UNSCHEDULED:
            _check_visit_date(
                visit_date,
                participant=participant,
                not_before=participant.enrollment_date,
                what=_("enrollment"),
            )
            visit.target_date = visit.window_open = visit.window_close = visit_date
        else:
            anchor_date = visit.target_date - datetime.timedelta(days=visit.day or 0)
            not_before = max(anchor_date, participant.enrollment_date)
            what = (
                _("the %(anchor)s date") % {"anchor": visit.anchor}
                if not_before == anchor_date
                else _("enrollment")
            )
            _check_visit_date(visit_date, participant=participant, not_before=not_before, what=what)
            visit.reason = reason
        _refuse_if_not_followed(participant, visit_date)
        visit.state, visit.visit_date, visit.updated_by = VisitState.COMPLETED, visit_date, actor
        visit.save()
        return visit


def visit_miss(*, actor, visit: Visit, reason: str) -> Visit:
    """Declare a pending visit missed, with the reason (the patient could not come...). Not before its window
    opens: until then it may still happen. Atomic with the visit row locked."""
    require_site_staff(actor, visit.participant.site, gettext_lazy("record visits"))
    reason = _reason(reason, required=True, message=_("Say why the visit was missed."))
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason):
        visit = _lock_visit(visit)
        if visit.state == VisitState.COMPLETED:
            raise Conflict(
                _("The visit was done: it cannot be missed. Reopen it if it was recorded by mistake."),
                code="visit_completed",
            )
        if visit.state != VisitState.PENDING:
            raise Conflict(
                _("The visit is already %(state)s.") % {"state": visit.get_state_display()},
                code="visit_not_pending",
            )
        today = site_today(visit.participant.site)
        if visit_status(visit.state, visit.window_open, visit.window_close, today) == VisitStatus.UPCOMING:
            raise Conflict(
                _("The window opens on %(date)s: the visit cannot be missed before then.")
                % {"date": visit.window_open},
                code="visit_upcoming",
            )
        if (
            FormRecord.objects.filter(participant_id=visit.participant_id, visit_code=visit.code).exists()
            or visit.questionnaire_responses.filter(status=ResponseStatus.FINAL).exists()
        ):
            raise Conflict(
                _("Data was collected at this visit: record it as done instead of missed."),
                code="visit_has_data",
            )
        visit.state, visit.reason, visit.updated_by = VisitState.MISSED, reason, actor
        visit.save()
        return visit


def visit_reopen(*, actor, visit: Visit, reason: str) -> Visit:
    """Undo a completion or a missed declaration (a mistake), with the reason; the visit is pending again.

    The earlier values stay in the audit trail. Not for withdrawn or deceased participants: their visits are
    final. Atomic with the visit row locked.
    """
    require_site_staff(actor, visit.participant.site, gettext_lazy("reopen visits"))
    reason = _reason(reason, required=True, message=_("Say why the visit is reopened."))
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason):
        # The participant's row first (the lock order above): a withdrawal makes only pending visits not
        # applicable, so without this lock one committed during the reopening would leave a pending visit
        # to a withdrawn participant. The status below is then read after any such withdrawal.
        Participant.objects.select_for_update().filter(pk=visit.participant_id).exists()
        visit = _lock_visit(visit)
        if visit.state not in (VisitState.COMPLETED, VisitState.MISSED):
            raise Conflict(
                _("Only a visit that was done or missed can be reopened; this one is %(state)s.")
                % {"state": visit.get_state_display()},
                code="visit_not_decided",
            )
        _refuse_if_final(visit.participant)
        visit.state, visit.visit_date, visit.updated_by = VisitState.PENDING, None, actor
        if visit.kind == VisitKind.SCHEDULED:
            visit.reason = ""  # an unscheduled visit keeps why it was added
        visit.save()
        return visit


def visit_unscheduled_create(*, actor, participant: Participant, visit_date, reason: str) -> Visit:
    """Add an unscheduled visit that took place on `visit_date` (new back pain...), recorded as done.

    Codes run U1, U2... per participant; its forms and questionnaires are the protocol's `unscheduled` ones.
    Not after the date a participant was lost to follow-up (reinstate them first), as for visit_complete.
    Atomic with the participant row locked, so two additions cannot take the same code.
    """
    require_site_staff(actor, participant.site, gettext_lazy("add visits"))
    reason = _reason(reason, required=True, message=_("Say why the unscheduled visit took place."))
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason):
        participant = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("site", "screening__protocol_version")
            .get(pk=participant.pk)
        )
        _refuse_if_final(participant)
        _check_visit_date(
            visit_date, participant=participant, not_before=participant.enrollment_date, what=_("enrollment")
        )
        _refuse_if_not_followed(participant, visit_date)
        visits = participant.screening.protocol_version.definition.get("visits") or {}
        extra = visits.get("unscheduled") or {}
        number = (
            (
                Visit.objects.filter(participant=participant, kind=VisitKind.UNSCHEDULED).aggregate(
                    last=Max("sequence")
                )["last"]
                or UNSCHEDULED_SEQUENCE
            )
            - UNSCHEDULED_SEQUENCE
            + 1
        )
        label = extra.get("label") or UNSCHEDULED_LABEL
        return Visit.objects.create(
            participant=participant,
            code=f"U{number}",
            label={language: text.replace("{n}", str(number)) for language, text in label.items()},
            kind=VisitKind.UNSCHEDULED,
            sequence=UNSCHEDULED_SEQUENCE + number,
            target_date=visit_date,
            window_open=visit_date,
            window_close=visit_date,
            forms=list(extra.get("forms", [])),
            questionnaires=list(extra.get("questionnaires", [])),
            state=VisitState.COMPLETED,
            visit_date=visit_date,
            reason=reason,
            updated_by=actor,
        )
