"""Life-cycle steps of a form: complete, verify (SDV), lock and unlock. Signing is in signatures.py."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trial.access import require_role_at
from trial.audit import audit_context
from trial.errors import Conflict, Forbidden, InvalidInput, ReasonRequired
from trial.models import Participant

from ..engine.validate import evaluate
from ..models import FormRecord, FormStatus, QueryStatus
from .common import (
    ENTRY_ROLES,
    LOCKING_ROLES,
    MONITOR_ONLY,
    after_write,
    check_context,
    form_for,
    lock_record,
    require_version,
)


def transition(
    *,
    actor,
    participant: Participant,
    form_code: str,
    expected_version: int | None,
    roles,
    doing,
    allowed_from: tuple[str, ...],
    attests: bool = False,
    visit=None,
):
    """Common frame of a life-cycle step: role, row lock, version, allowed state. Yields the locked record.

    `doing`: the step as "... can <doing>", a lazily translated phrase for the refusal.
    """
    form = form_for(participant, form_code, visit)
    # Coordinators and investigators act at their own site only; monitors, data managers and the principal
    # investigator study-wide (trial.access.roles_at).
    require_role_at(actor, participant.site, roles, doing)
    record = lock_record(participant, form_code, visit)
    if record is None:
        raise Conflict(_("The form has not been started."), code="not_started")
    # A step that attests to the data the person saw (verify, sign, lock) must name its version (11.70).
    if expected_version is not None or attests:
        require_version(record, expected_version)
    if record.status not in allowed_from:
        raise Conflict(
            _("This step is not possible now: the form is %(status)s.")
            % {"status": record.get_status_display()},
            code="bad_transition",
        )
    return form, record


def crf_complete(
    *, actor, participant: Participant, form_code: str, expected_version: int | None = None, visit=None
) -> FormRecord:
    """Mark a draft complete: every required field present and every hard check passing (else 400)."""
    with transaction.atomic(durable=True), audit_context(actor=actor):
        form, record = transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=ENTRY_ROLES,
            doing=gettext_lazy("mark this form complete"),
            allowed_from=(FormStatus.DRAFT,),
        )
        context = check_context(participant, exclude=form_code, visit=visit, data=record.data)
        findings = evaluate(form, record.data, context)
        if findings.incomplete:
            raise InvalidInput(_("The form cannot be completed yet."), field_errors=findings.incomplete)
        record.status, record.completed_at, record.version = (
            FormStatus.COMPLETE,
            timezone.now(),
            record.version + 1,
        )
        record.save(update_fields=["status", "completed_at", "version", "updated_at"])
        after_write(record, form, actor)
        return record


def crf_verify(
    *, actor, participant: Participant, form_code: str, expected_version: int | None = None, visit=None
) -> FormRecord:
    """Source data verification by a monitor."""
    with transaction.atomic(durable=True), audit_context(actor=actor):
        _form, record = transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=MONITOR_ONLY,
            doing=gettext_lazy("verify this form"),
            attests=True,
            allowed_from=(FormStatus.COMPLETE,),
        )
        if record.updated_by_id == actor.pk:
            raise Forbidden(_("You entered this data: another monitor must verify it."), code="own_entry")
        record.status, record.verified_by, record.verified_at = FormStatus.VERIFIED, actor, timezone.now()
        record.version += 1
        record.save(update_fields=["status", "verified_by", "verified_at", "version", "updated_at"])
        return record


def crf_lock(
    *, actor, participant: Participant, form_code: str, expected_version: int | None = None, visit=None
) -> FormRecord:
    with transaction.atomic(durable=True), audit_context(actor=actor):
        _form, record = transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=LOCKING_ROLES,
            doing=gettext_lazy("lock this form"),
            attests=True,
            allowed_from=(FormStatus.SIGNED,),
        )
        if record.queries.exclude(status=QueryStatus.CLOSED).exists():
            raise Conflict(
                _("The form has queries that are not closed; close them before locking."), code="open_queries"
            )
        record.status, record.locked_by, record.locked_at = FormStatus.LOCKED, actor, timezone.now()
        record.version += 1
        record.save(update_fields=["status", "locked_by", "locked_at", "version", "updated_at"])
        return record


def crf_unlock(
    *,
    actor,
    participant: Participant,
    form_code: str,
    reason: str,
    expected_version: int | None = None,
    visit=None,
) -> FormRecord:
    """Unlock for a correction; the form goes back to signed, and the next edit reopens it."""
    if not (reason or "").strip():
        raise ReasonRequired(
            _("Unlocking needs a reason (X-Change-Reason)."),
            field_errors={"reason": [_("Give a reason for unlocking.")]},
        )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason.strip()):
        _form, record = transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=LOCKING_ROLES,
            doing=gettext_lazy("unlock this form"),
            attests=True,
            allowed_from=(FormStatus.LOCKED,),
        )
        record.status, record.locked_by, record.locked_at = FormStatus.SIGNED, None, None
        record.version += 1
        record.save(update_fields=["status", "locked_by", "locked_at", "version", "updated_at"])
        return record
