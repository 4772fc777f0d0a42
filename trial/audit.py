"""The audit trail (21 CFR 11.10(e)): pghistory triggers on every research-data model, plus who and why.

Every request runs inside a pghistory context carrying the acting user, the URL and the reason for change
(header X-Change-Reason). Services add the reason and actor explicitly too, so tasks and management commands
that call them are attributed the same way.
"""

import contextlib
from collections.abc import Iterator

import pghistory
from django.db import connection
from pghistory.middleware import HistoryMiddleware

REASON_HEADER = "HTTP_X_CHANGE_REASON"
MAX_REASON_LENGTH = 500


def audited():
    """Track inserts, updates and deletes of a model; fresh tracker instances for each model."""
    return pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


def request_reason(request) -> str:
    """The reason for change a client sent, stripped; empty when none."""
    return (request.META.get(REASON_HEADER) or "").strip()[:MAX_REASON_LENGTH]


class AuditContextMiddleware(HistoryMiddleware):
    """Adds the reason for change to pghistory's user and URL context (DRF users are attached on auth)."""

    def get_context(self, request) -> dict:
        context = super().get_context(request)
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
