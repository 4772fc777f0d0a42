"""Logging filters: a patient-link token in a log is a live key to a questionnaire, so none gets there."""

import logging

from .gunicorn_logging import mask_tokens


class MaskPatientLinkTokens(logging.Filter):
    """Masks /p/<token>/ and /api/v1/patient/<token>/ in every record's message and arguments.

    Django logs 4xx and 5xx responses with their path (django.request, django.server); a HEAD from a link
    preview bot or a mistyped path would otherwise put a live token in the journal.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_tokens(a) if isinstance(a, str) else a for a in record.args)
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            # The AdminEmailHandler and error reports read the request: they get the masked path too.
            record.request_path = mask_tokens(request.path)
        return True
