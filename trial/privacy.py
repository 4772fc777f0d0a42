"""Privacy at the edges: identifying data never reaches error reports, patient-link tokens never reach a log,
an audit row or an error report.

`mask_tokens` is the one rule for hiding patient-link tokens; the logging filters (config/log_filters.py),
gunicorn's logger (config/gunicorn_logging.py) and the audit context (trial/audit.py) all call it. This module
imports nothing of the project, so gunicorn's master process can load it before Django is set up.
"""

import re

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

IDENTITY_FIELDS = ("full_name", "phone", "hospital_record_number", "national_id", "email")

# A patient link is /p/<token>/ (page) or /api/v1/patient/<token>/ (API): the token is a live key to a
# questionnaire. Everything up to the next slash, space, query or fragment is the token.
TOKEN_PATH = re.compile(r"/(p|api/v1/patient)/([^/\s?#]+)")
KEY_SEPARATOR = "."  # followup.services.links.SEPARATOR: the token is key.signature


def mask_tokens(text: str) -> str:
    """`text` with the token of every patient-link path replaced by [token]; other paths unchanged."""
    return TOKEN_PATH.sub(r"/\1/[token]", text)


class IdentityReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports (debug page, admin e-mails) with the identity fields of a POST cleansed."""

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        hidden = [name for name in IDENTITY_FIELDS if name in params]
        if not hidden:
            return params
        params = params.copy()
        for name in hidden:
            params[name] = self.cleansed_substitute
        return params


class PrivateExceptionReporter(ExceptionReporter):
    """Django's error report (the debug page, admin e-mails) with the request's patient-link token masked.

    The token is in the URL, the request's repr, the view's arguments and its local variables: every
    occurrence of it, and of its key, is replaced in the finished report.
    """

    def get_traceback_html(self):
        return self._masked(super().get_traceback_html())

    def get_traceback_text(self):
        return self._masked(super().get_traceback_text())

    def _masked(self, report: str) -> str:
        found = TOKEN_PATH.search(getattr(self.request, "path", "") or "")
        if found:
            token = found.group(2)
            for secret in (token, token.split(KEY_SEPARATOR)[0]):
                report = report.replace(secret, "[token]")
        return mask_tokens(report)
