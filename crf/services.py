"""Every write to CRF data: save with optimistic concurrency, the life cycle, e-signatures and queries.

Life cycle: (not started) -> draft -> complete -> verified -> signed -> locked. Editing a complete, verified
or signed form needs a reason, invalidates its signature and clears its verification. Unlocking needs a
reason.

A record is found by (participant, form code, visit): the forms the protocol lists once have no visit; the
forms a visit collects (its `forms`, e.g. the follow-up MRI at M12) have one record per visit. Every service
takes `visit=None` for the first kind.
"""

import datetime
import hashlib
import json
import logging
import re

from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trial.access import require_role_at, roles_at
from trial.audit import audit_context
from trial.errors import Conflict, DomainError, Forbidden, InvalidInput, ReasonRequired
from trial.models import Participant, ParticipantStatus
from trial.models.site import Role
from trial.services.screening import site_today

from .engine.definitions import FormDef, form_definition, text_in
from .engine.paths import flatten, form_dependents, group_keys
from .engine.validate import CheckContext, Findings, Warning, clean_data, derive, evaluate
from .models import (
    DataQuery,
    FormRecord,
    FormStatus,
    QueryAction,
    QueryMessage,
    QueryStatus,
    Signature,
    SignatureMeaning,
)

logger = logging.getLogger(__name__)

ENTRY_ROLES = frozenset({Role.COORDINATOR, Role.INVESTIGATOR})
MONITOR_ROLES = frozenset({Role.MONITOR, Role.DATA_MANAGER})
SIGNING_ROLES = frozenset({Role.INVESTIGATOR, Role.PRINCIPAL_INVESTIGATOR})
LOCKING_ROLES = frozenset({Role.DATA_MANAGER})
MONITOR_ONLY = frozenset({Role.MONITOR})
EDITED_AFTER_COMPLETION = (FormStatus.COMPLETE, FormStatus.VERIFIED, FormStatus.SIGNED)


class PreconditionRequired(DomainError):
    status_code = 428
    code = "precondition_required"


def enabled_forms(participant: Participant) -> list[FormDef]:
    """The forms the participant's protocol version enables, in grid order."""
    codes = participant.screening.protocol_version.definition.get("forms", [])
    return sorted((f for c in codes if (f := form_definition(c))), key=lambda f: f.order)


def visit_forms(participant: Participant) -> set[str]:
    """The form codes the protocol's visits collect (scheduled and unscheduled), from the protocol file."""
    visits = participant.screening.protocol_version.definition.get("visits") or {}
    codes = {code for visit in visits.get("schedule") or [] for code in visit.get("forms") or []}
    return codes | set((visits.get("unscheduled") or {}).get("forms") or [])


def form_for(participant: Participant, form_code: str, visit=None) -> FormDef:
    """The definition of a form the participant has: listed by the protocol, or collected at `visit`.

    A visit form needs its visit, and a visit collects only its own forms (400 otherwise). The visit is the
    participant's own: callers find it by the participant (a visit of someone else is a 404 there).
    """
    if visit is not None:
        if visit.participant_id != participant.pk:
            raise InvalidInput(_("Unknown visit."), field_errors={"visit": [_("Unknown visit.")]})
        form = form_definition(form_code) if form_code in (visit.forms or []) else None
        if form is None:
            raise InvalidInput(
                _("Visit %(visit)s does not collect form %(code)s.")
                % {"visit": visit.code, "code": form_code},
                field_errors={"form": [_("Not collected at this visit.")]},
            )
        return form
    form = next((f for f in enabled_forms(participant) if f.code == form_code), None)
    if form is None and form_code in visit_forms(participant) and form_definition(form_code):
        raise InvalidInput(
            _("Form %(code)s is collected at a visit: open it from the visit.") % {"code": form_code},
            field_errors={"visit": [_("This form needs a visit.")]},
        )
    if form is None:
        raise InvalidInput(
            _("This study does not use form %(code)s.") % {"code": form_code},
            field_errors={"form": [_("Unknown form.")]},
        )
    return form


def participant_forms_data(participant: Participant) -> dict:
    """The data of the participant-level forms by code (one query). Visit records never shadow them."""
    return dict(
        FormRecord.objects.filter(participant=participant, visit__isnull=True).values_list(
            "form_code", "data"
        )
    )


