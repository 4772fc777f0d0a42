"""gunicorn's logs without patient-link tokens: a token in a log is a live key to a questionnaire.

gunicorn.conf.py (project root) names this logger class, so every way of starting gunicorn from the project
uses it: `make run`, the systemd unit and a bare `gunicorn config.wsgi`.
"""

from gunicorn.glogging import Logger

from trial.privacy import mask_tokens

from .log_filters import MaskPatientLinkTokens


class PatientLinkSafeLogger(Logger):
    """The standard access and error logs, with patient-link tokens masked in every line."""

    def setup(self, cfg):
        super().setup(cfg)
        # The error log names the URI of a request that failed ("Error handling request /p/<token>/").
        masking = MaskPatientLinkTokens()
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, MaskPatientLinkTokens) for f in log.filters):
                log.addFilter(masking)

    def atoms(self, resp, req, environ, request_time):
        """Every text atom masked: the request line, the path, the Referer and any header a format names."""
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_tokens(value) if isinstance(value, str) else value for key, value in atoms.items()}
