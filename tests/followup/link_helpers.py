"""Helpers of the patient-link tests: a participant whose site has the ODI's wording loaded, its open visit
and an issued ODI link (fixtures, imported by the modules that use them), the patient API's client and
address, and snapshots to show a refusal changed nothing."""

import pytest
from rest_framework.test import APIClient

from followup.models import PatientLink, QuestionnaireResponse
from followup.services.links import patient_link_issue

from ..conftest import open_visit

# Ten ODI sections summing to 16 of 50: 32.0 %, moderate disability (domain.md's worked example).
ODI_16 = [2, 1, 3, 2, 1, 2, 1, 0, 2, 2]


@pytest.fixture(name="participant")
def fixture_participant(make_participant, odi_wording):
    """A participant at a site where the ODI's wording is loaded (the demo's), as an ODI link needs."""
    return make_participant()


@pytest.fixture(name="visit")
def fixture_visit(participant):
    return open_visit(participant)


@pytest.fixture(name="issued")
def fixture_issued(coordinator, visit):
    """An ODI link in Chinese: (link, token)."""
    return patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="zh-hans")


def patient_api() -> APIClient:
    return APIClient()  # no session, no API token: the link's token is the only credential


def api_url(token: str) -> str:
    return f"/api/v1/patient/{token}/"


def snapshot(response_id: int) -> tuple:
    r = QuestionnaireResponse.objects.get(pk=response_id)
    return (r.answers, r.status, r.version, r.score, r.answered, r.language, r.submitted_at)


def links_snapshot() -> list:
    return list(PatientLink.objects.order_by("pk").values_list("pk", "used_at", "revoked_at", "expires_at"))
