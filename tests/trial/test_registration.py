"""Retrospective registration (design.registration: retrospective, NCT07306858): an eligible case becomes a
participant with no consent step and the waiver on record, in the group the protocol declares; a prospective
study still asks for consent. The API and the pages, in both languages."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import client_for
from trial.models import Participant
from trial.services import participant_enroll

from .retro_helpers import ASKED, IDENTITY, fixture_make_case, fixture_retro, fixture_retro_coordinator  # noqa: F401

pytestmark = pytest.mark.frozen


def register(client, screening, **body):
    return client.post(f"/api/v1/screenings/{screening.pk}/enroll/", body, format="json")


def test_a_case_of_49_is_ineligible_and_of_50_eligible(make_case):
    assert make_case(age=49).outcome == "ineligible"
    assert make_case(age=49).failed_criteria == ["INC5"]
    assert make_case(age=50).outcome == "eligible"


def test_an_eligible_case_is_registered_without_consent(make_case, retro_coordinator):
    response = register(
        client_for(retro_coordinator),
        make_case(),
        enrollment_date="2026-01-06",
        group="acute",
        identity=IDENTITY,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["study_id"] == "CQ1-0001"
    assert (body["consent_date"], body["consent_waived"], body["group"]) == (None, True, "acute")
    participant = Participant.objects.get()
    assert (participant.consent_date, participant.consent_waived) == (None, True)
    assert participant.enrollment_date == datetime.date(2026, 1, 6)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"consent_date": "2026-01-06", "group": "acute"}, "consent_date"),  # consent is waived: none given
        ({}, "group"),  # the study has groups: one is required
        ({"group": "subacute"}, "group"),
        ({"group": ""}, "group"),
    ],
)
def test_a_bad_registration_is_400_naming_the_field_and_nothing_is_saved(
    make_case, retro_coordinator, body, field
):
    response = register(
        client_for(retro_coordinator),
        make_case(),
        enrollment_date="2026-01-06",
        identity=IDENTITY,
        **body,
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Participant.objects.count() == 0


def test_a_prospective_study_still_asks_for_consent_and_takes_no_group(api, make_screening):
    identity = {"full_name": "Synthetic Person"}
    screening = make_screening()
    missing = register(api, screening, enrollment_date="2026-01-07", identity=identity)
    assert missing.status_code == 400 and "consent_date" in missing.json()
    grouped = register(
        api,
        screening,
        consent_date="2026-01-06",
        enrollment_date="2026-01-07",
        group="acute",
        identity=identity,
    )
    assert grouped.status_code == 400 and "group" in grouped.json()
    assert Participant.objects.count() == 0
    enrolled = register(
        api, screening, consent_date="2026-01-06", enrollment_date="2026-01-07", identity=identity
    )
    assert enrolled.status_code == 201
    assert (enrolled.json()["consent_date"], enrolled.json()["consent_waived"]) == ("2026-01-06", False)


def test_the_study_api_says_how_cases_are_registered(retro, retro_coordinator):
    body = client_for(retro_coordinator).get("/api/v1/studies/NCT07306858/").json()
    assert (body["registration"], body["follow_up_days"]) == ("retrospective", None)
    assert [(g["code"], g["target"]) for g in body["groups"]] == [("acute", 138), ("chronic", 138)]
    assert {s["code"]: s["cohort"] for s in body["sites"]} == {
        "CQ1": "development",
        "EXT1": "external_validation",
    }


# --- pages ---------------------------------------------------------------------------------------------


def page_client(user, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize(
    ("language", "heading", "group_label"),
    [("en", "Register the case", "Acute fracture"), ("zh-hans", None, "急性骨折")],
)
def test_the_retrospective_page_asks_no_consent_and_asks_the_group(
    make_case, retro_coordinator, language, heading, group_label
):
    screening = make_case()
    html = (
        page_client(retro_coordinator, language).get(reverse("screening-detail", args=[screening.pk])).content
    )
    html = html.decode()
    assert 'name="consent_date"' not in html
    assert 'name="enrollment_date"' in html
    assert 'name="group"' in html and group_label in html
    assert 'data-role="consent-waived"' in html
    if heading:
        assert heading in html


def test_the_prospective_page_still_asks_consent_and_no_group(make_screening, coordinator):
    screening = make_screening()
    html = (
        page_client(coordinator, "en").get(reverse("screening-detail", args=[screening.pk])).content.decode()
    )
    assert 'name="consent_date"' in html
    assert 'name="group"' not in html
    assert 'data-role="consent-waived"' not in html


def test_registering_on_the_page_records_the_waiver_and_the_group(make_case, retro_coordinator):
    screening = make_case()
    client = page_client(retro_coordinator, "en")
    response = client.post(
        reverse("screening-enroll", args=[screening.pk]),
        {"enrollment_date": "2026-01-06", "group": "chronic", "full_name": "Synthetic Case"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    participant = Participant.objects.get()
    assert (participant.consent_waived, participant.consent_date, participant.group) == (
        True,
        None,
        "chronic",
    )
    detail = client.get(response["Location"]).content.decode()
    assert "Waived by the protocol" in detail and "Chronic fracture" in detail


def test_a_page_registration_without_a_group_is_refused_at_the_field(make_case, retro_coordinator):
    screening = make_case()
    response = page_client(retro_coordinator, "en").post(
        reverse("screening-enroll", args=[screening.pk]),
        {"enrollment_date": "2026-01-06", "full_name": "Synthetic Case"},
    )
    assert response.status_code == 400
    assert Participant.objects.count() == 0


def test_the_service_refuses_a_consent_date_when_consent_is_waived(make_case, retro_coordinator):
    from trial.errors import InvalidInput

    with pytest.raises(InvalidInput) as info:
        participant_enroll(
            actor=retro_coordinator,
            screening=make_case(),
            consent_date=datetime.date(2026, 1, 6),
            enrollment_date=datetime.date(2026, 1, 6),
            group="acute",
            identity=IDENTITY,
        )
    assert set(info.value.field_errors) == {"consent_date"}
