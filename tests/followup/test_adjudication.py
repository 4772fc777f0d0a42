"""Re-fracture adjudication cases: opened by the follow-up MRI for each new fracture at a non-operated level,
cancelled and reopened as the MRI changes, following the procedure's levels; the read-only API by site."""

import datetime

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crf.engine.definitions import form_definition
from crf.models import FormRecord
from followup.models import AdjudicationCase
from followup.services.adjudication import adjudication_sync
from trial.models import Role

from ..conftest import client_for
from ..crf.conftest import PROCEDURE, put
from .mri_helpers import MRI, make_visit, put_mri

# The services judge this module's fixed dates (enrollment, procedure, MRI dates) against the site's today:
# the clock is stopped at FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same
# on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

CASES = "/api/v1/adjudication-cases/"


def row(level: str, new_fracture: bool = True) -> dict:
    if not new_fracture:
        return {"level": level, "new_fracture": False}
    return {"level": level, "new_fracture": True, "acute_signal": True, "genant_grade": "1"}


def mri(*levels: str) -> dict:
    return MRI | {"levels": [row(level) for level in levels]}


def cases(participant) -> dict[str, tuple[str, str]]:
    return {
        case.level: (case.location, case.status)
        for case in AdjudicationCase.objects.filter(participant=participant)
    }


@pytest.fixture
def participant(make_participant):
    return make_participant()


@pytest.fixture
def coordinator_api(coordinator):
    return client_for(coordinator)


@pytest.fixture
def m12(participant):
    return make_visit(participant)


@pytest.fixture
def treated(coordinator_api, participant):
    """The procedure treated L1 and T12 (a draft is enough: derivations read its data)."""
    assert put(coordinator_api, participant, PROCEDURE).status_code == 200


# --- opening, cancelling, reopening -----------------------------------------------------------------------


def test_the_hand_worked_example(coordinator_api, participant, m12, treated):
    response = put_mri(coordinator_api, participant, mri("L2", "T10", "T11", "L1"))
    assert response.status_code == 200
    assert cases(participant) == {
        "L2": ("adjacent", "open"),  # next to L1
        "T10": ("remote", "open"),  # two levels from T12
        "T11": ("adjacent", "open"),  # next to T12
    }  # L1 was treated: a same-level recollapse, a warning and no case
    warnings = [w["check"] for w in response.json()["warnings"]]
    assert warnings == ["FOLLOWUP_MRI_SCAN_MISSING", "NEW_FRACTURE_AT_TREATED_LEVEL"]  # no exam linked at M12
    record = FormRecord.objects.get(form_code="followup_mri")
    case = AdjudicationCase.objects.get(level="L2")
    assert (case.record, case.visit, case.participant, str(case.exam_date)) == (
        record,
        m12,
        participant,
        "2026-06-01",
    )


def test_a_level_no_longer_reported_is_cancelled_and_reopened_when_it_returns(
    coordinator_api, participant, m12, treated
):
    put_mri(coordinator_api, participant, mri("L2", "T10"))
    first = AdjudicationCase.objects.get(level="L2")
    put_mri(coordinator_api, participant, mri("T10"), version=1)  # L2 removed
    assert cases(participant) == {"L2": ("adjacent", "cancelled"), "T10": ("remote", "open")}
    put_mri(coordinator_api, participant, MRI | {"levels": [row("L2", False), row("T10")]}, version=2)
    assert cases(participant)["L2"] == ("adjacent", "cancelled")  # a row, but no new fracture there
    put_mri(coordinator_api, participant, mri("L2", "T10") | {"exam_date": "2026-06-02"}, version=3)
    assert cases(participant) == {"L2": ("adjacent", "open"), "T10": ("remote", "open")}
    again = AdjudicationCase.objects.get(level="L2")
    assert again.pk == first.pk and str(again.exam_date) == "2026-06-02"  # the same case, its date updated
    events = (
        apps.get_model("followup", "AdjudicationCaseEvent").objects.filter(pgh_obj=first).order_by("pgh_id")
    )
    history = list(events.values_list("status", flat=True))
    assert history == ["open", "cancelled", "open"]  # audited


