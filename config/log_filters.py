"""Logging filters: a patient-link token in a log is a live key to a questionnaire, so none gets there."""

import logging

from trial.privacy import mask_tokens


class MaskPatientLinkTokens(logging.Filter):
    """Masks /p/<token>/ and /api/v1/patient/<token>/ in every record's final text and traceback.

    Django logs 4xx and 5xx responses with their path (django.request, django.server), gunicorn its access
    line and "Error handling request <uri>"; a HEAD from a link preview bot or a mistyped path would
    otherwise put a live token in the journal. The message is formatted here and masked whole, so no
    argument (a dict, a request object whose str names its path) slips past.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = None  # a malformed record: the handler reports it, as without this filter
        if message is not None:
            record.msg, record.args = mask_tokens(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_tokens(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_tokens(record.exc_text)
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            # The AdminEmailHandler and error reports read the request: they get the masked path too.
            record.request_path = mask_tokens(request.path)
        return True
