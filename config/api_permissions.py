"""The permission matrix (config/permissions.py) for the API: DRF's default permission class.

A module of its own, importing the matrix only when a request is judged: DRF reads its default permission
classes while rest_framework.views is still being imported, before the apps' models are.
"""

from django.conf import settings
from rest_framework import exceptions
from rest_framework.permissions import BasePermission


class MatrixPermission(BasePermission):
    """Anonymous: False (DRF answers 401 with the token scheme); refused: 403, or 404 for research data the
    user may not read; a write where the URL takes none: 405."""

    def has_permission(self, request, view) -> bool:
        from trial.errors import Forbidden

        from .permissions import ANYONE, Verdict, judge, refusal_message, rule_for

        if not settings.PERMISSION_MATRIX_ENFORCED:
            # As before the matrix: a signed-in user (IsAuthenticated), the schema and docs open to anyone.
            found = rule_for(request.resolver_match)
            schema = type(view).__module__.startswith("drf_spectacular")
            open_to_all = schema or (found is not None and ANYONE in found.read)
            return bool(request.user.is_authenticated or open_to_all)

        if request.method not in view.allowed_methods:
            # A method the view does not take is a 405 whoever asks (schemathesis' unsupported_method): it
            # depends on the URL alone, which the schema shows every signed-in user, never on a record.
            raise exceptions.MethodNotAllowed(request.method)
        verdict = judge(request.user, request.resolver_match, request.method)
        if verdict is Verdict.NOT_FOUND:
            raise exceptions.NotFound()
        if verdict is Verdict.METHOD_NOT_ALLOWED:
            raise exceptions.MethodNotAllowed(request.method)
        if verdict is Verdict.FORBIDDEN:
            # DRF's PermissionDenied, not the domain's Forbidden: DRF's OPTIONS answer asks each write's
            # permission and leaves out those that raise an APIException; a domain error would escape it and
            # turn a reader's OPTIONS into a 403. trial.errors.api_exception_handler gives it the domain's
            # shape ({"detail", "code": "forbidden"}), that of every view's own refusal.
            message = refusal_message(request.resolver_match, request.method)
            raise exceptions.PermissionDenied(message, code=Forbidden.code)
        return verdict is Verdict.ALLOWED
