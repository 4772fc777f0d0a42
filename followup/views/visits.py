"""Coordinator pages of follow-up: the visits due and overdue, and a participant's timeline with its steps."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crf.engine.definitions import form_definition
from crf.selectors import crf_participants
from trial.access import can_write_at, roles_at
from trial.clock import site_today
from trial.i18n import localized
from trial.pages import attempt
from trial.views.common import list_page

from ..forms import ALL, UnscheduledVisitForm, VisitCompleteForm, VisitFilterForm, VisitReasonForm
from ..instruments import INSTRUMENTS
from ..messaging import services as message_services
from ..messaging.selectors import participant_messages
from ..models import Instrument, Visit, VisitStatus
from ..question import answered
from ..schedule import participant_followed, visit_status
from ..selectors.questionnaires import questionnaire_changes
from ..selectors.timeline import participant_cases, participant_timeline
from ..selectors.visits import DUE_OR_OVERDUE, visit_sites, visits_at
from ..services import visits as visit_services
from .messages import labelled


def _participant(request: HttpRequest, study_id: str):
    """The participant if the user may read their follow-up (as their CRFs: never blinded adjudicators)."""
    participants = crf_participants(user=request.user).select_related("site__study")
    return get_object_or_404(participants, study_id=study_id)


def _changes(participant) -> list[dict]:
    """Change from baseline per instrument, with the instrument's name in the page's language."""
    changes = questionnaire_changes(participant)
    for change in changes:
        change["title"] = Instrument(change["instrument"]).label
        change["rows"] = 1 + len(change["followups"])
    return [change for change in changes if change["baseline"] or change["followups"]]


def _cases(participant) -> list:
    """The participant's adjudication cases, each with its visit named in the page's language and its final
    answer in the words of its study's question (acute or chronic) when that is asked alone."""
    cases = list(participant_cases(participant))
    for case in cases:
        case.visit_label = localized(case.visit.label) if case.visit else ""
        answered(case)
    return cases


def _render_timeline(request: HttpRequest, participant, *, forms=None, status: int = 200) -> HttpResponse:
    today = site_today(participant.site)
    forms = forms or {}
    context = {
        "participant": participant,
        "today": today,
        "timeline": participant_timeline(participant, today=today),
        "cases": _cases(participant),
        "changes": _changes(participant),
        "may_write": can_write_at(request.user, participant.site),
        "outbox": labelled(participant_messages(participant)),
        "may_answer_messages": bool(roles_at(request.user, participant.site) & message_services.ACTING_ROLES),
        "complete_form": forms.get("complete") or VisitCompleteForm(initial={"visit_date": today}),
        "reason_form": forms.get("reason") or VisitReasonForm(),
        "unscheduled_form": forms.get("unscheduled") or UnscheduledVisitForm(initial={"visit_date": today}),
        "failed_visit": forms.get("visit"),
        "time_zone": participant.site.time_zone,
    }
    return render(request, "followup/timeline.html", context, status=status)


@login_required
def participant_timeline_page(request: HttpRequest, study_id: str) -> HttpResponse:
    return _render_timeline(request, _participant(request, study_id))


STEP_FORMS = {"complete": VisitCompleteForm, "missed": VisitReasonForm, "reopen": VisitReasonForm}
STEP_DONE = {
    "complete": lambda: _("The visit is recorded as done."),
    "missed": lambda: _("The visit is declared missed."),
    "reopen": lambda: _("The visit is open again."),
}


STEP_SERVICES = {
    "complete": (visit_services.visit_complete, ("visit_date",)),
    "missed": (visit_services.visit_miss, ("reason",)),
    "reopen": (visit_services.visit_reopen, ("reason",)),
}


@login_required
@require_POST
def visit_step(request: HttpRequest, study_id: str, visit_code: str, step: str) -> HttpResponse:
    """Record a visit as done, declare it missed, or reopen it: one service call."""
    participant = _participant(request, study_id)
    visit = get_object_or_404(Visit, participant=participant, code=visit_code)
    form = STEP_FORMS[step](request.POST)
    key = "complete" if step == "complete" else "reason"
    service, fields = STEP_SERVICES[step]
    if form.is_valid() and attempt(
        service,
        form=form,
        actor=request.user,
        visit=visit,
        **{name: form.cleaned_data[name] for name in fields},
    ):
        messages.success(request, STEP_DONE[step]())
        return redirect(f"{_timeline_url(participant)}#visit-{visit.code}")
    return _render_timeline(request, participant, forms={key: form, "visit": visit.code}, status=400)


