"""The questionnaire API: scoring on its own, the registry, a visit's questionnaire (ETag, reasons, roles) and
a participant's responses with change from baseline, in a fixed number of queries."""

import pytest
from rest_framework.test import APIClient

from followup.models import QuestionnaireResponse
from trial.models import Role

from ..conftest import client_for
from . import questionnaire_helpers as helpers
from .questionnaire_helpers import odi_answers, submit

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

participant, visits = helpers.participant, helpers.visits  # the fixtures, under their names

SCORE = "/api/v1/instruments/odi/score/"


def url(participant, visit="V0", instrument="odi"):
    return f"/api/v1/participants/{participant.study_id}/visits/{visit}/questionnaires/{instrument}/"


def put(client, participant, body, *, visit="V0", instrument="odi", version=None, reason=None):
    headers = {}
    if version is not None:
        headers["HTTP_IF_MATCH"] = f'"{version}"'
    if reason:
        headers["HTTP_X_CHANGE_REASON"] = reason
    return client.put(url(participant, visit, instrument), body, format="json", **headers)


# --- scoring on its own ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (odi_answers(16), {"score": 32.0, "band": "moderate", "answered": 10}),
        (odi_answers(16, missing=1), {"score": 35.6, "band": "moderate", "answered": 9}),
        (odi_answers(16, missing=2), {"score": None, "band": None, "answered": 8}),
        ([[2, 4], 0, 0, 0, 0, 0, 0, 0, 0, 0], {"score": 8.0, "band": "minimal", "answered": 10}),
        ([0] * 10, {"score": 0.0, "band": "minimal", "answered": 10}),
        ([5] * 10, {"score": 100.0, "band": "bed_bound", "answered": 10}),
        (odi_answers(9, missing=1), {"score": 20.0, "band": "minimal", "answered": 9}),
        (odi_answers(10, missing=1), {"score": 22.2, "band": "moderate", "answered": 9}),
        (odi_answers(21, missing=1), {"score": 46.7, "band": "severe", "answered": 9}),
        (odi_answers(36, missing=1), {"score": 80.0, "band": "crippled", "answered": 9}),
        (odi_answers(37, missing=1), {"score": 82.2, "band": "bed_bound", "answered": 9}),
    ],
)
def test_odi_score_endpoint(api, answers, expected):
    response = api.post(SCORE, {"answers": answers}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": [0] * 9}, "answers"),
        ({"answers": [0] * 11}, "answers"),
        ({"answers": [0, 0, 0, 6, 0, 0, 0, 0, 0, 0]}, "answers[3]"),
        ({"answers": [0, -1, 0, 0, 0, 0, 0, 0, 0, 0]}, "answers[1]"),
        ({"answers": [0, 0, 0, 0, 0, 2.5, 0, 0, 0, 0]}, "answers[5]"),
        ({"answers": [0, 0, 0, 0, 0, 0, "2", 0, 0, 0]}, "answers[6]"),
        ({"answers": [True, 0, 0, 0, 0, 0, 0, 0, 0, 0]}, "answers[0]"),
        ({"answers": [0, 0, 0, 0, 0, 0, 0, 0, [], 0]}, "answers[8]"),
        ({"answers": [0, 0, 0, 0, 0, 0, 0, 0, 0, [1, 9]]}, "answers[9]"),
        ({"answers": {"pain": 40}}, "answers"),  # a VAS sent to the ODI
        ({"answers": None}, "answers"),
        ({}, "answers"),
        ({"answers": [0] * 10, "max_missing": 3}, "max_missing"),
    ],
)
def test_odi_score_endpoint_refuses_malformed_input(api, body, field):
    response = api.post(SCORE, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_vas_score_endpoint(api):
    assert api.post("/api/v1/instruments/vas/score/", {"answers": {"pain": 87}}, format="json").json() == {
        "score": 87.0,
        "band": None,
        "answered": 1,
    }
    for pain in (-1, 101, 50.5, "50", True):
        bad = api.post("/api/v1/instruments/vas/score/", {"answers": {"pain": pain}}, format="json")
        assert bad.status_code == 400 and "answers.pain" in bad.json()
    assert api.post("/api/v1/instruments/nrs/score/", {"answers": {}}, format="json").status_code == 404


def test_scoring_needs_a_login():
    assert APIClient().post(SCORE, {"answers": [0] * 10}, format="json").status_code in (401, 403)


def test_instrument_registry_has_names_but_no_wording(api):
    response = api.get("/api/v1/instruments/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    odi, vas = response.json()
    assert (odi["code"], odi["version"], vas["code"], vas["unit"]) == ("odi", "2.1a", "vas", "mm")
    assert [s["code"] for s in odi["sections"]][:2] == ["pain_intensity", "personal_care"]
    assert odi["sections"][0]["name_i18n"] == {"en": "Pain intensity", "zh-hans": "疼痛程度"}
    assert [b["upper"] for b in odi["bands"]] == [20.0, 40.0, 60.0, 80.0, 100.0]
    assert (odi["mcid"], vas["mcid"], odi["mcid_relative_percent"]) == (10.0, 15.0, 30.0)
    assert "statements" not in response.content.decode()


# --- a visit's questionnaire -------------------------------------------------------------------------------


def test_read_save_submit_and_correct_with_etags_and_a_reason(api, participant, visits):
    empty = api.get(url(participant))
    assert empty.status_code == 200 and empty["ETag"] == '"0"'
    assert (empty.json()["status"], empty.json()["answers"]) == ("not_started", None)

    draft = put(api, participant, {"answers": odi_answers(10, missing=3), "source": "interview"})
    assert draft.status_code == 200, draft.json()
    assert draft["ETag"] == '"1"'
    assert (draft.json()["status"], draft.json()["score"], draft.json()["answered"]) == ("draft", None, 7)
    assert draft.json()["entered_by"] == "coord07"

    no_etag = put(api, participant, {"answers": odi_answers(16), "source": "interview"})
    assert no_etag.status_code == 428
    stale = put(api, participant, {"answers": odi_answers(16), "source": "interview"}, version=0)
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"

    final = put(
        api,
        participant,
        {"answers": odi_answers(16), "source": "paper", "submit": True, "completed_on": "2026-01-07"},
        version=1,
    )
    body = final.json()
    assert final.status_code == 200, body
    assert (body["status"], body["score"], body["band"], body["answered"]) == ("final", 32.0, "moderate", 10)
    assert (body["completed_on"], body["source"], body["band_label"]) == (
        "2026-01-07",
        "paper",
        "moderate disability",
    )
    assert body["submitted_at"] is not None

    no_reason = put(api, participant, {"answers": odi_answers(18), "source": "paper"}, version=2)
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    corrected = put(
        api,
        participant,
        {"answers": odi_answers(18), "source": "paper"},
        version=2,
        reason="更正：第3项抄录错误".encode().decode("latin-1"),  # noqa: RUF001 -- raw UTF-8, as curl sends it
    )
    assert corrected.status_code == 200, corrected.json()
    assert (corrected.json()["status"], corrected.json()["score"], corrected["ETag"]) == (
        "final",
        36.0,
        '"3"',
    )
    assert api.get(url(participant)).json()["score"] == 36.0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": [0, 0, 0, 6, 0, 0, 0, 0, 0, 0], "source": "interview"}, "answers[3]"),
        ({"answers": odi_answers(16), "source": "interview", "notes": "?"}, "notes"),
        ({"answers": odi_answers(16), "source": "email"}, "source"),
        ({"answers": odi_answers(16)}, "source"),
        ({"answers": odi_answers(16), "source": "interview", "submit": "yes"}, "submit"),
        ({"answers": odi_answers(16), "source": "interview", "submit": 1}, "submit"),
        ({"answers": odi_answers(16), "source": "interview", "language": "fr"}, "language"),
        ({"answers": odi_answers(16), "source": "interview", "completed_on": "2099-01-01"}, "completed_on"),
        ({"answers": odi_answers(16), "source": "interview", "completed_on": "yesterday"}, "completed_on"),
    ],
)
def test_bad_bodies_are_400_with_field_messages(api, participant, visits, body, field):
    response = put(api, participant, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not QuestionnaireResponse.objects.exists()


def test_answers_to_the_wrong_questionnaire_are_400(api, participant, visits):
    response = put(api, participant, {"answers": odi_answers(16), "source": "interview"}, visit="V1")
    assert response.status_code == 400
    assert "wrong questionnaire" in response.json()["detail"] and "instrument" in response.json()
    assert api.get(url(participant, "V1", "odi")).status_code == 400
    assert (
        put(api, participant, {"answers": [1], "source": "interview"}, instrument="sf36").status_code == 400
    )
    assert api.get(url(participant, "V99")).status_code == 404


def test_other_sites_and_adjudicators_see_nothing_and_monitors_only_read(
    participant, visits, coordinator, other_coordinator, monitor, make_user, study
):
    submit(coordinator, participant, visits["V0"], "vas", {"pain": 40})
    adjudicator = make_user("adj", role=Role.ADJUDICATOR, study=study)
    for user in (other_coordinator, adjudicator):
        client = client_for(user)
        assert client.get(url(participant, instrument="vas")).status_code == 404
        assert client.get(f"/api/v1/participants/{participant.study_id}/questionnaires/").status_code == 404
        assert (
            put(
                client, participant, {"answers": {"pain": 1}, "source": "interview"}, instrument="vas"
            ).status_code
            == 404
        )
    reader = client_for(monitor)
    assert reader.get(url(participant, instrument="vas")).json()["score"] == 40.0
    refused = put(
        reader, participant, {"answers": {"pain": 1}, "source": "interview"}, instrument="vas", version=1
    )
    assert refused.status_code == 403


def test_participant_list_with_changes_runs_a_fixed_number_of_queries(
    api, coordinator, participant, visits, django_assert_num_queries
):
    endpoint = f"/api/v1/participants/{participant.study_id}/questionnaires/"
    submit(coordinator, participant, visits["V0"], "odi", odi_answers(26))
    submit(coordinator, participant, visits["V0"], "vas", {"pain": 87})
    # the permission matrix's read of the user's roles (trial.access.user_roles), then the view's three
    with django_assert_num_queries(4) as few:
        api.get(endpoint)
    submit(coordinator, participant, visits["V1"], "vas", {"pain": 25})
    submit(coordinator, participant, visits["V3"], "odi", odi_answers(20))
    submit(coordinator, participant, visits["V12"], "odi", odi_answers(22))
    with django_assert_num_queries(len(few.captured_queries)):
        response = api.get(endpoint)
    body = response.json()
    assert [(r["visit"], r["instrument"], r["score"]) for r in body["responses"]] == [
        ("V0", "odi", 52.0),
        ("V0", "vas", 87.0),
        ("V1", "vas", 25.0),
        ("V3", "odi", 40.0),
        ("V12", "odi", 44.0),
    ]
    changes = {c["instrument"]: c for c in body["changes"]}
    assert changes["odi"]["baseline"]["visit"] == "V0"
    assert [(f["visit"], f["improvement"], f["mcid"]) for f in changes["odi"]["followups"]] == [
        ("V3", 12.0, True),
        ("V12", 8.0, False),
    ]
    assert changes["vas"]["followups"][0] | {"visit_label": None} == {
        "visit": "V1",
        "visit_label": None,
        "score": 25.0,
        "band": None,
        "completed_on": changes["vas"]["followups"][0]["completed_on"],
        "change": -62.0,
        "improvement": 62.0,
        "relative_improvement": 71.3,
        "mcid": True,
        "mcid_relative": True,
    }


def test_schema_lists_the_questionnaire_endpoints(api):
    schema = api.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/instruments/",
        "/api/v1/instruments/odi/score/",  # one operation per instrument, each with its answers' schema
        "/api/v1/instruments/vas/score/",
        "/api/v1/participants/{study_id}/questionnaires/",
        "/api/v1/participants/{study_id}/visits/{visit_code}/questionnaires/{instrument}/",
    ):
        assert path in schema
