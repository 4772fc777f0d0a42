"""Helpers of the CRF page tests: a logged-in browser client, the form pages' addresses, and the procedure
page's POST as a browser sends it."""

from django.test import Client


def logged_in(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def page_url(participant, form: str = "procedure", step: str = "") -> str:
    return f"/participants/{participant.study_id}/forms/{form}/" + (f"{step}/" if step else "")


LEVEL_L1 = {
    "level": "L1",
    "approach": "bipedicular",
    "cement_volume": "4.5",
    "balloon": "true",
    "leakage": "false",
}
LEVEL_T12 = {
    "level": "T12",
    "approach": "unipedicular",
    "cement_volume": "3.5",
    "balloon": "true",
    "leakage": "false",
}


def procedure_post(
    version: int = 0, *, levels=(LEVEL_L1, LEVEL_T12), blank_rows: int = 1, **overrides
) -> dict:
    """The POST of the procedure page as a browser sends it, with the blank rows drawn without JavaScript."""
    data = {
        "version": str(version),
        "procedure_date": "2026-01-08",
        "technique": "PKP",
        "anaesthesia": "local",
        "operator": "Dr Demo",
        "guidance": "",
        "cement_type": "pmma",
        "operative_time": "38",
        "intraop_complications": ["none"],
        "intraop_complications_other": "",
    }
    rows = [
        *levels,
        *({"level": "", "approach": "", "cement_volume": "", "balloon": "", "leakage": ""},) * blank_rows,
    ]
    for index, row in enumerate(rows):
        for code, value in row.items():
            data[f"levels-{index}-{code}"] = value
    data.update(overrides)
    return data
