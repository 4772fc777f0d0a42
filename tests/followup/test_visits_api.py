"""Visits API: statuses judged at each site's midnight (time frozen around every boundary), the lists' fixed
query counts, the steps, and the refusals (400 with field messages, 404, 403, 409), never a 500."""

import datetime

import pytest

from followup.models import Visit
from trial.models import ParticipantStatus
from trial.services import participant_set_status

from ..conftest import client_for
from .visit_helpers import at, complete_procedure, la_coordinator, la_site  # noqa: F401 -- fixtures

D = datetime.date
SETUP_TIME = "2026-01-20 12:00"  # Shanghai; 2026-01-19 20:00 in Los Angeles: every setup date is past at both


def url(participant, code: str = "", step: str = "") -> str:
    path = f"/api/v1/participants/{participant.study_id}/visits/"
    return path + (f"{code}/" if code else "") + (f"{step}/" if step else "")


@pytest.fixture
def followed(make_participant, coordinator):
    """A participant of site 07 (Asia/Shanghai), procedure 2026-01-15: M1 window 2026-02-07 .. 2026-02-21."""
    with at(SETUP_TIME):
        participant = make_participant()
        complete_procedure(coordinator, participant)
    return participant


@pytest.fixture
def followed_la(make_participant, la_site, la_coordinator):  # noqa: F811
    """The same at site LA (America/Los_Angeles, UTC-8 in February): the same M1 window, in LA dates."""
    with at(SETUP_TIME):
        participant = make_participant(actor=la_coordinator, on_site=la_site)
        complete_procedure(la_coordinator, participant)
    return participant


def listed(client, status: str, site: str) -> set[str]:
    response = client.get("/api/v1/visits/", {"status": status, "site": site})
    assert response.status_code == 200, response.content
    return {(row["study_id"], row["code"], row["status"]) for row in response.json()["results"]}


def m1_everywhere(client, participant, site: str) -> str:
    """M1's status from the detail endpoint, checked against the list filters (the two must agree)."""
    status = client.get(url(participant, "M1")).json()["status"]
    for candidate in ("upcoming", "open", "overdue"):
        in_list = (participant.study_id, "M1", candidate) in listed(client, candidate, site)
        assert in_list == (candidate == status), (candidate, status)
    return status


# M1 window 2026-02-07 .. 2026-02-21 in the site's own dates. At each site:
#   2026-02-06 23:59 local  -> upcoming  (the day before the window opens)
#   2026-02-07 00:00 local  -> open      (the window's first day starts at the site's midnight)
#   2026-02-21 23:59 local  -> open      (its last minute)
#   2026-02-22 00:00 local  -> overdue   (closed and not done)
# Shanghai is UTC+8: its midnight of 02-07 is 2026-02-06 16:00 UTC. Los Angeles is UTC-8 (PST, before the
# 2026-03-08 change): its midnight of 02-07 is 2026-02-07 08:00 UTC.
BOUNDARIES = [
    ("2026-02-06 23:59", "upcoming"),
    ("2026-02-07 00:00", "open"),
    ("2026-02-21 23:59", "open"),
    ("2026-02-22 00:00", "overdue"),
]


def test_status_turns_at_shanghai_midnight(followed, monitor):
    client = client_for(monitor)
    for local_time, expected in BOUNDARIES:
        with at(local_time, "Asia/Shanghai"):
            assert m1_everywhere(client, followed, "07") == expected, local_time


def test_status_turns_at_los_angeles_midnight(followed_la, monitor):
    client = client_for(monitor)
    for local_time, expected in BOUNDARIES:
        with at(local_time, "America/Los_Angeles"):
            assert m1_everywhere(client, followed_la, "LA") == expected, local_time


