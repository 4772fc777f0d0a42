"""The audit trail (21 CFR 11.10(e)): pghistory triggers on every research-data model, plus who and why.

Every request runs inside a pghistory context carrying the acting user, the URL and the reason for change
(header X-Change-Reason). Services add the reason and actor explicitly too, so tasks and management commands
that call them are attributed the same way.
"""

import contextlib
import urllib.parse
from collections.abc import Iterator

import pghistory
from django.db import connection
from django.utils.translation import gettext as _
from pghistory.middleware import HistoryMiddleware

from .errors import ReasonRequired
from .privacy import mask_tokens

REASON_HEADER = "HTTP_X_CHANGE_REASON"
MAX_REASON_LENGTH = 500


def audited(*, exclude: tuple[str, ...] = ()):
    """Track inserts, updates and deletes of a model; fresh tracker instances for each model.

    `exclude`: columns the database derives from other rows (a copy of the participant's site), which no
    one enters or changes and which would only repeat the trail of the rows they come from.
    """
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=list(exclude) or None,
    )


def request_reason(request) -> str:
    """The reason for change a client sent, stripped; empty when none.

    Reasons are often Chinese, and HTTP headers are Latin-1 on the wire (PEP 3333). Two spellings work:
    raw UTF-8 bytes (curl sends them; the WSGI server hands them over decoded as Latin-1, undone here) and
    percent-encoded UTF-8, optionally with the RFC 8187 prefix UTF-8'' (what browsers' fetch() can send).
    """
    raw = request.META.get(REASON_HEADER) or ""
    # Not UTF-8 bytes in Latin-1 clothing: keep the text as it came.
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        raw = raw.encode("latin-1").decode("utf-8")
    if raw[:7].lower() == "utf-8''":
        raw = raw[7:]
    if "%" in raw:
        raw = urllib.parse.unquote(raw, errors="strict") if _is_utf8_quoted(raw) else raw
    return raw.strip()[:MAX_REASON_LENGTH]


def reason_required(reason: str | None) -> str:
    """The reason for a change, stripped; a 400 (ReasonRequired, beside the `reason` field) when there is
    none. The one check of every service that changes recorded data on a person's say-so."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(
            _("A reason for change is required (X-Change-Reason)."),
            field_errors={"reason": [_("Give a reason for the change.")]},
        )
    return reason


def _is_utf8_quoted(text: str) -> bool:
    try:
        urllib.parse.unquote(text, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


class AuditContextMiddleware(HistoryMiddleware):
    """Adds the reason for change to pghistory's user and URL context (DRF users are attached on auth).

    The URL is stored with patient-link tokens masked: audit rows can never be deleted, and a token in one
    would be a live key to a questionnaire for anyone who reads the trail.
    """

    def get_context(self, request) -> dict:
        context = super().get_context(request)
        context["url"] = mask_tokens(context.get("url") or "")
        reason = request_reason(request)
        if reason:
            context["reason"] = reason
        return context


@contextlib.contextmanager
def audit_context(*, actor=None, reason: str = "", **extra) -> Iterator[None]:
    """Attribute the changes made inside to actor, with a reason; nests into a request's context."""
    metadata = {key: value for key, value in extra.items() if value not in (None, "")}
    if actor is not None and getattr(actor, "pk", None) is not None:
        metadata["user"] = actor._meta.pk.get_db_prep_value(actor.pk, connection)
    if reason:
        metadata["reason"] = reason
    with pghistory.context(**metadata):
        yield