MESSAGE_STEPS = {
    "confirm": (message_services.message_confirm, lambda: _("The message is recorded as delivered.")),
    "resend": (message_services.message_resend, lambda: _("The message will be sent again shortly.")),
}


@login_required
@require_POST
def message_step(request: HttpRequest, study_id: str, pk: int, step: str) -> HttpResponse:
    """Confirm or resend an unconfirmed message, then back to the timeline's messages (PRG). A message that is
    no longer unconfirmed (answered meanwhile) says so on the timeline."""
    participant = _participant(request, study_id)
    message = get_object_or_404(participant_messages(participant).select_related("site"), pk=pk)
    service, done_text = MESSAGE_STEPS[step]
    done = attempt(service, actor=request.user, message=message)
    if done:
        messages.success(request, done_text())
    else:
        messages.error(request, done.error.message)
    return redirect(f"{_timeline_url(participant)}#messages")


@login_required
@require_POST
def visit_unscheduled(request: HttpRequest, study_id: str) -> HttpResponse:
    participant = _participant(request, study_id)
    form = UnscheduledVisitForm(request.POST)
    added = form.is_valid() and attempt(
        visit_services.visit_unscheduled_create,
        form=form,
        actor=request.user,
        participant=participant,
        **form.cleaned_data,
    )
    if added:
        visit = added.value
        messages.success(request, _("Unscheduled visit %(code)s added.") % {"code": visit.code})
        return redirect(f"{_timeline_url(participant)}#visit-{visit.code}")
    return _render_timeline(request, participant, forms={"unscheduled": form, "visit": "new"}, status=400)


def collected_names(visit) -> list[str]:
    """What a visit collects, named in the page's language: its forms' titles, then its questionnaires'
    names (a code that names nothing any more is shown as it is)."""
    names = []
    for code in visit.forms or []:
        form = form_definition(code)
        names.append(localized(form.title) if form else code)
    for code in visit.questionnaires or []:
        instrument = INSTRUMENTS.get(code)
        names.append(localized(instrument.name) if instrument else code)
    return names


def _timeline_url(participant) -> str:
    return reverse("participant-timeline", kwargs={"study_id": participant.study_id})


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    """Visits due this week and overdue (the default), or any status, at the user's sites. Four queries."""
    sites = visit_sites(user=request.user)
    form = VisitFilterForm(request.GET or None, sites=sites)
    chosen, status = sites, DUE_OR_OVERDUE
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"] or DUE_OR_OVERDUE
        if form.cleaned_data["site"]:
            chosen = [site for site in sites if site.code == form.cleaned_data["site"]]
    # A bad filter lists nothing, with its message (trial.views.common.list_page), not every visit.
    listing = list_page(request, visits_at(chosen, status=None if status == ALL else status), form=form)
    page = listing.page
    today = {site.pk: site_today(site) for site in chosen}
    rows = []
    for visit in page.object_list:
        day = today[visit.participant.site_id]
        followed = participant_followed(visit.participant.status)
        state = visit_status(visit.state, visit.window_open, visit.window_close, day, followed=followed)
        rows.append(
            {
                "visit": visit,
                "label": localized(visit.label),
                "collects": collected_names(visit),
                "status": state,
                "status_label": VisitStatus(state).label,
                "days_overdue": (day - visit.window_close).days if state == VisitStatus.OVERDUE else 0,
            }
        )
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "status": status,
        "show_study": len({site.study_id for site in sites}) > 1,
        "query_errors": listing.errors,
    }
    return render(request, "followup/visit_list.html", context, status=listing.status)


urlpatterns = [
    path("visits/", visit_list, name="visit-list"),
    path("participants/<slug:study_id>/timeline/", participant_timeline_page, name="participant-timeline"),
    path("participants/<slug:study_id>/visits/new/", visit_unscheduled, name="visit-unscheduled"),
    path(
        "participants/<slug:study_id>/messages/<int:pk>/confirm/",
        message_step,
        {"step": "confirm"},
        name="message-confirm",
    ),
    path(
        "participants/<slug:study_id>/messages/<int:pk>/resend/",
        message_step,
        {"step": "resend"},
        name="message-resend",
    ),
    path(
        "participants/<slug:study_id>/visits/<slug:visit_code>/complete/",
        visit_step,
        {"step": "complete"},
        name="visit-complete",
    ),
    path(
        "participants/<slug:study_id>/visits/<slug:visit_code>/missed/",
        visit_step,
        {"step": "missed"},
        name="visit-missed",
    ),
    path(
        "participants/<slug:study_id>/visits/<slug:visit_code>/reopen/",
        visit_step,
        {"step": "reopen"},
        name="visit-reopen",
    ),
]