def check_context(participant: Participant, *, exclude: str, forms: dict | None = None) -> CheckContext:
    """Participant dates and the data of the participant's other participant-level forms (one query unless
    `forms` is given): the checks and derived values of any form, visit forms too, read those."""
    if forms is None:
        forms = participant_forms_data(participant)
    return CheckContext(
        today=site_today(participant.site),
        consent_date=participant.consent_date,
        enrollment_date=participant.enrollment_date,
        other_forms={code: data for code, data in forms.items() if code != exclude},
    )


def _invalid(findings: Findings, message: str) -> InvalidInput:
    return InvalidInput(message, field_errors=findings.errors or findings.incomplete)


def _require_version(record: FormRecord | None, expected: int | None) -> None:
    """Optimistic concurrency: a write names the version it read (If-Match); a stale one changes nothing."""
    current = record.version if record else 0
    if expected is None:
        if record is not None:
            raise PreconditionRequired(_("Send If-Match with the version you read (the ETag)."))
        return
    if expected != current:
        raise Conflict(
            _("The form changed since you read it (version %(current)s, you sent %(expected)s). Reload it.")
            % {"current": current, "expected": expected},
            code="stale_version",
        )


def _lock_record(participant: Participant, form_code: str, visit=None) -> FormRecord | None:
    return (
        FormRecord.objects.select_for_update()
        .filter(participant=participant, form_code=form_code, visit=visit)
        .first()
    )


def _sync_auto_queries(record: FormRecord, warnings: list[Warning], form: FormDef) -> None:
    """Keep a record's automatic queries in step with its soft warnings. Four SQL queries at most.

    - A warning with no live query opens one, remembering the value that raised it; but if a person closed
      the last query of that check and value, their decision stands until the value changes.
    - A live query whose warning went away is closed as resolved by the data, unless a person reopened it:
      then only a person closes it.
    """
    values = flatten(record.data, group_keys(form))
    live, last_closed = {}, {}
    for query in DataQuery.objects.filter(record=record, auto=True).order_by("created_at", "id"):
        key = (query.check_code, query.field_path)
        (last_closed if query.status == QueryStatus.CLOSED else live)[key] = query
    wanted = {(w.check, w.path): w for w in warnings}
    new = []
    for key, warning in wanted.items():
        closed = last_closed.get(key)
        value = values.get(warning.path)
        if key in live or (closed and not closed.resolved_by_data and closed.trigger_value == value):
            continue
        new.append(
            DataQuery(
                record=record,
                field_path=warning.path,
                check_code=warning.check,
                auto=True,
                trigger_value=value,
            )
        )
    resolved = [q for key, q in live.items() if key not in wanted and not q.reopened]
    now = timezone.now()
    DataQuery.objects.bulk_create(new)
    for query in resolved:
        query.status, query.closed_at, query.resolved_by_data = QueryStatus.CLOSED, now, True
    DataQuery.objects.bulk_update(resolved, ["status", "closed_at", "resolved_by_data", "updated_at"])
    QueryMessage.objects.bulk_create(
        [
            QueryMessage(query=q, action=QueryAction.RAISE, text=wanted[(q.check_code, q.field_path)].message)
            for q in new
        ]
        + [
            QueryMessage(query=q, action=QueryAction.CLOSE, text=_("Resolved by a change of the data."))
            for q in resolved
        ]
    )


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
        .select_related("visit")
        .order_by("pk")
    ):
        reader = form_definition(record.form_code)
        context = check_context(participant, exclude=record.form_code, forms=forms)
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
                        "form": text_in(reader.title),
                        "visit": f" ({record.visit.code})" if record.visit else "",
                    },
                    code="dependent_locked",
                )
            if record.status in EDITED_AFTER_COMPLETION:
                _reopen(record, complete=not findings.incomplete)
            record.data, record.version, record.updated_by = data, record.version + 1, actor
            record.save()
        _sync_auto_queries(record, findings.warnings, reader)
        if changed:
            _after_write(record, reader, actor)


