"""The signing session of 21 CFR 11.200(a)(1): "a single, continuous period of controlled system access" in
which the first signing takes every component of the e-signature (user ID and password) and later ones the
password alone.

- Pages (and API calls authenticated by the session cookie): the Django session. The mark lives in it, so it
  ends with the session (sign-out, expiry, a new sign-in).
- API calls authenticated by a token (`request.auth`: a DRF Token, a knox AuthToken): the token is the
  session. The mark is kept in the cache under a SHA-256 of the token's model and primary key (never the
  token itself), for `SIGNING_TOKEN_SESSION_SECONDS` after the last signing and never past the token's
  expiry (knox's `expiry`). A revoked token's mark is unreachable: a new token
  has another key.
- Anything else (a shell, a script): no session; every signing takes the user ID.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

SESSION_KEY = "crf:signed-as"  # in the Django session: the pk of the user who has signed in it


class SigningSession:
    """No session at all: every signing is a first signing."""

    def has_signed(self, user) -> bool:
        return False

    def record_signing(self, user) -> None:
        """Nothing to remember."""


class PageSession(SigningSession):
    """The Django session of the request (pages, and the API through the session cookie)."""

    def __init__(self, session):
        self.session = session

    def has_signed(self, user) -> bool:
        return self.session.get(SESSION_KEY) == user.pk

    def record_signing(self, user) -> None:
        self.session[SESSION_KEY] = user.pk


class TokenSession(SigningSession):
    """An API token's session: its mark in the cache, keyed by a digest of the token's identity."""

    def __init__(self, token):
        identity = f"{token._meta.label_lower}:{token.pk}"
        self.key = "crf:signing-session:" + hashlib.sha256(identity.encode()).hexdigest()
        self.expiry = getattr(token, "expiry", None)  # knox; a DRF Token never expires

    def has_signed(self, user) -> bool:
        return cache.get(self.key) == user.pk

    def record_signing(self, user) -> None:
        # Like a page session's idle limit: the mark lapses SIGNING_TOKEN_SESSION_SECONDS after the last
        # signing, and never outlives the token (a knox token's expiry).
        seconds = settings.SIGNING_TOKEN_SESSION_SECONDS
        if self.expiry is not None:
            seconds = min(seconds, int((self.expiry - timezone.now()).total_seconds()))
            if seconds <= 0:
                return
        cache.set(self.key, user.pk, seconds)


def signing_session(request) -> SigningSession:
    """The signing session a request belongs to: its API token's, else its Django session's, else none."""
    token = getattr(request, "auth", None)
    if token is not None:
        return TokenSession(token) if hasattr(token, "_meta") else SigningSession()
    session = getattr(request, "session", None)
    return PageSession(session) if session is not None else SigningSession()
