"""Enrollment, study IDs, identity privacy, withdrawal and loss to follow-up through the API."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trial.models import Participant, ParticipantIdentity, SiteSequence

from ..conftest import client_for

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen

ENROLL = {
    "consent_date": "2026-01-06",
    "enrollment_date": "2026-01-07",
    "identity": {
        "full_name": "Synthetic Person",
        "phone": "13800000000",
        "hospital_record_number": "DEMO-1",
        "national_id": "",
    },
}


def enroll(api, screening, **overrides):
    return api.post(f"/api/v1/screenings/{screening.pk}/enroll/", {**ENROLL, **overrides}, format="json")


def test_enroll_gives_site_prefixed_sequential_ids(api, make_screening):
    first = enroll(api, make_screening())
    second = enroll(api, make_screening())
    assert first.status_code == 201, first.json()
    assert [first.json()["study_id"], second.json()["study_id"]] == ["07-0001", "07-0002"]
    assert first.json()["status"] == "enrolled"
    assert SiteSequence.objects.get(site__code="07").last_number == 2


def test_ids_are_per_site(api, make_screening, other_coordinator, other_site):
    enroll(api, make_screening())
    theirs = make_screening(actor=other_coordinator, on_site=other_site)
    response = enroll(client_for(other_coordinator), theirs)
    assert response.json()["study_id"] == "91-0001"


@pytest.mark.parametrize(
    ("answers", "levels", "code"),
    [({"INC1": False}, ("L1",), "not_eligible"), ({"INC1": True}, ("L1",), "not_eligible")],
)
def test_only_eligible_screenings_enroll(api, make_screening, answers, levels, code):
    response = enroll(api, make_screening(answers=answers, levels=levels))
    assert response.status_code == 409
    assert response.json()["code"] == code
    assert Participant.objects.count() == 0


def test_enrolling_twice_is_a_conflict(api, make_screening):
    screening = make_screening()
    assert enroll(api, screening).status_code == 201
    again = enroll(api, screening)
    assert again.status_code == 409
    assert Participant.objects.count() == 1
    assert SiteSequence.objects.get(site__code="07").last_number == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent_date": "2026-01-08"}, "consent_date"),  # after enrollment
        ({"enrollment_date": "2999-01-01"}, "enrollment_date"),  # future
        ({"consent_date": "2999-01-01", "enrollment_date": "2999-01-02"}, "consent_date"),
        ({"consent_date": "not a date"}, "consent_date"),
        (
            {"enrollment_date": "2026-01-01", "consent_date": "2026-01-01"},
            "enrollment_date",
        ),  # before screening
        ({"identity": {"full_name": ""}}, "identity"),
        ({"identity": {"full_name": "A", "shoe_size": "42"}}, "identity"),
    ],
)
def test_bad_enrollment_input_is_400_and_nothing_is_saved(api, make_screening, overrides, field):
    response = enroll(api, make_screening(), **overrides)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Participant.objects.count() == 0
    assert ParticipantIdentity.objects.count() == 0
    assert not SiteSequence.objects.filter(last_number__gt=0).exists()


def test_identity_is_only_for_own_site_staff(api, make_participant, monitor, other_coordinator):
    participant = make_participant()
    url = f"/api/v1/participants/{participant.study_id}/identity/"
    assert api.get(url).json()["full_name"] == "Synthetic Person"
    assert client_for(monitor).get(url).status_code == 403
    assert client_for(other_coordinator).get(url).status_code == 404


def test_identifying_data_is_absent_from_research_endpoints(api, make_participant, monitor):
    participant = make_participant()
    for client in (api, client_for(monitor)):
        for url in (
            "/api/v1/participants/",
            f"/api/v1/participants/{participant.study_id}/",
            f"/api/v1/participants/{participant.study_id}/history/",
            "/api/v1/screenings/",
        ):
            text = client.get(url).content.decode()
            assert "Synthetic Person" not in text and "13800000000" not in text, url


def test_participant_list_filters_and_scoping(api, make_participant, other_coordinator, other_site, monitor):
    make_participant()
    make_participant(actor=other_coordinator, on_site=other_site)
    assert [p["study_id"] for p in api.get("/api/v1/participants/").json()["results"]] == ["07-0001"]
    assert client_for(monitor).get("/api/v1/participants/").json()["count"] == 2
    assert client_for(monitor).get("/api/v1/participants/", {"site": "91"}).json()["count"] == 1
    assert api.get("/api/v1/participants/", {"status": "withdrawn"}).json()["count"] == 0
    assert api.get("/api/v1/participants/91-0001/").status_code == 404


def test_withdrawal_keeps_data_and_is_final(api, make_participant):
    participant = make_participant()
    url = f"/api/v1/participants/{participant.study_id}/withdraw/"
    response = api.post(url, {"date": "2026-03-01", "reason": "Withdrew consent"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_date"]) == ("withdrawn", "2026-03-01")
    assert Participant.objects.get(pk=participant.pk).screening_id == participant.screening_id
    assert api.post(url, {"date": "2026-03-02", "reason": "again"}, format="json").status_code == 409


def test_lost_to_follow_up(api, make_participant):
    participant = make_participant()
    response = api.post(
        f"/api/v1/participants/{participant.study_id}/lost-to-follow-up/",
        {"date": "2026-06-01", "reason": "Three calls unanswered"},
        format="json",
    )
    assert response.json()["status"] == "lost_to_follow_up"


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2999-01-01", "reason": "x"},
        {"date": "2026-01-01", "reason": "before enrollment"},
        {"date": "2026-03-01"},
        {"date": "2026-03-01", "reason": "  "},
        {"reason": "no date"},
    ],
)
def test_bad_withdrawal_is_400(api, make_participant, body):
    participant = make_participant()
    response = api.post(f"/api/v1/participants/{participant.study_id}/withdraw/", body, format="json")
    assert response.status_code == 400
    participant.refresh_from_db()
    assert participant.status == "enrolled"


def test_monitor_cannot_withdraw(monitor, make_participant):
    participant = make_participant()
    response = client_for(monitor).post(
        f"/api/v1/participants/{participant.study_id}/withdraw/",
        {"date": "2026-03-01", "reason": "x"},
        format="json",
    )
    assert response.status_code == 403


def test_participant_list_runs_a_fixed_number_of_queries(api, make_participant):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/participants/").status_code == 200
        return len(ctx.captured_queries)

    make_participant()
    few = count_queries()
    for _ in range(20):
        make_participant(day=datetime.date(2026, 1, 2))
    assert count_queries() == few


@pytest.mark.parametrize(
    ("identity", "field"),
    [
        ({"full_name": "A", "phone": "1" * 100}, "phone"),  # longer than the column: 400, never a 500
        ({"full_name": "A", "national_id": "X" * 33}, "national_id"),
        ({"full_name": "A" * 200}, "full_name"),
        ({"full_name": "A", "phone": 13800000000}, "phone"),  # a number is not text: refused, not coerced
        ({"full_name": "A", "phone": "13800000000"}, None),
    ],
)
def test_identity_values_are_checked_against_their_columns(api, make_screening, identity, field):
    response = enroll(api, make_screening(), identity=identity)
    if field is None:
        assert response.status_code == 201
        return
    assert response.status_code == 400, response.content
    assert field in response.json()["identity"]
    assert Participant.objects.count() == 0


def test_identity_is_required(api, make_screening):
    body = {"consent_date": "2026-01-06", "enrollment_date": "2026-01-07"}
    response = api.post(f"/api/v1/screenings/{make_screening().pk}/enroll/", body, format="json")
    assert response.status_code == 400
    assert "identity" in response.json()


def test_enrolling_clears_an_earlier_not_enrolled_reason(api, make_screening):
    screening = make_screening()
    api.patch(
        f"/api/v1/screenings/{screening.pk}/",
        {"not_enrolled_reason": "declined_consent"},
        format="json",
        HTTP_X_CHANGE_REASON="declined at first",
    )
    assert enroll(api, screening).status_code == 201
    screening.refresh_from_db()
    assert screening.not_enrolled_reason == ""


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/participants/%00/",
        "/api/v1/participants/%00/history/",
        "/api/v1/studies/%00/",
        "/participants/%00/",
        "/participants/07-0001%00/status/",
    ],
)
def test_malformed_lookups_are_404_not_500(api, coordinator, client, url):
    client.force_login(coordinator)
    assert api.get(url).status_code == 404
    assert client.get(url).status_code == 404


def test_dates_before_the_study_opened_are_refused(api, make_screening):
    response = enroll(api, make_screening(), consent_date="2020-01-01")
    assert response.status_code == 400
    assert "consent_date" in response.json()


def test_lost_participant_can_be_reinstated_but_withdrawal_is_final(api, make_participant):
    participant = make_participant()
    base = f"/api/v1/participants/{participant.study_id}"
    api.post(f"{base}/lost-to-follow-up/", {"date": "2026-06-01", "reason": "no answer"}, format="json")
    early = api.post(f"{base}/reinstate/", {"date": "2026-05-01", "reason": "called back"}, format="json")
    assert early.status_code == 400  # before the loss was recorded
    back = api.post(f"{base}/reinstate/", {"date": "2026-07-01", "reason": "Came to clinic"}, format="json")
    assert back.status_code == 200
    assert (back.json()["status"], back.json()["status_date"]) == ("enrolled", "2026-07-01")
    api.post(f"{base}/withdraw/", {"date": "2026-08-01", "reason": "Withdrew consent"}, format="json")
    again = api.post(f"{base}/reinstate/", {"date": "2026-09-01", "reason": "x"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "status_transition"


def test_identity_correction_needs_a_reason_and_own_site_staff(api, make_participant, monitor):
    from trial.selectors import history_for

    participant = make_participant()
    url = f"/api/v1/participants/{participant.study_id}/identity/"
    assert api.patch(url, {"phone": "13900000000"}, format="json").status_code == 400  # no reason
    assert (
        client_for(monitor).patch(url, {"phone": "1"}, format="json", HTTP_X_CHANGE_REASON="x").status_code
        == 403
    )
    assert api.patch(url, {"phone": "1" * 40}, format="json", HTTP_X_CHANGE_REASON="x").status_code == 400
    assert api.patch(url, {"email": "x"}, format="json", HTTP_X_CHANGE_REASON="x").status_code == 400
    response = api.patch(
        url, {"phone": "13900000000"}, format="json", HTTP_X_CHANGE_REASON="New phone number"
    )
    assert response.status_code == 200
    assert response.json() == {
        "full_name": "Synthetic Person",
        "phone": "13900000000",
        "hospital_record_number": "",
        "national_id": "",
        "email": "",
        "contact_language": "zh-hans",
    }
    identity = ParticipantIdentity.objects.get(participant=participant)
    last = history_for(identity)[-1]
    assert (last["reason"], last["user"]) == ("New phone number", "coord07")
