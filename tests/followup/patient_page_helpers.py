"""Helpers of the questionnaire page tests: a participant whose site has the ODI's wording loaded and its open
visit (fixtures, imported by the modules that use them), issuing a link, the patient page's address and POST,
and a logged-in client."""

import pytest

from followup.services.links import patient_link_issue

from ..conftest import open_visit

ODI_16 = [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]  # 16 of 50: 32.0 %


@pytest.fixture(name="participant")
def fixture_participant(make_participant, odi_wording):
    """A participant at a site where the ODI's wording is loaded (the demo's), as an ODI link needs."""
    return make_participant()


@pytest.fixture(name="visit")
def fixture_visit(participant):
    return open_visit(participant)


def issue(coordinator, visit, instrument="odi", language="zh-hans"):
    return patient_link_issue(actor=coordinator, visit=visit, instrument=instrument, language=language)


def page(token: str) -> str:
    return f"/p/{token}/"


def odi_post(answers, action="save", version=1, **extra) -> dict:
    data = {"action": action, "version": str(version), **extra}
    for i, value in enumerate(answers):
        if value is not None:
            data[f"q{i}"] = str(value)
    return data
