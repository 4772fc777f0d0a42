"""A participant lost to follow-up: their pending visits are on hold, off the worklist (/visits/), the API's
status lists and the dashboard's counts (one selector for all three), and come back by their windows when the
participant is reinstated. Time is frozen at the Shanghai site (site 07).

The participant: enrolled 2026-01-07, procedure 2026-01-15. On 2026-03-27: BL (window closed 01-14) and M1
(closed 02-21) are overdue, M3 (window 04-02 .. 04-30) opens on the seventh day so it is due this week, and
M6 and M12 are upcoming.
"""

import datetime

import pytest
from django.test import Client

from followup.models import Visit, VisitState
from followup.selectors.visits import dashboard_panel
from followup.services import visits as services
from trial.errors import Conflict
from trial.models import ParticipantStatus
from trial.services import participant_set_status

from ..conftest import client_for
from .visit_helpers import at, complete_procedure

D = datetime.date
TODAY = "2026-03-27 10:00"
LOST_ON = D(2026, 3, 1)
PENDING = {"BL", "M1", "M3", "M6", "M12"}


@pytest.fixture
def followed(make_participant, coordinator):
    with at("2026-01-20 12:00"):
        participant = make_participant()
        complete_procedure(coordinator, participant)  # procedure 2026-01-15
    return participant


def lose(participant, coordinator):
    with at(TODAY):
        return participant_set_status(
            actor=coordinator,
            participant=participant,
            status=ParticipantStatus.LOST_TO_FOLLOW_UP,
            date=LOST_ON,
            reason="No answer to five calls",
        )


def reinstate(participant, coordinator):
    with at(TODAY):
        return participant_set_status(
            actor=coordinator,
            participant=participant,
            status=ParticipantStatus.ENROLLED,
            date=D(2026, 3, 15),
            reason="Called back",
        )


def seen(participant, coordinator) -> dict:
    """What each reader shows of the participant on TODAY: the API's lists by status, the visit's own status,
    the worklist's rows and the dashboard's counts."""
    api = client_for(coordinator)
    page = Client()
    page.force_login(coordinator)
    with at(TODAY):
        lists = {
            status: sorted(
                row["code"]
                for row in api.get("/api/v1/visits/", {"status": status, "page_size": 100}).json()["results"]
                if row["study_id"] == participant.study_id
            )
            for status in ("overdue", "due", "open", "upcoming", "on_hold")
        }
        detail = api.get(f"/api/v1/participants/{participant.study_id}/visits/M1/").json()
        worklist = page.get("/visits/")
        panel = dashboard_panel(user=coordinator)
    return {
        "lists": lists,
        "M1": detail["status"],
        "worklist": sorted(row["visit"].code for row in worklist.context["rows"]),
        "worklist_count": worklist.context["page"].paginator.count,
        "panel": (panel["overdue"], panel["due"]),
    }


def test_lost_participants_visits_leave_every_list_and_come_back_on_reinstatement(followed, coordinator):
    following = seen(followed, coordinator)
    assert following == {
        "lists": {
            "overdue": ["BL", "M1"],
            "due": ["M3"],
            "open": [],
            "upcoming": ["M12", "M3", "M6"],
            "on_hold": [],
        },
        "M1": "overdue",
        "worklist": ["BL", "M1", "M3"],
        "worklist_count": 3,
        "panel": (2, 3),
    }

    lose(followed, coordinator)
    assert seen(followed, coordinator) == {
        "lists": {"overdue": [], "due": [], "open": [], "upcoming": [], "on_hold": sorted(PENDING)},
        "M1": "on_hold",
        "worklist": [],
        "worklist_count": 0,
        "panel": (0, 0),
    }
    # Nothing was written: the visits are still pending, so there is nothing to undo.
    assert set(Visit.objects.filter(participant=followed).values_list("state", flat=True)) == {
        VisitState.PENDING
    }

    followed.refresh_from_db()
    reinstate(followed, coordinator)
    assert seen(followed, coordinator) == following


def test_only_the_lost_participant_leaves_the_counts(followed, make_participant, coordinator):
    with at("2026-01-20 12:00"):
        other = make_participant()
        complete_procedure(coordinator, other)
    lose(followed, coordinator)
    state = seen(other, coordinator)
    assert state["lists"]["overdue"] == ["BL", "M1"]
    assert state["panel"] == (2, 3)
    assert state["worklist_count"] == 3


def test_the_timeline_says_lost_instead_of_offering_record_as_done(followed, coordinator):
    page = Client()
    page.force_login(coordinator)
    url = f"/participants/{followed.study_id}/timeline/"
    with at(TODAY):
        before = page.get(url).content.decode()
    assert "/visits/M1/complete/" in before and "days late" in before

    lose(followed, coordinator)
    with at(TODAY):
        english = page.get(url)
        page.cookies["django_language"] = "zh-hans"
        chinese = page.get(url).content.decode()
    text = english.content.decode()
    assert [row.status for row in english.context["timeline"]] == ["on_hold"] * 5
    assert "The participant is lost to follow-up" in text
    assert "/visits/M1/complete/" not in text and "/visits/M1/missed/" not in text
    assert "days late" not in text  # the "391 days late" of the report
    assert "失访" in chinese and "暂停" in chinese


def test_no_visit_is_recorded_after_the_loss(followed, coordinator):
    lose(followed, coordinator)
    followed.refresh_from_db()
    m3 = Visit.objects.select_related("participant__site").get(participant=followed, code="M3")
    with at(TODAY):
        with pytest.raises(Conflict) as refused:
            services.visit_complete(actor=coordinator, visit=m3, visit_date=D(2026, 3, 10))
        assert refused.value.code == "participant_not_followed"
        with pytest.raises(Conflict):
            services.visit_unscheduled_create(
                actor=coordinator, participant=followed, visit_date=D(2026, 3, 10), reason="pain"
            )
        # A visit that took place before the loss can still be entered late.
        m1 = Visit.objects.select_related("participant__site").get(participant=followed, code="M1")
        done = services.visit_complete(actor=coordinator, visit=m1, visit_date=D(2026, 2, 20))
    assert (done.state, done.visit_date) == (VisitState.COMPLETED, D(2026, 2, 20))
    assert Visit.objects.get(participant=followed, code="M3").state == VisitState.PENDING


def test_the_api_refuses_a_later_visit_with_a_409(followed, coordinator):
    lose(followed, coordinator)
    with at(TODAY):
        response = client_for(coordinator).post(
            f"/api/v1/participants/{followed.study_id}/visits/M3/complete/",
            {"visit_date": "2026-03-10"},
            format="json",
        )
    assert (response.status_code, response.json()["code"]) == (409, "participant_not_followed")


def test_the_dashboard_panel_counts_both_figures_in_one_query(
    followed, make_participant, coordinator, django_assert_num_queries
):
    with at("2026-01-20 12:00"):
        for _ in range(3):
            complete_procedure(coordinator, make_participant())
    lose(followed, coordinator)
    with at(TODAY), django_assert_num_queries(2):  # the sites; due and overdue in one pass (was three)
        panel = dashboard_panel(user=coordinator)
    assert (panel["overdue"], panel["due"]) == (6, 9)  # three followed participants: BL, M1 overdue; M3 due
