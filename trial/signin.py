"""Sign-in protection: the client's address behind nginx, the lockout answer, and sessions that end after
inactivity (settings: the "Sign-in protection" block of config/settings.py).

The lockout itself is django-axes (its backend runs first in every authenticate()); this module only tells
it who the client is and how to answer a locked-out one.
"""

import ipaddress
import math
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# Seconds since the epoch of the session's last request.
LAST_SEEN_KEY = "signin_last_seen"
# The stamp is renewed at most this often: otherwise every request would write the session row. The idle
# limit is then honoured to within a minute.
RENEW_EVERY_SECONDS = 60


def client_ip(request: HttpRequest) -> str:
    """The client's address (the sign-in lockout's and the patient links' limits): the peer's, or, when the
    peer is a trusted proxy (nginx on this host, settings.TRUSTED_PROXY_IPS), the last address in
    X-Forwarded-For, which that proxy appended itself ($proxy_add_x_forwarded_for). The addresses before it
    are the client's own claims, never trusted."""
    peer = request.META.get("REMOTE_ADDR", "")
    if peer not in settings.TRUSTED_PROXY_IPS:
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(forwarded))
    except ValueError:
        return peer  # no (or a garbled) header: a local client, e.g. `make run` without nginx


def client_network(request: HttpRequest) -> str:
    """The client as the limits count it (sign-in lockout, patient links): its IPv4 address, or its IPv6 /64.
    One subscriber gets a whole /64 from the network: counted per address, a guesser would have 2^64 fresh
    counters."""
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """axes' answer to a locked-out client: JSON with a message on the API, a page elsewhere (429 both)."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    message = _(
        "Too many failed sign-ins from this computer for this account. Try again in %(minutes)d minutes, "
        "or ask your study's data manager to unlock it."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def stamp_session_on_login(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: a new session starts its idle clock (only a session login has one)."""
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        session[LAST_SEEN_KEY] = int(time.time())


class IdleSessionMiddleware:
    """Ends a signed-in session after SESSION_IDLE_MINUTES without a request; each request renews it.

    A page then goes to the login page, which says why; an API call with the session answers 401/403
    (the request is anonymous from here on). Token-authenticated API calls carry no session and are untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        now = int(time.time())
        last_seen = request.session.get(LAST_SEEN_KEY)
        if last_seen is not None and now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
            logout(request)
            if not request.path.startswith("/api/"):
                messages.info(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity. Please sign in again.")
                    % {"minutes": settings.SESSION_IDLE_MINUTES},
                )
        elif last_seen is None or now - last_seen >= RENEW_EVERY_SECONDS:
            request.session[LAST_SEEN_KEY] = now
