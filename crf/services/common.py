"""What the CRF services share: the roles of each step, the forms a participant has, the version check and
the record's row lock, and what follows every write (an edit after completion, follow-up's hook)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from trial.clock import site_today
from trial.errors import Conflict, InvalidInput, PreconditionRequired
from trial.i18n import localized
from trial.models import Participant
from trial.models.site import SITE_STAFF_ROLES, Role

from .. import hooks
from ..engine.definitions import FormDef, form_definition
from ..engine.validate import CheckContext, Findings
from ..hooks import visit_key
from ..models import FormRecord, FormStatus
from .exams import linked_exam_facts

# Who does each step. Coordinators and investigators count only at their own site (trial.access.roles_at);
# monitors, data managers and the principal investigator act study-wide or at their site.
ENTRY_ROLES = SITE_STAFF_ROLES
MONITOR_ROLES = frozenset({Role.MONITOR, Role.DATA_MANAGER})
SIGNING_ROLES = frozenset({Role.INVESTIGATOR, Role.PRINCIPAL_INVESTIGATOR})
LOCKING_ROLES = frozenset({Role.DATA_MANAGER})
MONITOR_ONLY = frozenset({Role.MONITOR})
EDITED_AFTER_COMPLETION = (FormStatus.COMPLETE, FormStatus.VERIFIED, FormStatus.SIGNED)


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
                _("The visit “%(visit)s” does not collect the form “%(form)s”.")
                % {"visit": localized(visit.label) or visit.code, "form": _form_name(form_code)},
                field_errors={"form": [_("Not collected at this visit.")]},
            )
        return form
    form = next((f for f in enabled_forms(participant) if f.code == form_code), None)
    if form is None and form_code in visit_forms(participant) and form_definition(form_code):
        raise InvalidInput(
            _("The form “%(form)s” is collected at a visit: open it from the visit.")
            % {"form": _form_name(form_code)},
            field_errors={"visit": [_("This form needs a visit.")]},
        )
    if form is None:
        raise InvalidInput(
            _("This study does not use the form “%(form)s”.") % {"form": _form_name(form_code)},
            field_errors={"form": [_("Unknown form.")]},
        )
    return form


def _form_name(form_code: str) -> str:
    """A form named in the user's language in a message; a code that names no form is said as it was sent."""
    form = form_definition(form_code)
    return localized(form.title) if form else form_code


def participant_forms_data(participant: Participant) -> dict:
    """The data of the participant-level forms by code (one query). Visit records never shadow them."""
    return dict(
        FormRecord.objects.filter(participant=participant, visit_code="").values_list("form_code", "data")
    )


def check_context(
    participant: Participant,
    *,
    exclude: str,
    forms: dict | None = None,
    visit=None,
    data: dict | None = None,
    exams: dict | None = None,
) -> CheckContext:
    """Participant dates and the data of the participant's other participant-level forms (one query unless
    `forms` is given): the checks and derived values of any form, visit forms too, read those.

    For the checks of an `exam` field (crf/engine/exams.py): `visit`, the visit that collects form `exclude`
    (its kind and window), and the facts of the exams that `data` (the form's own) links, one more query
    when it links any, unless `exams` gives them."""
    if forms is None:
        forms = participant_forms_data(participant)
    if exams is None:
        exams = linked_exam_facts(participant, exclude, data)
    return CheckContext(
        today=site_today(participant.site),
        consent_date=participant.consent_date,
        enrollment_date=participant.enrollment_date,
        other_forms={code: data for code, data in forms.items() if code != exclude},
        visit_kind=visit.kind if visit is not None else None,
        visit_window=(visit.window_open, visit.window_close) if visit is not None else None,
        exams=exams,
    )


def invalid(findings: Findings, message: str) -> InvalidInput:
    return InvalidInput(message, field_errors=findings.errors or findings.incomplete)


def require_version(record: FormRecord | None, expected: int | None) -> None:
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


def lock_record(participant: Participant, form_code: str, visit=None) -> FormRecord | None:
    return (
        FormRecord.objects.select_for_update()
        .filter(participant=participant, form_code=form_code, visit_code=visit_key(visit))
        .first()
    )


def after_write(record: FormRecord, form: FormDef, actor) -> None:
    """Follow-up reacts in the same transaction: visits from anchor forms, adjudication cases from MRIs."""
    hooks.record_written(record=record, form=form, actor=actor)


def reopen(record: FormRecord, *, complete: bool) -> None:
    """An edit after completion: clear verification, invalidate signatures, fall back to complete or draft."""
    record.status = FormStatus.COMPLETE if complete else FormStatus.DRAFT
    record.verified_by, record.verified_at = None, None
    record.signatures.filter(invalidated_at__isnull=True).update(invalidated_at=timezone.now())
