"""Coordinators' questionnaire pages: entry on the patient's behalf (interview or paper form), and patient
links to send and revoke. GET draws the page; POST calls one service, then redirects back (a refresh never
repeats it); a refusal keeps what was typed.
"""

import datetime
import itertools
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from trial.access import roles_at
from trial.clock import site_today
from trial.errors import DomainError
from trial.forms import DateInput
from trial.i18n import language_code, localized
from trial.pages import attempt

from ..instruments import instrument_def
from ..models import ResponseSource, ResponseStatus, Visit
from ..selectors.links import (
    link_state,
    questionnaire_definition,
    questionnaire_visit,
    response_links,
    visit_link,
    visit_response,
)
from ..services.links import (
    CLOSED_PARTICIPANT,
    CLOSED_VISIT,
    ISSUING_ROLES,
    patient_link_issue,
    patient_link_revoke,
)
from ..services.questionnaires import questionnaire_save
from .answers import answers_from_post, patient_url, questionnaire_view

QUESTIONNAIRE = "participants/<slug:study_id>/visits/<slug:visit_code>/questionnaires/<slug:instrument>/"
LINK_STATES = {
    "live": gettext_lazy("active"),
    "used": gettext_lazy("used (submitted)"),
    "revoked": gettext_lazy("replaced or withdrawn"),
    "expired": gettext_lazy("expired"),
}
# A new link's URL waits in the session for the one page drawn after the POST (Post/Redirect/Get), and no
# longer: popped on that GET, and ignored when older than this (a coordinator who wandered off).
NEW_LINK_SESSION_KEY = "followup.new-link:{visit}:{instrument}"
NEW_LINK_MAX_AGE = datetime.timedelta(minutes=10)


def language_choices():
    return list(settings.LANGUAGES)


