"""One family of domain errors, mapped to clear 4xx answers in one place for the API (api_exception_handler,
below) and one for the pages (trial/pages.py). A 500 is always a bug."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None, code: str = ""):
        super().__init__(message)
        self.message = str(message)
        self.field_errors = field_errors or {}
        if code:
            self.code = code

    def as_payload(self) -> dict:
        payload: dict = {"detail": self.message, "code": self.code}
        payload.update(self.field_errors)
        return payload

    @property
    def refuses_page(self) -> bool:
        """The request as a whole is refused (the user's role, a dead link): a page of its own answers it,
        never a form redrawn with the message."""
        return False


class InvalidInput(DomainError):
    """The request is malformed or breaks a rule of the data (400, with field messages)."""


class ReasonRequired(InvalidInput):
    code = "reason_required"


class PreconditionRequired(DomainError):
    """A write that must name the version it read (If-Match) and did not (428)."""

    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    code = "precondition_required"


class Conflict(DomainError):
    """The request is valid but the record's state refuses it (409)."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Forbidden(DomainError):
    """The user's role or site does not allow this (403)."""

    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"

    @property
    def refuses_page(self) -> bool:
        # A refusal that names a field (a wrong signing password) is a mistake in the input, shown beside it.
        return not self.field_errors


def _django_validation_payload(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in errs] for field, errs in exc.message_dict.items()}
    return {"detail": " ".join(str(m) for m in exc.messages)}


def api_exception_handler(exc, context):
    """DRF exception handler: domain errors and Django validation errors become 4xx JSON answers."""
    if isinstance(exc, DomainError):
        return Response(exc.as_payload(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(_django_validation_payload(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):
        # A value the database refuses (too long, NUL byte) that a check upstream missed: still the client's
        # input, so a 400; logged without the value, which may be identifying.
        logger.warning("database refused a value: %s", type(exc).__name__)
        return Response(
            {"detail": _("A value is not valid for storage (too long or malformed).")}, status=400
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, exceptions.PermissionDenied) and getattr(exc.detail, "code", None) == Forbidden.code:
        # The permission matrix's refusal (config/api_permissions.py), in the domain's shape.
        return Response(Forbidden(exc.detail).as_payload(), status=Forbidden.status_code)
    return exception_handler(exc, context)
