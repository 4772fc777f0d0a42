"""The patient's questionnaire page, reached through a link: no login, no staff chrome, one questionnaire.

GET draws the questionnaire with the answers saved so far; POST saves them (a draft: "save and continue
later"), or asks for a confirmation ("submit"), then submits the answers confirmed (final). Below the form,
the patient may stop the reminders on a channel (/p/<token>/stop/: asked, then done). A dead link gets a
friendly page in the patient's language: 404 for a link that never existed or was altered, 410 for one that
was used, expired or replaced. The URL is the credential, so every answer is private: never cached, never
indexed, no Referer, and Django's log of 4xx answers (which prints the path) is skipped. No answer holds the
token: the pages link to one another with relative URLs ("?lang=en", "stop/", "../"), redirects too.
Requests are rate-limited per client (link_limits.py): too many, or too many tokens that open nothing, and
the answer is a 429 page.
"""

import zoneinfo

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from trial.errors import Conflict, DomainError
from trial.i18n import LANGUAGES
from trial.models import ContactChannel
from trial.pages import attempt
from trial.selectors import contact_channels_open, opt_out_in_force

from ..models import PatientLink
from ..selectors.links import questionnaire_definition
from ..services.links import (
    LinkRefused,
    patient_link_open,
    patient_link_opt_out,
    patient_link_resolve,
    patient_link_save,
)
from . import questionnaire_entry
from .answers import answers_from_post, questionnaire_view
from .link_limits import note_failure, rate_limited

LANGUAGE_NAMES = {"en": "English", "zh-hans": "简体中文"}  # each language named in itself, for the switch


def language_codes() -> list[str]:
    return list(LANGUAGES)


# --- responses ----------------------------------------------------------------------------------------------


def _private(response: HttpResponse, language: str) -> HttpResponse:
    """Headers of every answer under /p/: the URL is a credential and the page holds health data."""
    add_never_cache_headers(response)  # includes no-store and private
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Language"] = language
    # Django logs every 4xx with the request's path, which here is the token: this answer is logged by nobody.
    response._has_been_logged = True
    return response


QUESTIONNAIRE_PAGE = ""
STOP_PAGE = "stop/"


def _page_url(language: str, *, page: str = QUESTIONNAIRE_PAGE, here: str = QUESTIONNAIRE_PAGE, **query):
    """The URL of the link's questionnaire page, or of its `page` below it ("stop/"), in `language`, relative
    to the page `here` that holds it: the token stays in the address bar and out of every answer."""
    params = "&".join(f"{key}={value}" for key, value in {"lang": language, **query}.items())
    path = "" if page == here else "../" * here.count("/") + page
    return f"{path}?{params}"


def _render(
    request,
    template: str,
    context: dict,
    *,
    language: str,
    status: int = 200,
    query: dict | None = None,
):
    """`query`: the page's own query besides its language (the stop page's channel), kept by the language
    switch, which stays on the same page. None of the page's links holds the token."""
    query = query or {}
    with translation.override(language):
        context = {
            **context,
            "page_language": language,
            "language_links": [
                {
                    "code": code,
                    "name": LANGUAGE_NAMES.get(code, code),
                    "url": _page_url(code, **query),
                    "current": code == language,
                }
                for code in language_codes()
            ],
        }
        response = render(request, template, context, status=status)
    return _private(response, language)


def _requested_language(request: HttpRequest, default: str) -> str:
    wanted = request.POST.get("lang") or request.GET.get("lang") or ""
    return wanted if wanted in language_codes() else default


def refused_link_page(request: HttpRequest, error: DomainError) -> HttpResponse | None:
    """trial.hooks.page_answers: the friendly page of a dead link, with nothing of the questionnaire or its
    answers, in the patient's language; None for any other error."""
    match = request.resolver_match
    if not isinstance(error, LinkRefused) or match is None or "token" not in match.kwargs:
        return None
    if error.code == "unknown":
        note_failure(request)  # a token that opens nothing: counted against the client (link_limits.py)
    return _refused(request, error)


def _refused(request: HttpRequest, refusal: LinkRefused) -> HttpResponse:
    fallback = refusal.language or translation.get_language_from_request(request)
    language = _requested_language(request, fallback if fallback in language_codes() else "zh-hans")
    return _render(
        request,
        "followup/patient_refused.html",
        {"reason": refusal.code},
        language=language,
        status=refusal.status_code,
    )


def _questionnaire_page(
    request,
    token: str,
    link: PatientLink,
    language: str,
    *,
    answers=None,
    error: DomainError | None = None,
    saved: bool = False,
    status: int = 200,
) -> HttpResponse:
    response = link.response
    with translation.override(language):
        definition = questionnaire_definition(response.instrument, response.instrument_version, language)
        view = questionnaire_view(
            definition,
            response.answers if answers is None else answers,
            error.field_errors if error else None,
        )
    visit = response.visit
    stale = isinstance(error, Conflict) and error.code == "stale_version"
    context = {
        "questionnaire": view,
        "visit_label": (visit.label.get(language) or visit.label.get("en", "")) if visit else "",
        # Typed answers refused as stale keep the version they were typed on: saving them again needs a
        # reload first, so they never overwrite the other change unseen.
        "version": _version(request) if stale and answers is not None else response.version,
        "action_url": _page_url(language),
        "error": error,
        "stale": stale,
        "saved": saved,
        "expires_at": timezone.localtime(link.expires_at, _site_zone(response)),
        "stop_urls": {
            channel: _page_url(language, page=STOP_PAGE, channel=channel)
            for channel in contact_channels_open(participant=response.participant)
        },
    }
    return _render(request, "followup/patient_questionnaire.html", context, language=language, status=status)