def _participant_open(participant: Participant, record: FormRecord | None) -> None:
    """After a withdrawal the data already collected can be corrected, but no new form is started."""
    if record is None and participant.status == ParticipantStatus.WITHDRAWN:
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
    require_role_at(actor, participant.site, ENTRY_ROLES, "enter data", site_level=True)
    clean, findings = clean_data(form, data)
    if findings.errors:
        raise _invalid(findings, _("Some values cannot be saved."))
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=(reason or "").strip()):
        # The participant's row first: two first saves of one form (no record row yet to lock) and saves of
        # forms that check each other queue here instead of racing.
        Participant.objects.select_for_update().filter(pk=participant.pk).exists()
        record = _lock_record(participant, form_code, visit)
        _participant_open(participant, record)
        _require_version(record, expected_version)
        if record and record.status == FormStatus.LOCKED:
            raise Conflict(_("The form is locked; a data manager must unlock it first."), code="locked")
        forms = participant_forms_data(participant)
        context = check_context(participant, exclude=form_code, forms=forms)
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
            record = FormRecord(participant=participant, form_code=form_code, visit=visit)
        if record.status in EDITED_AFTER_COMPLETION:
            _reopen(record, complete=not findings.incomplete)
        record.data, record.form_version, record.updated_by = clean, form.version, actor
        record.version = (record.version + 1) if record.pk else 1
        record.save()
        _sync_auto_queries(record, findings.warnings, form)
        if visit is None:  # only participant-level forms are read by others
            _recheck_dependents(participant, form_code, {**forms, form_code: clean}, actor)
        _after_write(record, form, actor)
        return record, findings


def _after_write(record: FormRecord, form: FormDef, actor) -> None:
    """Follow-up reacts in the same transaction: visits from anchor forms, adjudication cases from MRIs."""
    from followup.hooks import record_written  # followup builds on crf: imported late to avoid a cycle

    record_written(record=record, form=form, actor=actor)


def _reopen(record: FormRecord, *, complete: bool) -> None:
    """An edit after completion: clear verification, invalidate signatures, fall back to complete or draft."""
    record.status = FormStatus.COMPLETE if complete else FormStatus.DRAFT
    record.verified_by, record.verified_at = None, None
    record.signatures.filter(invalidated_at__isnull=True).update(invalidated_at=timezone.now())


def _transition(
    *,
    actor,
    participant: Participant,
    form_code: str,
    expected_version: int | None,
    roles,
    action: str,
    allowed_from: tuple[str, ...],
    attests: bool = False,
    visit=None,
):
    """Common frame of a life-cycle step: role, row lock, version, allowed state. Yields the locked record."""
    form = form_for(participant, form_code, visit)
    # Entering data and signing as investigator need a role at this very site; monitors, data managers and
    # the principal investigator act study-wide.
    if roles is SIGNING_ROLES:
        site_roles = roles_at(actor, participant.site, site_level=True)
        if Role.INVESTIGATOR not in site_roles and Role.PRINCIPAL_INVESTIGATOR not in roles_at(
            actor, participant.site
        ):
            raise Forbidden(_("Only an investigator of this site or the principal investigator may sign."))
    else:
        require_role_at(actor, participant.site, roles, action, site_level=roles is ENTRY_ROLES)
    record = _lock_record(participant, form_code, visit)
    if record is None:
        raise Conflict(_("The form has not been started."), code="not_started")
    # A step that attests to the data the person saw (verify, sign, lock) must name its version (11.70).
    if expected_version is not None or attests:
        _require_version(record, expected_version)
    if record.status not in allowed_from:
        raise Conflict(
            _("A %(status)s form cannot be %(action)s.")
            % {"status": record.get_status_display(), "action": action},
            code="bad_transition",
        )
    return form, record


def crf_complete(
    *, actor, participant: Participant, form_code: str, expected_version: int | None = None, visit=None
) -> FormRecord:
    """Mark a draft complete: every required field present and every hard check passing (else 400)."""
    with transaction.atomic(durable=True), audit_context(actor=actor):
        form, record = _transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=ENTRY_ROLES,
            action="completed",
            allowed_from=(FormStatus.DRAFT,),
        )
        findings = evaluate(form, record.data, check_context(participant, exclude=form_code))
        if findings.incomplete:
            raise InvalidInput(_("The form cannot be completed yet."), field_errors=findings.incomplete)
        record.status, record.completed_at, record.version = (
            FormStatus.COMPLETE,
            timezone.now(),
            record.version + 1,
        )
        record.save(update_fields=["status", "completed_at", "version", "updated_at"])
        _after_write(record, form, actor)
        return record


