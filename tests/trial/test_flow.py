"""Participant flow (STROBE item 13) and enrollment against target, from a hand-built screening log."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trial.selectors import enrollment_summary, participant_flow
from trial.services import participant_set_status

from ..conftest import ELIGIBLE_ANSWERS, client_for

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen

FLOW = "/api/v1/studies/NCT06379243/flow/"


def build_log(make_screening, make_participant, coordinator, other_coordinator, other_site):
    """Seven screenings: 3 enrolled (1 later withdrawn), 1 eligible who declined, 1 pending, 2 ineligible, 1
    incomplete, one of them at the other site."""
    for _ in range(2):
        make_participant()
    withdrawn = make_participant(actor=other_coordinator, on_site=other_site)
    participant_set_status(
        actor=other_coordinator,
        participant=withdrawn,
        status="withdrawn",
        date=datetime.date(2026, 2, 1),
        reason="moved away",
    )
    declined = make_screening()
    client_for(coordinator).patch(
        f"/api/v1/screenings/{declined.pk}/",
        {"not_enrolled_reason": "declined_consent"},
        format="json",
        HTTP_X_CHANGE_REASON="Patient declined consent",
    )
    make_screening()  # eligible, decision pending
    make_screening(levels=("T10", "T11", "T12", "L1"), answers={**ELIGIBLE_ANSWERS, "EXC2": True})
    make_screening(answers={**ELIGIBLE_ANSWERS, "EXC2": True})
    make_screening(answers={"INC1": True})


def test_flow_counts_and_reasons(
    make_screening, make_participant, coordinator, other_coordinator, other_site, monitor
):
    build_log(make_screening, make_participant, coordinator, other_coordinator, other_site)
    flow = client_for(monitor).get(FLOW).json()
    assert flow == {
        "screened": 8,
        "ineligible": 2,
        "ineligible_reasons": {"EXC2": 2, "INC3": 1},
        "incomplete": 1,
        "eligible": 5,
        "not_enrolled": 2,
        "not_enrolled_reasons": {"declined_consent": 1, "pending": 1},
        "enrolled": 3,
        "participants": {"enrolled": 2, "withdrawn": 1, "lost_to_follow_up": 0, "died": 0},
        "accrual": None,  # the study declares no groups
    }
    # A coordinator's flow covers their own site only.
    assert client_for(coordinator).get(FLOW).json()["screened"] == 7


def test_summary_against_target(
    make_screening, make_participant, coordinator, other_coordinator, other_site, monitor, study
):
    build_log(make_screening, make_participant, coordinator, other_coordinator, other_site)
    summary = enrollment_summary(study=study, user=monitor)
    assert summary["total"] == {
        "screened": 8,
        "eligible": 5,
        "enrolled": 3,
        "active": 2,
        "target": 560,
        "percent": 0.5,
    }
    assert [(s.code, s.screened, s.enrolled, s.active_participants) for s in summary["sites"]] == [
        ("07", 7, 2, 2),
        ("91", 1, 1, 0),
    ]


def test_flow_and_summary_run_fixed_queries(
    make_screening, make_participant, coordinator, other_coordinator, other_site, monitor, study
):
    def count(fn):
        with CaptureQueriesContext(connection) as ctx:
            fn(study=study, user=monitor)
        return len(ctx.captured_queries)

    make_participant()
    few = (count(participant_flow), count(enrollment_summary))
    build_log(make_screening, make_participant, coordinator, other_coordinator, other_site)
    assert (count(participant_flow), count(enrollment_summary)) == few


def test_not_enrolled_reason_only_for_eligible(api, make_screening):
    ineligible = make_screening(answers={**ELIGIBLE_ANSWERS, "EXC1": True})
    response = api.patch(
        f"/api/v1/screenings/{ineligible.pk}/",
        {"not_enrolled_reason": "declined_consent"},
        format="json",
        HTTP_X_CHANGE_REASON="x",
    )
    assert response.status_code == 400
    assert "not_enrolled_reason" in response.json()
    bad = api.patch(
        f"/api/v1/screenings/{make_screening().pk}/",
        {"not_enrolled_reason": "bored"},
        format="json",
        HTTP_X_CHANGE_REASON="x",
    )
    assert bad.status_code == 400