def test_utc_midnight_is_not_the_boundary(followed, followed_la, monitor):
    client = client_for(monitor)
    # 2026-02-07 00:00 UTC = 08:00 on 02-07 in Shanghai (open) = 16:00 on 02-06 in Los Angeles (upcoming).
    with at("2026-02-07 00:00", "UTC"):
        assert client.get(url(followed, "M1")).json()["status"] == "open"
        assert client.get(url(followed_la, "M1")).json()["status"] == "upcoming"
        both = {
            row["study_id"]: row["status"]
            for row in client.get("/api/v1/visits/?status=open").json()["results"]
        }
        assert both == {followed.study_id: "open"}
    # 2026-02-22 00:00 UTC = 08:00 on 02-22 in Shanghai (overdue) = 16:00 on 02-21 in Los Angeles (open).
    with at("2026-02-22 00:00", "UTC"):
        assert client.get(url(followed, "M1")).json()["status"] == "overdue"
        assert client.get(url(followed_la, "M1")).json()["status"] == "open"
    # 2026-02-06 15:59 UTC = 23:59 on 02-06 in Shanghai = 07:59 on 02-06 in Los Angeles: upcoming at both.
    with at("2026-02-06 15:59", "UTC"):
        assert client.get(url(followed, "M1")).json()["status"] == "upcoming"
        assert client.get(url(followed_la, "M1")).json()["status"] == "upcoming"


# "Due this week": pending, and the window is open on one of the next 7 days (today .. today+6).
@pytest.mark.parametrize(
    ("local_time", "status", "due"),
    [
        ("2026-01-31 23:59", "upcoming", False),  # today+6 = 02-06: the window opens the day after
        ("2026-02-01 00:00", "upcoming", True),  # today+6 = 02-07: it opens on the seventh day
        ("2026-02-21 23:59", "open", True),  # its last day
        ("2026-02-22 00:00", "overdue", False),  # overdue is not due
    ],
)
def test_due_this_week(followed, api, local_time, status, due):
    with at(local_time):
        rows = listed(api, "due", "07")
        assert api.get(url(followed, "M1")).json()["status"] == status
    assert ((followed.study_id, "M1", status) in rows) == due
    assert all(code != "BL" for _, code, _ in rows)  # BL closed on 01-14: overdue, not due


def test_the_list_runs_a_fixed_number_of_queries(
    make_participant, coordinator, api, django_assert_num_queries
):
    with at(SETUP_TIME):
        complete_procedure(coordinator, make_participant())
    # the permission matrix's read of the user's roles (trial.access.user_roles), the sites (their time zones,
    # the roles a subquery), the count, the page
    with at("2026-03-01 12:00"), django_assert_num_queries(4):
        one = api.get("/api/v1/visits/", {"status": "overdue"}).json()
    with at(SETUP_TIME):
        for _ in range(3):
            complete_procedure(coordinator, make_participant())
    with at("2026-03-01 12:00"), django_assert_num_queries(4):
        four = api.get("/api/v1/visits/", {"status": "overdue"}).json()
    assert (one["count"], four["count"]) == (2, 8)  # BL and M1 of each participant
    assert {row["code"] for row in four["results"]} == {"BL", "M1"}
    with at("2026-03-01 12:00"), django_assert_num_queries(4):
        page = api.get("/api/v1/visits/", {"page_size": 5}).json()
    assert (page["count"], len(page["results"])) == (20, 5)
    assert page["next"]


