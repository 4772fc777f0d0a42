"""Screening API: verdicts for both protocols, corrections with reasons, bad input, scoping, query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trial.models import Screening

from ..conftest import ELIGIBLE_ANSWERS, client_for

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen

URL = "/api/v1/screenings/"


def payload(**overrides):
    body = {
        "study": "NCT06379243",
        "site": "07",
        "screening_date": "2026-01-05",
        "age": 72,
        "sex": "female",
        "fracture_levels": ["T12", "L1"],
        "answers": ELIGIBLE_ANSWERS,
    }
    body.update(overrides)
    return body


def test_create_eligible_screening(api):
    response = api.post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "eligible"
    assert body["failed_criteria"] == [] and body["missing_criteria"] == []
    assert body["fracture_levels"] == ["T12", "L1"]
    assert body["protocol_version"] == "1.0"
    assert Screening.objects.get(pk=body["id"]).screened_by.username == "coord07"


def test_ineligible_screening_is_kept_with_its_reasons(api):
    response = api.post(
        URL,
        payload(fracture_levels=["T10", "T11", "T12", "L1"], answers={**ELIGIBLE_ANSWERS, "EXC2": True}),
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["outcome"] == "ineligible"
    assert response.json()["failed_criteria"] == ["INC3", "EXC2"]
    assert Screening.objects.filter(outcome="ineligible").count() == 1


def test_incomplete_screening_lists_unanswered_criteria(api):
    response = api.post(URL, payload(answers={"INC1": True, "EXC3": None}), format="json")
    assert response.status_code == 201
    assert response.json()["outcome"] == "incomplete"
    assert response.json()["missing_criteria"] == ["INC2", "EXC1", "EXC2", "EXC3"]


def test_second_protocol_judges_its_own_level_range(study2, make_user):
    user = make_user("coordsy", role="coordinator", study=study2, site=study2.sites.get())
    answers = {
        "INC1": True,
        "INC2": True,
        "INC3": True,
        "INC4": True,
        **{f"EXC{n}": False for n in range(1, 9)},
    }
    client = client_for(user)
    ok = client.post(
        URL, payload(study="NCT06172179", site="SY", fracture_levels=["T5"], answers=answers), format="json"
    )
    too_high = client.post(
        URL, payload(study="NCT06172179", site="SY", fracture_levels=["T4"], answers=answers), format="json"
    )
    assert ok.json()["outcome"] == "eligible"
    assert too_high.json()["outcome"] == "ineligible"
    assert too_high.json()["failed_criteria"] == ["INC3L"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"answers": {"NOPE": True}}, "answers"),  # unknown criterion code
        ({"answers": {"INC3": True}}, "answers"),  # computed criterion answered
        ({"answers": {"INC1": "yes"}}, "answers"),  # wrong type
        ({"answers": ["INC1"]}, "answers"),
        ({"age": "seventy"}, "age"),
        ({"age": 71.5}, "age"),
        ({"age": -1}, "age"),
        ({"age": 150}, "age"),
        ({"sex": "unknown"}, "sex"),
        ({"screening_date": "2999-01-01"}, "screening_date"),  # in the future
        ({"screening_date": "05/01/2026"}, "screening_date"),
        ({"fracture_levels": ["C5"]}, "fracture_levels"),
        ({"fracture_levels": ["L1", "L1"]}, "fracture_levels"),
        ({"fracture_levels": "L1"}, "fracture_levels"),
        ({"site": "99"}, "site"),  # unknown site
        ({"study": "NCT00000000"}, "study"),
    ],
)
def test_bad_input_answers_400_with_field_errors_and_saves_nothing(api, overrides, field):
    response = api.post(URL, payload(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Screening.objects.count() == 0


def test_malformed_json_is_a_400(api):
    response = api.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert Screening.objects.count() == 0


def test_coordinator_cannot_screen_at_another_site(api, other_site):
    response = api.post(URL, payload(site="91"), format="json")
    assert response.status_code == 403
    assert Screening.objects.count() == 0


def test_monitor_reads_all_sites_but_cannot_screen(monitor, make_screening, other_coordinator, other_site):
    make_screening()
    make_screening(actor=other_coordinator, on_site=other_site)
    client = client_for(monitor)
    assert client.get(URL).json()["count"] == 2
    assert client.post(URL, payload(), format="json").status_code == 403


def test_site_scoping_in_list_and_detail(api, make_screening, other_coordinator, other_site):
    mine = make_screening()
    theirs = make_screening(actor=other_coordinator, on_site=other_site)
    listed = [row["id"] for row in api.get(URL).json()["results"]]
    assert listed == [mine.pk]
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert (
        api.patch(f"{URL}{theirs.pk}/", {"age": 80}, format="json", HTTP_X_CHANGE_REASON="typo").status_code
        == 404
    )


def test_anonymous_is_refused(db):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401


def test_filters(api, make_screening):
    make_screening(day=datetime.date(2026, 1, 5))
    make_screening(day=datetime.date(2026, 2, 5), answers={"INC1": False})
    assert api.get(URL, {"outcome": "ineligible"}).json()["count"] == 1
    assert api.get(URL, {"date_from": "2026-02-01"}).json()["count"] == 1
    assert api.get(URL, {"site": "07", "date_to": "2026-01-31"}).json()["count"] == 1
    assert api.get(URL, {"outcome": "maybe"}).status_code == 400


def test_patch_needs_a_reason_and_recomputes_the_outcome(api, make_screening):
    screening = make_screening(levels=("T10", "T11", "T12", "L1"))
    assert screening.outcome == "ineligible"
    url = f"{URL}{screening.pk}/"
    refused = api.patch(url, {"fracture_levels": ["T12", "L1"]}, format="json")
    assert refused.status_code == 400
    assert "reason" in refused.json()
    screening.refresh_from_db()
    assert screening.fracture_levels == ["T10", "T11", "T12", "L1"]

    response = api.patch(
        url,
        {"fracture_levels": ["T12", "L1"]},
        format="json",
        HTTP_X_CHANGE_REASON="Levels misread from the MRI report",
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "eligible"


def test_patch_merges_answers(api, make_screening):
    screening = make_screening(answers={"INC1": True, "INC2": True, "EXC1": False, "EXC2": False})
    assert screening.outcome == "incomplete"
    response = api.patch(
        f"{URL}{screening.pk}/",
        {"answers": {"EXC3": False}},
        format="json",
        HTTP_X_CHANGE_REASON="EXC3 answered after chart review",
    )
    assert response.json()["outcome"] == "eligible"


def test_patch_bad_input_changes_nothing(api, make_screening):
    screening = make_screening()
    response = api.patch(
        f"{URL}{screening.pk}/", {"age": 200, "sex": "male"}, format="json", HTTP_X_CHANGE_REASON="fix"
    )
    assert response.status_code == 400
    screening.refresh_from_db()
    assert (screening.age, screening.sex) == (72, "female")


def test_history_lists_user_reason_and_old_and_new_values(api, make_screening):
    screening = make_screening()
    api.patch(f"{URL}{screening.pk}/", {"age": 73}, format="json", HTTP_X_CHANGE_REASON="Age from ID card")
    history = api.get(f"{URL}{screening.pk}/history/").json()
    assert [event["event"] for event in history] == ["insert", "update"]
    update = history[1]
    assert update["user"] == "coord07"
    assert update["reason"] == "Age from ID card"
    assert {"field": "age", "old": 72, "new": 73} in update["changes"]


def test_patch_after_enrollment_is_a_conflict(api, make_participant):
    participant = make_participant()
    response = api.patch(
        f"{URL}{participant.screening_id}/", {"age": 80}, format="json", HTTP_X_CHANGE_REASON="late fix"
    )
    assert response.status_code == 409
    assert "07-0001" in response.json()["detail"]


def test_eligibility_preview_saves_nothing(api):
    response = api.post(
        "/api/v1/studies/NCT06379243/eligibility/",
        {"site": "07", "fracture_levels": ["L1"], "answers": {"INC1": True, "EXC1": True}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "ineligible"
    assert response.json()["failed_criteria"] == ["EXC1"]
    assert response.json()["states"]["INC3"] is True
    assert Screening.objects.count() == 0


def test_list_runs_a_fixed_number_of_queries(api, make_screening, make_participant):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(URL).status_code == 200
        return len(ctx.captured_queries)

    make_screening()
    make_participant()
    few = count_queries()
    for i in range(25):
        make_screening(answers={"INC1": bool(i % 2)})
    for _ in range(5):
        make_participant()
    assert count_queries() == few


def test_unknown_fields_are_refused_not_dropped(api, make_screening):
    created = api.post(URL, {**payload(), "answer": {"INC1": True}}, format="json")
    assert created.status_code == 400
    assert "answer" in created.json()
    screening = make_screening()
    patched = api.patch(
        f"{URL}{screening.pk}/", {"outcome": "eligible"}, format="json", HTTP_X_CHANGE_REASON="x"
    )
    assert patched.status_code == 400
    assert "outcome" in patched.json()
    assert Screening.objects.count() == 1


def test_empty_or_unchanged_patch_writes_no_audit_event(api, make_screening):
    from trial.selectors import history_for

    screening = make_screening()
    url = f"{URL}{screening.pk}/"
    assert api.patch(url, {}, format="json", HTTP_X_CHANGE_REASON="x").status_code == 400
    assert api.patch(url, {"age": 72}, format="json", HTTP_X_CHANGE_REASON="same").status_code == 200
    assert [event["event"] for event in history_for(screening)] == ["insert"]


def test_screening_before_the_study_opened_is_refused(api):
    response = api.post(URL, payload(screening_date="2023-11-30"), format="json")
    assert response.status_code == 400
    assert "2023-12-01" in response.json()["screening_date"][0]


def test_site_filter_offers_only_visible_sites(api, make_screening, other_coordinator, other_site):
    make_screening()
    make_screening(actor=other_coordinator, on_site=other_site)
    assert api.get(URL, {"site": "07"}).json()["count"] == 1
    refused = api.get(URL, {"site": "91"})  # exists, but not this coordinator's: refused for who asks
    assert refused.status_code == 403
    assert "site" in refused.json()