class EntryForm(forms.Form):
    """What the page asks beside the answers: how they were collected, when, in which language, and why a
    submitted questionnaire is changed."""

    source = forms.ChoiceField(
        label=gettext_lazy("Collected by"),
        choices=[
            (ResponseSource.INTERVIEW, ResponseSource.INTERVIEW.label),
            (ResponseSource.PAPER, ResponseSource.PAPER.label),
        ],
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the questionnaire"), choices=language_choices
    )
    completed_on = forms.DateField(
        label=gettext_lazy("Date answered"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("Empty: today at the site, once submitted."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for change"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LinkForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the patient's page"), choices=language_choices
    )


def _visit(request: HttpRequest, study_id: str, visit_code: str, instrument: str) -> Visit:
    visit = questionnaire_visit(user=request.user, study_id=study_id, visit_code=visit_code)
    if instrument not in (visit.questionnaires or []):
        raise Http404(_("This visit does not collect that questionnaire."))
    return visit


def entry_url(visit: Visit, instrument: str) -> str:
    return reverse(
        "questionnaire-entry",
        kwargs={"study_id": visit.participant.study_id, "visit_code": visit.code, "instrument": instrument},
    )


def qr_svg(text: str) -> str:
    """The text as a QR code in inline SVG, drawn from reportlab's encoder (already a dependency)."""
    from reportlab.graphics.barcode import qrencoder

    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    border, size = 4, code.getModuleCount()
    runs, x = [], 0
    for y, row in enumerate(code.modules):
        x = 0
        for dark, group in itertools.groupby(bool(cell) for cell in row):
            length = len(list(group))
            if dark:
                runs.append(f"M{x + border} {y + border}h{length}v1h-{length}z")
            x += length
    full = size + 2 * border
    return format_html(
        '<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="200" height="200" '
        'role="img" aria-label="{}" shape-rendering="crispEdges">'
        '<rect width="100%" height="100%" fill="#fff"/><path d="{}" fill="#000"/></svg>',
        full,
        full,
        _("QR code of the link"),
        "".join(runs),
    )


def _render_entry(
    request: HttpRequest,
    visit: Visit,
    instrument: str,
    *,
    form: EntryForm | None = None,
    answers=None,
    error: DomainError | None = None,
    link_form: LinkForm | None = None,
    link_error: DomainError | None = None,
    version: int | None = None,
    status: int = 200,
) -> HttpResponse:
    participant = visit.participant
    shown_once = _pop_new_link(request, visit, instrument) if request.method == "GET" else None
    response = visit_response(visit, instrument)
    definition = instrument_def(instrument)
    language = language_code(get_language())
    shown = questionnaire_definition(
        instrument, response.instrument_version if response else definition.version, language
    )
    typed = answers is not None
    questionnaire = questionnaire_view(
        shown,
        answers if typed else (response.answers if response else None),
        error.field_errors if error else None,
    )
    site_roles = roles_at(request.user, participant.site)
    now = timezone.now()
    final = response is not None and response.status == ResponseStatus.FINAL
    closed = visit.state in CLOSED_VISIT or participant.status in CLOSED_PARTICIPANT
    links = response_links(response)
    new_link = None
    for link in links:
        link.state = link_state(link, now, final=final, closed=closed)
        link.state_label = LINK_STATES[link.state]
        if shown_once and link.pk == shown_once["link"] and link.state == "live":
            new_link = _new_link(shown_once["url"], link, participant.site.time_zone)
    if form is None:
        form = EntryForm(
            initial={
                "source": response.source
                if response and response.source != ResponseSource.PATIENT
                else ResponseSource.INTERVIEW,
                "language": response.language if response else "zh-hans",
                "completed_on": response.completed_on if response else None,
            }
        )
    may_enter = bool(site_roles & ISSUING_ROLES)
    live_links = [link for link in links if link.state == "live"]
    context = {
        "participant": participant,
        "visit": visit,
        "visit_label": (visit.label or {}).get(language) or (visit.label or {}).get("en") or visit.code,
        "instrument": definition,
        "title": localized(definition.name, language),
        "response": response,
        "band_label": definition.band_label(response.band, language) if response and response.band else "",
        "questionnaire": questionnaire,
        "typed": typed,
        "form": form,
        "version": version if typed and version is not None else (response.version if response else 0),
        "final": final,
        "reason_required": final,
        "error": error,
        "may_enter": may_enter,
        # As patient_link_issue decides: it says why on a POST drawn here by mistake.
        "may_link": may_enter and not final and not closed,
        "link_form": link_form
        or LinkForm(initial={"language": response.language if response else "zh-hans"}),
        "link_error": link_error,
        "links": links,
        "live_links": live_links,
        "may_revoke": may_enter,
        "new_link": new_link,
        "time_zone": participant.site.time_zone,
        "today": site_today(participant.site),
    }
    page = render(request, "followup/questionnaire_entry.html", context, status=status)
    if new_link:
        add_never_cache_headers(page)  # the link's URL is shown once: keep it out of caches
    return page


def _new_link_key(visit: Visit, instrument: str) -> str:
    return NEW_LINK_SESSION_KEY.format(visit=visit.pk, instrument=instrument)


def _keep_new_link(request: HttpRequest, visit: Visit, instrument: str, link, url: str) -> None:
    """Hold a new link's URL for the next GET of its entry page only (the session is server-side)."""
    request.session[_new_link_key(visit, instrument)] = {
        "link": link.pk,
        "url": url,
        "at": timezone.now().isoformat(),
    }


def _pop_new_link(request: HttpRequest, visit: Visit, instrument: str) -> dict | None:
    """The new link's URL held for this page, removed from the session whatever happens next."""
    held = request.session.pop(_new_link_key(visit, instrument), None)
    if not isinstance(held, dict):
        return None
    try:
        at = datetime.datetime.fromisoformat(held["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if timezone.now() - at > NEW_LINK_MAX_AGE:
        return None
    return held


def _new_link(url: str, link, time_zone: str) -> dict:
    return {
        "url": url,
        "qr": qr_svg(url),
        "language": dict(settings.LANGUAGES).get(link.language, link.language),
        "expires_at": timezone.localtime(link.expires_at, zoneinfo.ZoneInfo(time_zone)),
    }


def _version(request) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_entry(
    request: HttpRequest, study_id: str, visit_code: str, instrument: str
) -> HttpResponse:
    """One questionnaire of one visit: read by everyone who reads the CRFs, entered by site staff."""
    visit = _visit(request, study_id, visit_code, instrument)
    if request.method != "POST":
        return _render_entry(request, visit, instrument)
    form = EntryForm(request.POST)
    answers = answers_from_post(instrument, request.POST)
    version = _version(request)
    redraw = {"form": form, "answers": answers, "version": version}
    if not form.is_valid():
        return _render_entry(request, visit, instrument, **redraw, status=400)
    submit = request.POST.get("action") == "submit"
    saved = attempt(
        questionnaire_save,
        actor=request.user,
        participant=visit.participant,
        visit=visit,
        instrument=instrument,
        answers=answers,
        source=form.cleaned_data["source"],
        language=form.cleaned_data["language"],
        submit=submit,
        # 0 for a questionnaire not started yet: if someone started it meanwhile, that is stale too.
        expected_version=version,
        reason=form.cleaned_data["reason"],
        completed_on=form.cleaned_data["completed_on"],
    )
    if not saved:
        # Messages of the entry form's own fields go beside them; the answers' beside each item (error).
        for field, field_messages in saved.error.field_errors.items():
            if field in form.fields:
                for message in field_messages:
                    form.add_error(field, message)
        return _render_entry(request, visit, instrument, **redraw, error=saved.error, status=saved.status)
    response = saved.value
    if version is not None and response.version == version:
        messages.info(request, _("Nothing changed: the questionnaire is as it was."))
    elif response.status == ResponseStatus.FINAL:
        messages.success(request, _("Submitted (version %(version)s).") % {"version": response.version})
    else:
        messages.success(
            request, _("Saved as a draft (version %(version)s).") % {"version": response.version}
        )
    return redirect(entry_url(visit, instrument))


@login_required
@require_POST
def questionnaire_link(request: HttpRequest, study_id: str, visit_code: str, instrument: str) -> HttpResponse:
    """Issue a patient link, then redirect to the entry page, which shows its URL (and QR code) once: only
    its hash is stored, and the URL waits in the session for that one GET."""
    visit = _visit(request, study_id, visit_code, instrument)
    link_form = LinkForm(request.POST)
    if not link_form.is_valid():
        return _render_entry(request, visit, instrument, link_form=link_form, status=400)
    issued = attempt(
        patient_link_issue,
        actor=request.user,
        visit=visit,
        instrument=instrument,
        language=link_form.cleaned_data["language"],
    )
    if not issued:
        return _render_entry(
            request, visit, instrument, link_form=link_form, link_error=issued.error, status=issued.status
        )
    link, token = issued.value
    _keep_new_link(request, visit, instrument, link, request.build_absolute_uri(patient_url(token)))
    return redirect(entry_url(visit, instrument) + "#new-link")


@login_required
@require_POST
def questionnaire_link_revoke(
    request: HttpRequest, study_id: str, visit_code: str, instrument: str, link_id: int
) -> HttpResponse:
    """Revoke one patient link at once (sent to the wrong phone, say), then back to the entry page."""
    visit = _visit(request, study_id, visit_code, instrument)
    link = visit_link(visit=visit, instrument=instrument, link_id=link_id)
    before = link_state(link)
    revoked = attempt(patient_link_revoke, actor=request.user, link=link)
    if not revoked:
        return _render_entry(request, visit, instrument, link_error=revoked.error, status=revoked.status)
    if before == "revoked":
        messages.info(request, _("This link was already revoked."))
    elif before == "expired":
        messages.info(request, _("This link had already expired: it no longer opens the questionnaire."))
    else:
        messages.success(
            request,
            _("The link was revoked: it no longer opens the questionnaire. Answers saved so far are kept."),
        )
    return redirect(entry_url(visit, instrument) + "#links")


urlpatterns = [
    path(QUESTIONNAIRE, questionnaire_entry, name="questionnaire-entry"),
    path(f"{QUESTIONNAIRE}link/", questionnaire_link, name="questionnaire-link"),
    path(
        f"{QUESTIONNAIRE}links/<int:link_id>/revoke/",
        questionnaire_link_revoke,
        name="questionnaire-link-revoke",
    ),
]