def test_participant_visits_and_one_visit(followed, api, django_assert_num_queries):
    with at("2026-03-01 12:00"):
        # the permission matrix's read of the user's roles, the participant (scoped: a subquery), its visits
        with django_assert_num_queries(3):
            rows = api.get(url(followed)).json()
        detail = api.get(url(followed, "M12")).json()
    assert [row["code"] for row in rows] == ["BL", "M1", "M3", "M6", "M12"]
    assert [row["status"] for row in rows] == ["overdue", "overdue", "upcoming", "upcoming", "upcoming"]
    assert detail == {
        "study_id": followed.study_id,
        "site": "07",
        "code": "M12",
        "label": {"en": "12 months", "zh-hans": "术后12个月"},
        "kind": "scheduled",
        "sequence": 5,
        "anchor": "procedure",
        "day": 365,
        "target_date": "2027-01-15",
        "window_open": "2026-12-16",
        "window_close": "2027-02-14",
        "status": "upcoming",
        "state": "pending",
        "visit_date": None,
        "reason": "",
        "forms": ["followup_mri"],
        "questionnaires": ["odi", "vas"],
        "updated_at": detail["updated_at"],
    }
    assert api.get(url(followed, "M99")).status_code == 404


def test_complete_missed_and_reopen(followed, api):
    with at("2026-03-01 12:00"):
        done = api.post(url(followed, "M1", "complete"), {"visit_date": "2026-02-14"}, format="json")
        assert done.status_code == 200, done.content
        assert (done.json()["status"], done.json()["visit_date"]) == ("completed", "2026-02-14")

        refused = api.post(url(followed, "M1", "missed"), {"reason": "No show"}, format="json")
        assert refused.status_code == 409
        assert refused.json()["code"] == "visit_completed"

        no_reason = api.post(url(followed, "M1", "reopen"), {}, format="json")
        assert (no_reason.status_code, no_reason.json()["code"]) == (400, "reason_required")
        assert "reason" in no_reason.json()

        reopened = api.post(url(followed, "M1", "reopen"), {"reason": "Wrong participant"}, format="json")
        assert (reopened.status_code, reopened.json()["status"]) == (200, "overdue")

        missed = api.post(url(followed, "M1", "missed"), {"reason": "In hospital elsewhere"}, format="json")
        assert missed.json()["state"] == "missed"
        assert missed.json()["reason"] == "In hospital elsewhere"


