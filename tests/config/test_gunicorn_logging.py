"""The production access log masks patient-link tokens (a token is a live key to a questionnaire)."""

import datetime
from types import SimpleNamespace

from gunicorn.config import Config

from config.gunicorn_logging import PatientLinkSafeLogger
from trial.privacy import mask_tokens


def test_tokens_are_masked_and_other_paths_kept():
    assert mask_tokens("GET /p/eyJrIjo.abc:def/ HTTP/1.1") == "GET /p/[token]/ HTTP/1.1"
    assert mask_tokens("/api/v1/patient/tok3n/") == "/api/v1/patient/[token]/"
    assert mask_tokens("/participants/07-0001/timeline/") == "/participants/07-0001/timeline/"


def test_the_logger_masks_the_request_line_and_the_url():
    logger = PatientLinkSafeLogger(Config())
    request = SimpleNamespace(
        headers=[], method="GET", path="/p/secret-token/", query="", version=(1, 1), uri="/p/secret-token/"
    )
    response = SimpleNamespace(status="200 OK", headers=[], sent=10, response_length=10)
    environ = {
        "RAW_URI": "/p/secret-token/",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/p/secret-token/",
        "QUERY_STRING": "",
    }
    atoms = logger.atoms(response, request, environ, datetime.timedelta(seconds=0.01))
    assert "secret-token" not in atoms["r"] and "secret-token" not in atoms["U"]
    assert atoms["U"] == "/p/[token]/"
