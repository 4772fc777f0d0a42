"""The signing session across the adjudication verdicts (the same e-signature check as the forms): a reader's
first verdict of a session takes the user ID and the password, the next the password alone; the page drops
the User ID field once the session has signed."""

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from followup.models import CaseAssignment, Verdict
from followup.services.assignment import case_readers_assign

from ..factories import PASSWORD
from ..followup.conftest import cases as cases  # the followup fixtures, for this module
from ..followup.conftest import draft_cases as draft_cases
from ..followup.conftest import readers as readers
from ..followup.reading_helpers import reading_code

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

NO = {"fracture": False, "confidence": "moderate"}


@pytest.fixture
def two_cases(cases, readers):
    """Two cases, and a reader assigned to both."""
    first, second = cases[0], cases[1]
    case_readers_assign(case=first)
    case_readers_assign(case=second)
    common = set(CaseAssignment.objects.filter(case=first).values_list("reader", flat=True)) & set(
        CaseAssignment.objects.filter(case=second).values_list("reader", flat=True)
    )
    reader = next(user for user in readers.values() if user.pk in common)
    return first, second, reader


def test_a_token_signs_its_second_verdict_with_the_password_alone(two_cases):
    first, second, reader = two_cases
    _token, secret = AuthToken.objects.create(user=reader)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")

    def verdict(case, **signature):
        return api.post(
            f"/api/v1/adjudication/queue/{reading_code(case, reader)}/verdict/", NO | signature, format="json"
        )

    missing = verdict(first, password=PASSWORD)
    assert missing.status_code == 403 and missing.json()["code"] == "user_id_required"
    assert "username" in missing.json()
    assert verdict(first, username=reader.username, password=PASSWORD).status_code == 201
    assert verdict(second, password=PASSWORD).status_code == 201
    assert Verdict.objects.filter(reader=reader).count() == 2


def test_the_review_page_asks_the_user_id_on_the_first_verdict_only(two_cases):
    first, second, reader = two_cases
    client = Client()
    client.force_login(reader)
    form = {"fracture": "false", "confidence": "moderate", "event_date": "", "comment": ""}
    first_page, second_page = (f"/adjudication/{reading_code(case, reader)}/" for case in (first, second))
    assert 'name="username"' in client.get(first_page).content.decode()
    assert client.post(first_page, form | {"password": PASSWORD}).status_code == 400
    signed = client.post(first_page, form | {"username": reader.username, "password": PASSWORD})
    assert signed.status_code == 302
    assert 'name="username"' not in client.get(second_page).content.decode()
    assert client.post(second_page, form | {"password": PASSWORD}).status_code == 302
    assert Verdict.objects.filter(reader=reader).count() == 2