def test_saving_again_opens_nothing_twice(coordinator_api, participant, m12, treated, coordinator):
    put_mri(coordinator_api, participant, mri("L2"))
    record = FormRecord.objects.get(form_code="followup_mri")
    with CaptureQueriesContext(connection) as ctx:
        adjudication_sync(record=record, form=form_definition("followup_mri"))
    assert len(ctx.captured_queries) == 1  # read the cases, nothing to write
    assert AdjudicationCase.objects.count() == 1
    from crf.services import crf_complete

    crf_complete(actor=coordinator, participant=participant, form_code="followup_mri", visit=m12)
    assert AdjudicationCase.objects.count() == 1


def test_forms_without_adjudication_cost_no_query(coordinator_api, participant, treated):
    record = FormRecord.objects.get(form_code="procedure")
    with CaptureQueriesContext(connection) as ctx:
        adjudication_sync(record=record, form=form_definition("procedure"))
    assert ctx.captured_queries == []


def test_cases_follow_the_procedure_levels(coordinator_api, participant, m12):
    put_mri(coordinator_api, participant, mri("L2", "T10"))
    assert cases(participant) == {}  # no procedure yet: adjacent or remote is not known
    put(coordinator_api, participant, PROCEDURE)
    assert cases(participant) == {"L2": ("adjacent", "open"), "T10": ("remote", "open")}
    # The second treated level was T10, not T12: T10 is now a treated level's recollapse, L2 still adjacent.
    corrected = PROCEDURE | {"levels": [PROCEDURE["levels"][0], PROCEDURE["levels"][1] | {"level": "T10"}]}
    put(coordinator_api, participant, corrected, version=1)
    assert cases(participant) == {"L2": ("adjacent", "open"), "T10": ("remote", "cancelled")}
    # L1 only: L2 adjacent; T10 remote again, its case reopened.
    put(coordinator_api, participant, PROCEDURE | {"levels": [PROCEDURE["levels"][0]]}, version=2)
    assert cases(participant) == {"L2": ("adjacent", "open"), "T10": ("remote", "open")}
    put(
        coordinator_api,
        participant,
        PROCEDURE | {"levels": [PROCEDURE["levels"][0] | {"level": "T9"}]},
        version=3,
    )
    assert cases(participant) == {"L2": ("remote", "open"), "T10": ("adjacent", "open")}


def test_a_later_mri_reporting_the_same_level_joins_its_case_as_evidence(
    coordinator_api, participant, m12, treated
):
    """One case per participant and level: U1 first sees L2, M12 reports it again (and T10, a new case)."""
    make_visit(participant, code="U1", sequence=1001)
    put_mri(
        coordinator_api, participant, MRI | {"exam_date": "2026-03-02", "levels": [row("L2")]}, visit="U1"
    )
    put_mri(coordinator_api, participant, mri("L2", "T10"))
    assert sorted(AdjudicationCase.objects.values_list("visit__code", "level")) == [
        ("M12", "T10"),
        ("U1", "L2"),
    ]
    case = AdjudicationCase.objects.get(level="L2")
    assert sorted(case.evidence.values_list("record__visit_code", "exam_date", "active")) == [
        ("M12", datetime.date(2026, 6, 1), True),
        ("U1", datetime.date(2026, 3, 2), True),
    ]
    assert case.exam_date == datetime.date(2026, 3, 2)  # the earliest supporting exam


# --- the API --------------------------------------------------------------------------------------------


