"""Per-client rate limits on the patient links (pages under /p/ and the patient-link API).

Two counters per client, in the Django cache (Redis: one count shared by every gunicorn worker and
instance, kept by Redis's atomic INCR), through django-ratelimit:

- every request to a patient link (GET and POST), PATIENT_LINK_RATE: generous, as patients behind one
  hospital Wi-Fi or a carrier's NAT share an address, and a patient answering makes a few dozen requests;
- every token that opens nothing (an unknown key or an altered token: LinkRefused "unknown"),
  PATIENT_LINK_FAILURE_RATE: strict. A client past it gets 429 for every patient link until the window
  ends, whatever token it sends: a guesser is slowed down hard, while a patient only ever opens the links
  we sent (a used or expired one is the patient's own, signed here, and is not counted).

The limited answer is a 429 with Retry-After and a page in both languages (we do not know the link's
language without resolving the token), holding nothing of the token. If the cache is unreachable the limits
are skipped (logged): a patient's link must not depend on a counter.
"""

import functools
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from trial.i18n import LANGUAGES
from trial.signin import client_network

logger = logging.getLogger(__name__)

REQUESTS = "patient-link"
FAILURES = "patient-link-failure"


def _key(group: str, request: HttpRequest) -> str:
    return client_network(request)


def _usage(request: HttpRequest, group: str, rate: str, *, increment: bool) -> dict | None:
    try:
        return get_usage(request, group=group, key=_key, rate=rate, increment=increment)
    except (RedisError, OSError):
        logger.warning("patient-link rate limit skipped: the cache is unreachable", exc_info=True)
        return None


def seconds_limited(request: HttpRequest) -> int:
    """0 when the client may go on (and counts this request); else the seconds until it may try again.

    Failures are read without counting (a failure is counted once the token is refused); at the limit the
    next request is refused, so N wrong tokens are answered and the N+1st is not.
    """
    failures = _usage(request, FAILURES, settings.PATIENT_LINK_FAILURE_RATE, increment=False)
    if failures is not None and failures["count"] >= failures["limit"]:
        return max(failures["time_left"], 1)
    requests = _usage(request, REQUESTS, settings.PATIENT_LINK_RATE, increment=True)
    if requests is not None and requests["should_limit"]:
        return max(requests["time_left"], 1)
    return 0


def note_failure(request: HttpRequest) -> None:
    """Count a token that opened nothing against the client."""
    _usage(request, FAILURES, settings.PATIENT_LINK_FAILURE_RATE, increment=True)


def limited_page(request: HttpRequest, seconds: int) -> HttpResponse:
    """429, in both languages, with nothing of the token (no link back to it either)."""
    first = getattr(request, "LANGUAGE_CODE", "")
    first = first if first in LANGUAGES else "zh-hans"
    context = {
        "page_language": first,
        "languages": [first, *(code for code in LANGUAGES if code != first)],
    }
    response = render(request, "followup/patient_limited.html", context, status=429)
    response["Retry-After"] = str(seconds)
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response._has_been_logged = True  # Django would log the path, which holds the token
    return response


def rate_limited(view):
    """A patient-link page view, answered with limited_page while its client is over a limit."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        seconds = seconds_limited(request)
        if seconds:
            return limited_page(request, seconds)
        return view(request, *args, **kwargs)

    return checked