@pytest.mark.parametrize(
    ("step", "body", "field"),
    [
        ("complete", {"visit_date": "2026-03-02"}, "visit_date"),  # the future at the site
        ("complete", {"visit_date": "2026-01-10"}, "visit_date"),  # before the procedure
        ("complete", {"visit_date": "14/02/2026"}, "visit_date"),
        ("complete", {}, "visit_date"),
        ("complete", {"visit_date": "2026-02-14", "note": "x"}, "note"),  # unknown field
        ("missed", {}, "reason"),
        ("missed", {"reason": "   "}, "reason"),
        ("missed", {"reason": "x" * 501}, "reason"),
        ("reopen", {"why": "x"}, "why"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(followed, api, step, body, field):
    with at("2026-03-01 12:00"):
        response = api.post(url(followed, "M1", step), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Visit.objects.get(participant=followed, code="M1").state == "pending"


def test_unscheduled_visit(followed, api):
    with at("2026-03-01 12:00"):
        created = api.post(
            url(followed), {"visit_date": "2026-02-27", "reason": "New back pain"}, format="json"
        )
        assert created.status_code == 201, created.content
        body = created.json()
        assert (body["code"], body["kind"], body["status"], body["anchor"], body["day"]) == (
            "U1",
            "unscheduled",
            "completed",
            "",
            None,
        )
        assert body["target_date"] == body["window_open"] == body["window_close"] == "2026-02-27"
        assert api.get(url(followed, "U1")).json()["reason"] == "New back pain"
        assert [row["code"] for row in api.get(url(followed)).json()] == ["BL", "M1", "U1", "M3", "M6", "M12"]
        no_reason = api.post(url(followed), {"visit_date": "2026-02-27"}, format="json")
        assert (no_reason.status_code, "reason" in no_reason.json()) == (400, True)


def test_no_unscheduled_visit_for_a_withdrawn_participant(followed, coordinator, api):
    with at("2026-03-01 12:00"):
        participant_set_status(
            actor=coordinator,
            participant=followed,
            status=ParticipantStatus.WITHDRAWN,
            date=D(2026, 2, 20),
            reason="Consent withdrawn",
        )
        response = api.post(url(followed), {"visit_date": "2026-02-27", "reason": "pain"}, format="json")
        assert response.status_code == 409
        assert {row["status"] for row in api.get(url(followed)).json()} == {"not_applicable"}


def test_other_sites_and_roles(followed, other_coordinator, monitor, make_user, study):
    from trial.models import Role

    outsider = client_for(other_coordinator)
    with at("2026-03-01 12:00"):
        # Another site's participant does not exist for its coordinator (as in the trial API): 404.
        assert outsider.get(url(followed)).status_code == 404
        assert outsider.get(url(followed, "M1")).status_code == 404
        assert outsider.post(url(followed, "M1", "complete"), {"visit_date": "2026-02-14"}).status_code == 404
        assert outsider.post(url(followed), {"visit_date": "2026-02-14", "reason": "pain"}).status_code == 404
        assert outsider.get("/api/v1/visits/", {"site": "07"}).status_code == 403  # a site they cannot see
        assert outsider.get("/api/v1/visits/").json()["count"] == 0
        # A monitor reads every site but records nothing: 403.
        reader = client_for(monitor)
        assert reader.get(url(followed, "M1")).status_code == 200
        assert reader.post(url(followed, "M1", "complete"), {"visit_date": "2026-02-14"}).status_code == 403
        # Blinded adjudicators do not read follow-up data.
        adjudicator = client_for(make_user("adj", role=Role.ADJUDICATOR, study=study))
        assert adjudicator.get(url(followed)).status_code == 404
        # nor the list of visits: the permission matrix's 403, not an empty list
        refused = adjudicator.get("/api/v1/visits/")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert client_for(monitor).get("/api/v1/visits/", {"status": "soon"}).status_code == 400


def test_the_schema_describes_the_visit_endpoints(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/visits/",
        "/api/v1/participants/{study_id}/visits/",
        "/api/v1/participants/{study_id}/visits/{code}/",
        "/api/v1/participants/{study_id}/visits/{code}/complete/",
        "/api/v1/participants/{study_id}/visits/{code}/missed/",
        "/api/v1/participants/{study_id}/visits/{code}/reopen/",
    ):
        assert path in paths, path
    status = next(p for p in paths["/api/v1/visits/"]["get"]["parameters"] if p["name"] == "status")
    assert "due" in status["schema"]["enum"]
    complete = paths["/api/v1/participants/{study_id}/visits/{code}/complete/"]["post"]
    assert complete["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "VisitCompleteIn"
    )


@pytest.mark.parametrize("reason", [None, "", "   ", "missing"])
@pytest.mark.parametrize(
    ("step", "body"), [("missed", {}), ("reopen", {}), ("", {"visit_date": "2026-02-27"})]
)
def test_a_visit_reason_is_required_and_the_schema_says_so(followed, api, coordinator, step, body, reason):
    """Missed, reopened and unscheduled visits take a reason: missing, null or blank is the 400
    `reason_required` that every change without a reason gets, and the schema says it is required, with a
    character that is not a space."""
    if reason != "missing":
        body = body | {"reason": reason}
    with at("2026-03-01 12:00"):
        answer = api.post(url(followed, "M1" if step else "", step), body, format="json")
    assert (answer.status_code, answer.json()["code"], "reason" in answer.json()) == (
        400,
        "reason_required",
        True,
    )
    assert Visit.objects.filter(participant=followed, kind="unscheduled").count() == 0

    openapi = client_for(coordinator).get("/api/schema/?format=json").json()
    path = "/api/v1/participants/{study_id}/visits/" + ("{code}/" + step + "/" if step else "")
    ref = openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = openapi["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert "reason" in schema["required"]
    assert schema["properties"]["reason"]["minLength"] == 1
    assert schema["properties"]["reason"]["pattern"] == r"\S"
