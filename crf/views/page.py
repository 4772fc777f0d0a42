"""The form page: entry or read-only values, life-cycle actions by role and state, queries, signatures, audit.

Drawn by the GET of the page and again by every POST that fails, with what the user typed. It reads a fixed
number of rows whatever the size of the form: the record, its signatures, its queries with their messages,
the participant's other forms (for the checks), the record's audit events and the user's roles, and for a form
that links an imaging exam the participant's exams.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from trial.access import roles_at
from trial.clock import site_today
from trial.errors import DomainError, PreconditionRequired
from trial.i18n import localized
from trial.models import Participant, ParticipantStatus
from trial.models.site import Role
from trial.selectors import participant_exams
from trial.views.common import HISTORY_LABELS

from .. import selectors, services
from ..engine.definitions import FormDef
from ..engine.validate import evaluate
from ..forms_ui import (
    NOT_STARTED,
    QueryRaiseForm,
    QueryStepForm,
    ReasonForm,
    SignForm,
    UnlockForm,
    anchor_of,
    changes_by_path,
    entry_view,
    path_label,
    status_label,
    value_text,
    values_from_data,
)
from ..hooks import visit_key
from ..models import FormRecord, FormStatus, QueryAction, QueryStatus
from ..services.exams import exam_facts
from ..services.signing_session import signing_session
from .common import form_urls, query_step_url

LIFE_CYCLE = (
    FormStatus.DRAFT,
    FormStatus.COMPLETE,
    FormStatus.VERIFIED,
    FormStatus.SIGNED,
    FormStatus.LOCKED,
)


def _abilities(user, state: str, record: FormRecord | None, participant: Participant) -> dict:
    """Which inputs and buttons to draw: the services' role rules and life cycle, for the page only.

    Data entry and an investigator's signature need a role at the participant's own site; monitors, data
    managers and the principal investigator act study-wide (trial.access.roles_at); nobody verifies their own
    entry. The services decide again on every POST; a button drawn here by mistake ends in a friendly refusal.
    One query.
    """
    roles = roles_at(user, participant.site)
    may_enter = bool(roles & services.ENTRY_ROLES)
    withdrawn = participant.status == ParticipantStatus.WITHDRAWN
    can = {
        "edit": may_enter and state != FormStatus.LOCKED and not (record is None and withdrawn),
        "complete": may_enter and state == FormStatus.DRAFT,
        "verify": Role.MONITOR in roles
        and state == FormStatus.COMPLETE
        and record is not None
        and record.updated_by_id != user.pk,
        "sign": bool(roles & services.SIGNING_ROLES) and state == FormStatus.VERIFIED,
        "lock": bool(roles & services.LOCKING_ROLES) and state == FormStatus.SIGNED,
        "unlock": bool(roles & services.LOCKING_ROLES) and state == FormStatus.LOCKED,
        "raise": bool(roles & services.MONITOR_ROLES) and record is not None,
        "answer": may_enter,
        "moderate": bool(roles & services.MONITOR_ROLES),
        "withdrawn": withdrawn and record is None,
    }
    can["step"] = any(can[step] for step in ("complete", "verify", "sign", "lock", "unlock"))
    return can


def _query_actions(query, can: dict) -> list[tuple[str, str]]:
    actions = []
    if can["answer"] and query.status == QueryStatus.OPEN:
        actions.append((QueryAction.ANSWER, pgettext("data query", "Answer")))
    if can["moderate"] and query.status in (QueryStatus.OPEN, QueryStatus.ANSWERED):
        actions.append((QueryAction.CLOSE, pgettext("data query", "Close")))
    if can["moderate"] and query.status in (QueryStatus.ANSWERED, QueryStatus.CLOSED):
        actions.append((QueryAction.REOPEN, pgettext("data query", "Reopen")))
    return actions


def _history(form: FormDef, events: list[dict], exams: list) -> list[dict]:
    rows = []
    for event in events:
        changes = []
        for change in event["changes"]:
            if change["field"] == "status":
                old, new = status_label(change["old"] or NOT_STARTED), status_label(change["new"])
                label = _("status")
            else:
                old, new = (
                    value_text(form, change["field"], change["old"], exams),
                    value_text(form, change["field"], change["new"], exams),
                )
                label = (
                    _("form version")
                    if change["field"] == "form_version"
                    else path_label(form, change["field"])
                )
            changes.append({"field": change["field"], "label": label, "old": old, "new": new})
        rows.append(
            {**event, "label": HISTORY_LABELS.get(event["event"], event["event"]), "changes": changes}
        )
    return rows


def render_form_page(
    request: HttpRequest,
    participant: Participant,
    form: FormDef,
    *,
    visit=None,
    values: dict | None = None,
    version: int | None = None,
    error: DomainError | None = None,
    field_errors: dict | None = None,
    reason_form: ReasonForm | None = None,
    sign_form: SignForm | None = None,
    unlock_form: UnlockForm | None = None,
    raise_form: QueryRaiseForm | None = None,
    step_form: QueryStepForm | None = None,
    step_query: int | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page; `values` are what the user typed when a save failed (shown instead of the saved data).

    `visit`: the visit that collects this form (the record is that visit's); None for a participant's form.
    """
    record = (
        FormRecord.objects.select_related("updated_by", "verified_by", "locked_by")
        .filter(participant=participant, form_code=form.code, visit_code=visit_key(visit))
        .first()
    )
    state = record.status if record else NOT_STARTED
    can = _abilities(request.user, state, record, participant)
    # A form that links an imaging exam offers the participant's exams and describes the linked one.
    exams = list(participant_exams(participant=participant)) if form.exam_fields else []
    findings, queries, events, signatures = None, [], [], []
    if record:
        context = services.check_context(
            participant, exclude=form.code, visit=visit, data=record.data, exams=exam_facts(exams)
        )
        findings = evaluate(form, record.data, context)
        queries = list(
            selectors.query_list(user=request.user).filter(record=record).order_by("created_at", "id")
        )
        events = selectors.form_history(record)
        signatures = list(record.signatures.all())
    with timezone.override(participant.site.time_zone):
        today = site_today(participant.site)
        for query in queries:
            query.age_days = services.query_age_days(query, today)
            query.actions = _query_actions(query, can)
            query.field_label = path_label(form, query.field_path)
            query.step_url = query_step_url(participant, form.code, query.pk, visit)
    typed = values is not None
    entry = entry_view(
        form,
        values=values if typed else values_from_data(form, record.data if record else {}),
        errors=field_errors,
        findings=None if typed else findings,
        queries=queries,
        history=changes_by_path(form, events, exams),
        saved=not typed and record is not None,
        blank_rows=can["edit"],
        exams=exams,
    )
    conflict = error is not None and (
        error.code == "stale_version" or isinstance(error, PreconditionRequired)
    )
    if reason_form is None:
        reason_form = ReasonForm()
    incomplete = [
        {"label": path_label(form, path), "anchor": anchor_of(path), "messages": messages}
        for path, messages in (findings.incomplete.items() if findings else [])
    ]
    warnings = [
        {"label": path_label(form, w.path), "anchor": anchor_of(w.path), "message": w.message}
        for w in (findings.warnings if findings else [])
    ]
    # Above the form when a save failed: each value named as a person reads it, linked to its input.
    error_summary = [
        {"label": path_label(form, f.path), "anchor": f.anchor, "messages": f.errors}
        for f in entry.error_fields
    ] + [{"label": path_label(form, path), "anchor": "", "messages": m} for path, m in entry.other_errors]
    context = {
        "participant": participant,
        "form": form,
        "visit": visit,
        "visit_label": localized(visit.label) if visit else "",
        "urls": form_urls(participant, form.code, visit),
        "title": localized(form.title),
        "record": record,
        "state": state,
        "state_label": status_label(state),
        "steps": [{"code": s, "label": status_label(s), "done": _reached(state, s)} for s in LIFE_CYCLE],
        "can": can,
        "entry": entry,
        "typed": typed,
        "version": version if typed and version is not None else (record.version if record else 0),
        "record_version": record.version if record else 0,
        "error": error,
        "conflict": conflict,
        "reason_required": record is not None and record.status in services.EDITED_AFTER_COMPLETION,
        "reason_form": reason_form,
        "sign_form": sign_form or SignForm(ask_user_id=not signing_session(request).has_signed(request.user)),
        "unlock_form": unlock_form or UnlockForm(),
        "raise_form": raise_form,
        "step_form": step_form,
        "step_query": step_query,
        "printed_name": request.user.get_full_name() or request.user.get_username(),
        "incomplete": incomplete,
        "warnings": warnings,
        "error_summary": error_summary,
        "queries": queries,
        "live_query_count": sum(1 for q in queries if q.status != QueryStatus.CLOSED),
        "signatures": signatures,
        "history": _history(form, events, exams),
        "time_zone": participant.site.time_zone,
    }
    return render(request, "crf/form.html", context, status=status)


def _reached(state: str, step: str) -> bool:
    if state == NOT_STARTED:
        return False
    return LIFE_CYCLE.index(step) <= LIFE_CYCLE.index(state)
