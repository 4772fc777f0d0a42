"""gunicorn's access log without patient-link tokens: a token in a log is a live key to a questionnaire."""

import re

from gunicorn.glogging import Logger

TOKEN_PATH = re.compile(r"/(p|api/v1/patient)/[^/\s?]+")


def mask_tokens(text: str) -> str:
    return TOKEN_PATH.sub(r"/\1/[token]", text)


class PatientLinkSafeLogger(Logger):
    """The standard access log, with patient-link tokens masked in the request line and the URL."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U"):
            if isinstance(atoms.get(key), str):
                atoms[key] = mask_tokens(atoms[key])
        return atoms