def _site_zone(response):
    return zoneinfo.ZoneInfo(response.participant.site.time_zone)


def _version(request) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


# --- the page -----------------------------------------------------------------------------------------------


# The token in the URL is the credential, and it is a stronger secret than a CSRF token: a forged request
# would need it already. Exempt, so a patient's phone keeps no cookie of ours at all.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@rate_limited
def patient_questionnaire(request: HttpRequest, token: str) -> HttpResponse:
    """One questionnaire, answered by the patient through a link."""
    # A dead link (LinkRefused) escapes every call here: refused_link_page answers it (trial/pages.py).
    link = patient_link_open(token) if request.method == "GET" else patient_link_resolve(token)
    language = _requested_language(request, link.language)
    if request.method == "GET":
        return _questionnaire_page(request, token, link, language, saved=request.GET.get("saved") == "1")

    action = request.POST.get("action", "save")
    if action == "submit":
        return _submit(request, token, link, language)
    answers = answers_from_post(link.response.instrument, request.POST)
    saved = attempt(
        patient_link_save,
        token=token,
        answers=answers,
        submit=False,
        language=language,
        expected_version=_version(request),
    )
    if not saved:
        return _questionnaire_page(
            request, token, link, language, answers=answers, error=saved.error, status=saved.status
        )
    response = saved.value
    if action != "review":
        # Post/redirect/get: a reload shows the saved answers instead of sending them again.
        return _private(HttpResponseRedirect(_page_url(language, saved=1)), language)
    with translation.override(language):
        definition = questionnaire_definition(response.instrument, response.instrument_version, language)
        view = questionnaire_view(definition, response.answers)
    context = {"questionnaire": view, "version": response.version, "action_url": _page_url(language)}
    return _render(request, "followup/patient_confirm.html", context, language=language)


def _submit(request, token: str, link: PatientLink, language: str) -> HttpResponse:
    """Submit the answers the patient confirmed: those saved, at the version the confirmation showed."""
    submitted = attempt(
        patient_link_save,
        token=token,
        answers=link.response.answers,
        submit=True,
        language=language,
        expected_version=_version(request),
    )
    if not submitted:
        return _questionnaire_page(
            request, token, link, language, error=submitted.error, status=submitted.status
        )
    return _render(request, "followup/patient_done.html", {}, language=language)


# --- stopping the reminders ---------------------------------------------------------------------------------


@csrf_exempt  # as the questionnaire: the token in the URL is the credential
@require_http_methods(["GET", "POST"])
@rate_limited
def patient_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """Stop the reminders on one channel (?channel=sms|email). GET asks, or says they are stopped when an
    opt-out is in force (whoever recorded it); POST stops them, then back to GET (post/redirect/get: a reload
    sends nothing again). Only a live link: a dead one gets its refusal page, and nothing is written."""
    link = patient_link_resolve(token)  # a dead link: LinkRefused escapes to refused_link_page
    language = _requested_language(request, link.language)
    channel = (request.POST if request.method == "POST" else request.GET).get("channel", "")
    if channel not in ContactChannel.values:
        return _opt_out_page(request, language, channel="", status=400)
    if request.method == "POST":
        # A domain error here is the link's (escapes: 410) or the channel's (checked above): none to redraw.
        patient_link_opt_out(token=token, channel=channel)
        here = _page_url(language, page=STOP_PAGE, here=STOP_PAGE, channel=channel)
        return _private(HttpResponseRedirect(here), language)
    return _opt_out_page(
        request,
        language,
        channel=channel,
        stopped=opt_out_in_force(participant=link.response.participant, channel=channel),
    )


def _opt_out_page(
    request, language: str, *, channel: str, stopped: bool = False, status: int = 200
) -> HttpResponse:
    """The page asking to stop a channel's reminders, saying they are stopped, or (no `channel`: an unknown
    one was asked for) that the request was not understood."""
    context = {
        "channel": channel,
        "stopped": stopped,
        "back_url": _page_url(language, here=STOP_PAGE),
        "action_url": _page_url(language, page=STOP_PAGE, here=STOP_PAGE, channel=channel) if channel else "",
    }
    return _render(
        request,
        "followup/patient_opt_out.html",
        context,
        language=language,
        status=status,
        query={"channel": channel} if channel else {},
    )


urlpatterns = [
    path("p/<str:token>/", patient_questionnaire, name="patient-questionnaire"),
    path(f"p/<str:token>/{STOP_PAGE}", patient_opt_out, name="patient-opt-out"),
    *questionnaire_entry.urlpatterns,
]
