"""Saving a form's data: values checked, derived values computed, a new version under optimistic
concurrency, automatic queries kept in step, and the forms that read this one re-checked."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trial.access import require_site_staff
from trial.audit import audit_context
from trial.errors import Conflict, ReasonRequired
from trial.i18n import localized
from trial.models import Participant, ParticipantStatus

from ..engine.definitions import form_definition
from ..engine.paths import form_dependents
from ..engine.validate import Findings, clean_data, derive, evaluate
from ..hooks import visit_key, visit_of
from ..models import FormRecord, FormStatus
from .common import (
    EDITED_AFTER_COMPLETION,
    after_write,
    check_context,
    form_for,
    invalid,
    lock_record,
    participant_forms_data,
    reopen,
    require_version,
)
from .exams import exam_links_resolve
from .queries import sync_auto_queries


def _recheck_dependents(participant: Participant, form_code: str, forms: dict, actor) -> None:
    """Forms that read this one (procedure date, fracture levels, treated levels...) follow its change.

    Their derived values are computed again: a record whose data changes gets a new version (audited, in the
    same transaction and context as the change that caused it), loses its verification and signatures as an
    edit would, and its follow-up reacts (adjudication cases). A locked reader would change under its lock:
    the change is refused until a data manager unlocks it. Then every reader's queries are re-evaluated.

    Bounded by the number of form definitions and visits, not by data: one query for the records, then a
    sync each (and a save for those whose derived values changed).
    """
    readers = form_dependents().get(form_code, frozenset())
    if not readers:
        return
    for record in (
        FormRecord.objects.select_for_update(of=("self",))
        .filter(participant=participant, form_code__in=readers)
        .order_by("pk")
    ):
        reader = form_definition(record.form_code)
        # A visit record's exam checks judge against its visit: one query more for each that links exams.
        linking = reader.exam_fields and record.visit_code
        visit = visit_of(participant=participant, code=record.visit_code) if linking else None
        context = check_context(
            participant, exclude=record.form_code, forms=forms, visit=visit, data=record.data
        )
        data = derive(reader, record.data, context)
        findings = evaluate(reader, data, context)
        changed = data != record.data
        if changed:
            if record.status == FormStatus.LOCKED:
                raise Conflict(
                    _(
                        "%(form)s%(visit)s is locked and its values computed from this form would change: a "
                        "data manager must unlock it first."
                    )
                    % {
                        "form": localized(reader.title),
                        "visit": f" ({record.visit_code})" if record.visit_code else "",
                    },
                    code="dependent_locked",
                )
            if record.status in EDITED_AFTER_COMPLETION:
                reopen(record, complete=not findings.incomplete)
            record.data, record.version, record.updated_by = data, record.version + 1, actor
            record.save()
        sync_auto_queries(record, findings.warnings, reader)
        if changed:
            after_write(record, reader, actor)


def _participant_open(status: str, record: FormRecord | None) -> None:
    """After a withdrawal the data already collected can be corrected, but no new form is started.

    `status` is read under the participant's row lock: the caller's copy may predate a withdrawal.
    """
    if record is None and status == ParticipantStatus.WITHDRAWN:
        raise Conflict(_("The participant has withdrawn: no new form can be started."), code="withdrawn")


def crf_save(
    *,
    actor,
    participant: Participant,
    form_code: str,
    data,
    expected_version: int | None,
    reason: str = "",
    visit=None,
) -> tuple[FormRecord, Findings]:
    """Save a form's data (a draft until completed). Values that cannot be stored are refused (400).

    Atomic, with the record row locked: the version check and the write happen as one, so two people saving
    the same form cannot both win. Derived values are computed from the participant's other forms as they are
    inside the lock; soft warnings open automatic queries in the same transaction.
    """
    form = form_for(participant, form_code, visit)
    require_site_staff(actor, participant.site, gettext_lazy("enter data in this form"))
    data, link_errors = exam_links_resolve(form, participant, data)
    clean, findings = clean_data(form, data)
    for path, messages in link_errors.items():
        findings.errors.setdefault(path, []).extend(messages)
    if findings.errors:
        raise invalid(findings, _("Some values cannot be saved."))
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=(reason or "").strip()):
        # The participant's row first: two first saves of one form (no record row yet to lock) and saves of
        # forms that check each other queue here instead of racing. Their status is read again under the
        # lock: a withdrawal committed since the caller read the participant is judged, not missed.
        status = (
            Participant.objects.select_for_update().values_list("status", flat=True).get(pk=participant.pk)
        )
        record = lock_record(participant, form_code, visit)
        _participant_open(status, record)
        require_version(record, expected_version)
        if record and record.status == FormStatus.LOCKED:
            raise Conflict(_("The form is locked; a data manager must unlock it first."), code="locked")
        forms = participant_forms_data(participant)
        context = check_context(participant, exclude=form_code, forms=forms, visit=visit, data=clean)
        clean = derive(form, clean, context)
        findings = evaluate(form, clean, context)
        if record is not None and record.data == clean:
            return record, findings  # nothing changed: no new version, no audit event, no reason needed
        if record and record.status in EDITED_AFTER_COMPLETION and not (reason or "").strip():
            raise ReasonRequired(
                _("This form was completed: a reason for change is required (X-Change-Reason)."),
                field_errors={"reason": [_("Give a reason for the change.")]},
            )
        if record is None:
            record = FormRecord(participant=participant, form_code=form_code, visit_code=visit_key(visit))
        if record.status in EDITED_AFTER_COMPLETION:
            reopen(record, complete=not findings.incomplete)
        record.data, record.form_version, record.updated_by = clean, form.version, actor
        record.version = (record.version + 1) if record.pk else 1
        record.save()
        sync_auto_queries(record, findings.warnings, form)
        if visit is None:  # only participant-level forms are read by others
            _recheck_dependents(participant, form_code, {**forms, form_code: clean}, actor)
        after_write(record, form, actor)
        return record, findings