def crf_verify(
    *, actor, participant: Participant, form_code: str, expected_version: int | None = None, visit=None
) -> FormRecord:
    """Source data verification by a monitor."""
    with transaction.atomic(durable=True), audit_context(actor=actor):
        _form, record = _transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=MONITOR_ONLY,
            action="verified",
            attests=True,
            allowed_from=(FormStatus.COMPLETE,),
        )
        if record.updated_by_id == actor.pk:
            raise Forbidden(_("You entered this data: another monitor must verify it."), code="own_entry")
        record.status, record.verified_by, record.verified_at = FormStatus.VERIFIED, actor, timezone.now()
        record.version += 1
        record.save(update_fields=["status", "verified_by", "verified_at", "version", "updated_at"])
        return record


def data_fingerprint(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


SIGNING_ATTEMPTS = 5  # wrong passwords allowed before signing is refused for a while (21 CFR 11.300(d))
SIGNING_LOCKOUT_SECONDS = 15 * 60


def _attempts_key(actor) -> str:
    return f"crf:sign-failures:{actor.pk}:{actor.date_joined.timestamp():.0f}"


def _refuse_if_locked_out(actor) -> None:
    if (cache.get(_attempts_key(actor)) or 0) >= SIGNING_ATTEMPTS:
        raise Forbidden(
            _("Too many wrong passwords: signing is blocked for %(minutes)s minutes.")
            % {"minutes": SIGNING_LOCKOUT_SECONDS // 60},
            code="signing_locked_out",
        )


def _count_failed_signature(actor) -> None:
    """Count a wrong signing password (kept in Redis for the lock-out window) and log it without identity."""
    key = _attempts_key(actor)
    cache.add(key, 0, SIGNING_LOCKOUT_SECONDS)
    failures = cache.incr(key)
    logger.warning("e-signature refused: wrong password for user id %s (failure %s)", actor.pk, failures)


def crf_sign(
    *,
    actor,
    participant: Participant,
    form_code: str,
    password: str,
    meaning: str,
    expected_version: int | None = None,
    visit=None,
) -> Signature:
    """An investigator's e-signature: the password again (11.200), printed name, time and meaning (11.50),
    linked to the record version and a hash of its data (11.70)."""
    if meaning not in SignatureMeaning.values:
        raise InvalidInput(
            _("Choose the meaning of the signature."), field_errors={"meaning": [_("Invalid.")]}
        )
    printed_name = actor.get_full_name().strip()
    if not printed_name:
        raise InvalidInput(
            _(
                "Your account has no full name; a signature shows the signer's printed name (21 CFR 11.50). "
                "Ask the data manager to add it."
            ),
            field_errors={"printed_name": [_("No full name on this account.")]},
        )
    _refuse_if_locked_out(actor)
    if not password or authenticate(username=actor.get_username(), password=password) is None:
        _count_failed_signature(actor)
        raise Forbidden(_("The password is not correct; the form was not signed."), code="bad_password")
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=f"signature: {meaning}"):
        _form, record = _transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=SIGNING_ROLES,
            action="signed",
            attests=True,
            allowed_from=(FormStatus.VERIFIED,),
        )
        now = timezone.now()
        record.status, record.version = FormStatus.SIGNED, record.version + 1
        record.save(update_fields=["status", "version", "updated_at"])
        return Signature.objects.create(
            record=record,
            signer=actor,
            printed_name=printed_name,
            meaning=meaning,
            signed_at=now,
            record_version=record.version,
            data_sha256=data_fingerprint(record.data),
        )


def crf_lock(
    *, actor, participant: Participant, form_code: str, expected_version: int | None = None, visit=None
) -> FormRecord:
    with transaction.atomic(durable=True), audit_context(actor=actor):
        _form, record = _transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=LOCKING_ROLES,
            action="locked",
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
        _form, record = _transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=LOCKING_ROLES,
            action="unlocked",
            attests=True,
            allowed_from=(FormStatus.LOCKED,),
        )
        record.status, record.locked_by, record.locked_at = FormStatus.SIGNED, None, None
        record.version += 1
        record.save(update_fields=["status", "locked_by", "locked_at", "version", "updated_at"])
        return record