@pytest.fixture
def readers(make_user, study, site, other_site, coordinator):
    return {
        "coordinator": coordinator,
        "investigator": make_user("inv07", role=Role.INVESTIGATOR, study=study, site=site),
        "monitor": make_user("mon", role=Role.MONITOR, study=study),
        "data_manager": make_user("dm", role=Role.DATA_MANAGER, study=study),
        "pi": make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study),
        "adjudicator": make_user("adj", role=Role.ADJUDICATOR, study=study),
        "other_coordinator": make_user("coord91", role=Role.COORDINATOR, study=study, site=other_site),
    }


def test_who_sees_which_cases_and_what_a_case_says(readers, coordinator_api, participant, m12, treated):
    put_mri(coordinator_api, participant, mri("L2", "T10"))
    for role in ("coordinator", "investigator", "monitor", "data_manager", "pi"):
        listed = client_for(readers[role]).get(CASES)
        assert listed.status_code == 200 and listed.json()["count"] == 2, role
    # Adjudicators read their own cases, blind, in their queue (test_adjudication_api.py), never the board.
    # The permission matrix refuses them the board's list (403): a list of participants' cases is not theirs.
    refused = client_for(readers["adjudicator"]).get(CASES)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert client_for(readers["other_coordinator"]).get(CASES).json()["count"] == 0
    case = AdjudicationCase.objects.get(level="T10")
    one = client_for(readers["coordinator"]).get(f"{CASES}{case.pk}/")
    assert one.status_code == 200
    body = one.json()
    assert set(body) == {
        "view",
        "id",
        "study_id",
        "site",
        "visit",
        "level",
        "location",
        "location_text",
        "exam_date",
        "origin",
        "status",
        "status_text",
        "final_fracture",
        "final_levels",
        "final_event_date",
        "finalized_at",
        "created_at",
        "updated_at",
    }  # the site's own staff: that the case exists and its result, never the review in progress
    assert (body["study_id"], body["visit"], body["level"], body["location"], body["exam_date"]) == (
        participant.study_id,
        "M12",
        "T10",
        "remote",
        "2026-06-01",
    )
    assert (body["view"], body["status"]) == ("site", "in_review")
    assert client_for(readers["other_coordinator"]).get(f"{CASES}{case.pk}/").status_code == 404
    assert client_for(readers["adjudicator"]).get(f"{CASES}{case.pk}/").status_code == 404
    assert client_for(None).get(CASES).status_code in (401, 403)
    # An adjudicator reads packets, not the CRF that opened them.
    url = f"/api/v1/participants/{participant.study_id}/visits/M12/forms/followup_mri/"
    assert client_for(readers["adjudicator"]).get(url).status_code == 404


def test_filters(readers, coordinator_api, participant, m12, treated):
    put_mri(coordinator_api, participant, mri("L2", "T10"))
    put_mri(coordinator_api, participant, mri("T10"), version=1)
    monitor = client_for(readers["monitor"])
    assert [c["level"] for c in monitor.get(CASES, {"status": "open"}).json()["results"]] == ["T10"]
    assert [c["level"] for c in monitor.get(CASES, {"status": "cancelled"}).json()["results"]] == ["L2"]
    assert monitor.get(CASES, {"location": "adjacent"}).json()["count"] == 1
    assert monitor.get(CASES, {"study_id": participant.study_id}).json()["count"] == 2
    assert monitor.get(CASES, {"site": "91"}).json()["count"] == 0
    assert monitor.get(CASES, {"status": "nope"}).status_code == 400


def test_the_list_runs_a_fixed_number_of_queries(
    readers, coordinator_api, make_participant, participant, m12
):
    put(coordinator_api, participant, PROCEDURE)
    put_mri(coordinator_api, participant, mri("L2"))
    monitor = client_for(readers["monitor"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert monitor.get(CASES).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(3):
        other = make_participant()
        make_visit(other)
        put(coordinator_api, other, PROCEDURE)
        put_mri(coordinator_api, other, mri("L2", "T10", "L4"))
    assert AdjudicationCase.objects.count() == 10
    assert count() == few