# --- data queries ---------------------------------------------------------------------------------------


def _query_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write a message."), field_errors={"text": [_("Write a message.")]})
    if len(text) > 2000:
        raise InvalidInput(
            _("The message is too long."), field_errors={"text": [_("At most 2000 characters.")]}
        )
    return text


FIELD_PATH = re.compile(r"^(?P<code>[a-z][a-z0-9_]*)(?:\[(?P<key>[^\]]{1,32})\]\.(?P<sub>[a-z][a-z0-9_]*))?$")


def _check_field_path(record: FormRecord, field_path: str) -> None:
    """A query names one value that exists: a top-level field, or a field of an existing row."""
    form = form_definition(record.form_code)
    match = FIELD_PATH.match(field_path)
    group = form.group(match["code"]) if match and form else None
    if match and form and match["sub"] is None and form.field(match["code"]):
        return
    if (
        match
        and group
        and group.field(match["sub"] or "")
        and any(row.get(group.key) == match["key"] for row in record.data.get(group.code, []))
    ):
        return
    raise InvalidInput(_("Unknown field."), field_errors={"field_path": [_("Name a field of this form.")]})


def query_raise(*, actor, record: FormRecord, field_path: str, text: str) -> DataQuery:
    """A monitor or data manager asks about one value of a form."""
    text = _query_text(text)
    require_role_at(actor, record.participant.site, MONITOR_ROLES, "raise queries")
    _check_field_path(record, field_path)
    with transaction.atomic(durable=True), audit_context(actor=actor):
        query = DataQuery.objects.create(record=record, field_path=field_path, raised_by=actor)
        QueryMessage.objects.create(query=query, action=QueryAction.RAISE, author=actor, text=text)
        return query


QUERY_STEPS = {
    # action: (roles allowed, statuses it applies to, status after)
    QueryAction.ANSWER: (ENTRY_ROLES, (QueryStatus.OPEN,), QueryStatus.ANSWERED),
    QueryAction.CLOSE: (MONITOR_ROLES, (QueryStatus.OPEN, QueryStatus.ANSWERED), QueryStatus.CLOSED),
    QueryAction.REOPEN: (MONITOR_ROLES, (QueryStatus.ANSWERED, QueryStatus.CLOSED), QueryStatus.OPEN),
}


def query_step(*, actor, query: DataQuery, action: str, text: str) -> DataQuery:
    """Answer (coordinator), close or reopen (monitor, data manager) a query, with a message in its thread."""
    roles, allowed_from, after = QUERY_STEPS[action]
    text = _query_text(text)
    require_role_at(actor, query.record.participant.site, roles, f"{action} queries")
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=text[:200]):
        # The form's row first, as crf_save does: a reopen and an automatic sync cannot interleave.
        FormRecord.objects.select_for_update().filter(pk=query.record_id).exists()
        query = DataQuery.objects.select_for_update().get(pk=query.pk)
        if query.status not in allowed_from:
            raise Conflict(
                _("A %(status)s query cannot be %(action)s.")
                % {"status": query.get_status_display(), "action": QueryAction(action).label},
                code="bad_transition",
            )
        if (
            action == QueryAction.REOPEN
            and query.auto
            and (
                DataQuery.objects.filter(
                    record_id=query.record_id,
                    auto=True,
                    check_code=query.check_code,
                    field_path=query.field_path,
                )
                .exclude(status=QueryStatus.CLOSED)
                .exclude(pk=query.pk)
                .exists()
            )
        ):
            raise Conflict(_("A newer query on this value is open; continue in that one."), code="superseded")
        query.status = after
        query.closed_at = timezone.now() if after == QueryStatus.CLOSED else None
        query.reopened = query.reopened or action == QueryAction.REOPEN
        query.save(update_fields=["status", "closed_at", "reopened", "updated_at"])
        QueryMessage.objects.create(query=query, action=action, author=actor, text=text)
        return query


def query_age_days(query: DataQuery, today: datetime.date) -> int:
    return (today - timezone.localdate(query.created_at)).days
