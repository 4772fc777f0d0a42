"""The follow-up MRI: a CRF collected at a visit (visit-scoped records and URLs), with levels whose treated /
adjacent / remote relation is derived from the procedure form, never typed; its checks and life cycle at a
visit."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from crf import services
from crf.models import DataQuery, FormRecord, FormStatus
from trial.errors import InvalidInput

from ..crf.conftest import PROCEDURE, put
from ..factories import PASSWORD
from .mri_helpers import (  # noqa: F401 -- fixtures
    MRI,
    fixture_clients,
    fixture_m12,
    fixture_participant,
    fixture_staff,
    fixture_treated,
    logged_in,
    make_visit,
    mri_exam,
    mri_record,
    mri_url,
    put_mri,
)

# The services judge this module's fixed dates (enrollment, procedure, MRI dates up to 2026-09-01) against the
# site's today: the clock is stopped at FROZEN_AT (tests/conftest.py), after every one of them, so the tests
# mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


def act_mri(client, participant, step, body=None, *, visit="M12", **headers):
    etag = client.get(mri_url(participant, visit)).get("ETag", '"0"')
    return client.post(mri_url(participant, visit, step), body, format="json", HTTP_IF_MATCH=etag, **headers)


def rows_by_level(response) -> dict:
    return {row["level"]: row for row in response.json()["data"]["levels"]}


# --- where the form lives ---------------------------------------------------------------------------------


def test_the_mri_is_a_visit_form_not_a_participant_form(clients, participant, m12, treated):
    coordinator = clients["coordinator"]
    url = f"/api/v1/participants/{participant.study_id}/forms/followup_mri/"
    for response in (coordinator.get(url), coordinator.put(url, {"data": MRI}, format="json")):
        assert response.status_code == 400
        assert "visit" in response.json()  # a field-level message: open it from the visit
    grid = coordinator.get(f"/api/v1/participants/{participant.study_id}/forms/").json()
    assert "followup_mri" not in [row["form"] for row in grid]
    # A visit collects only its own forms: the procedure is not collected at M12.
    assert coordinator.get(mri_url(participant, form="procedure")).status_code == 400
    assert not FormRecord.objects.filter(form_code="followup_mri").exists()


def test_another_participants_visit_code_is_a_404(clients, staff, participant, make_participant, m12):
    other = make_participant()  # has no M12 of their own
    assert put_mri(clients["coordinator"], other, MRI).status_code == 404
    assert clients["coordinator"].get(mri_url(other)).status_code == 404
    assert clients["coordinator"].get(mri_url(participant, visit="M99")).status_code == 404
    page = f"/participants/{other.study_id}/visits/M12/forms/followup_mri/"
    assert logged_in(staff["coordinator"]).get(page).status_code == 404
    assert not FormRecord.objects.filter(form_code="followup_mri").exists()


def test_a_participant_form_and_visit_forms_are_separate_records(participant, staff):
    """(participant, form, visit) is unique, with no visit counting as one value (NULLS NOT DISTINCT)."""
    m12, unscheduled = make_visit(participant), make_visit(participant, code="U1", sequence=1001)
    user = staff["coordinator"]
    FormRecord.objects.create(
        participant=participant, form_code="followup_mri", visit_code=m12.code, updated_by=user
    )
    FormRecord.objects.create(
        participant=participant, form_code="followup_mri", visit_code=unscheduled.code, updated_by=user
    )
    FormRecord.objects.create(participant=participant, form_code="procedure", updated_by=user)
    for visit in (m12, None):
        with pytest.raises(IntegrityError), transaction.atomic():
            FormRecord.objects.create(
                participant=participant,
                form_code="followup_mri" if visit else "procedure",
                visit_code=visit.code if visit else "",
                updated_by=user,
            )


def test_visit_records_never_shadow_the_participant_forms(clients, participant, m12, treated):
    put_mri(clients["coordinator"], participant, MRI)
    other_forms = services.check_context(participant, exclude="discharge").other_forms
    assert set(other_forms) == {"procedure"}  # the MRI is a visit's record, not a participant-level form
    grid = clients["coordinator"].get(f"/api/v1/participants/{participant.study_id}/forms/").json()
    assert {row["form"]: row["status"] for row in grid}["procedure"] == "draft"


def test_the_same_form_at_two_visits(clients, participant, m12, treated):
    make_visit(participant, code="U1", sequence=1001)
    assert put_mri(clients["coordinator"], participant, MRI).status_code == 200
    later = MRI | {"exam_date": "2026-09-01", "levels": MRI["levels"][:1]}
    second = put_mri(clients["coordinator"], participant, later, visit="U1")
    assert second.status_code == 200 and second.json()["visit"] == "U1" and second["ETag"] == '"1"'
    assert mri_record(participant).data["exam_date"] == "2026-06-01"
    assert mri_record(participant, "U1").data["exam_date"] == "2026-09-01"


# --- derived values ---------------------------------------------------------------------------------------


def test_treated_and_relation_are_derived_from_the_procedure(clients, participant, m12, treated):
    data = MRI | {
        "levels": [
            *MRI["levels"],
            {"level": "T11", "new_fracture": True, "acute_signal": False, "genant_grade": "1"},
            {"level": "L1", "new_fracture": True, "acute_signal": True, "genant_grade": "2"},
        ]
    }
    response = put_mri(clients["coordinator"], participant, data)
    assert response.status_code == 200, response.json()
    assert response.json()["visit"] == "M12"
    derived = {level: (row["treated"], row["relation"]) for level, row in rows_by_level(response).items()}
    assert derived == {
        "L2": (False, "adjacent"),  # next to L1
        "T10": (False, "remote"),  # two levels from T12
        "T11": (False, "adjacent"),  # next to T12
        "L1": (True, "treated"),
    }
    # A new fracture at a treated level: a soft warning and its automatic query, on the MRI's own record
    # (beside the "scan missing" of an M12 MRI with no exam linked).
    assert [(w["check"], w["field"]) for w in response.json()["warnings"]] == [
        ("FOLLOWUP_MRI_SCAN_MISSING", "exam"),
        ("NEW_FRACTURE_AT_TREATED_LEVEL", "levels[L1].new_fracture"),
    ]
    query = DataQuery.objects.get(check_code="NEW_FRACTURE_AT_TREATED_LEVEL")
    assert (query.record.visit_code, query.check_code) == (m12.code, "NEW_FRACTURE_AT_TREATED_LEVEL")


@pytest.mark.parametrize("code", ["treated", "relation"])
def test_a_typed_derived_value_is_refused(clients, participant, m12, treated, code):
    typed = MRI | {"levels": [MRI["levels"][0] | {code: "remote" if code == "relation" else False}]}
    response = put_mri(clients["coordinator"], participant, typed)
    assert response.status_code == 400
    assert f"levels[L2].{code}" in response.json()
    assert not FormRecord.objects.filter(form_code="followup_mri").exists()


def test_without_a_procedure_the_relation_is_unknown_until_it_is_saved(clients, participant, m12):
    response = put_mri(clients["coordinator"], participant, MRI)
    assert response.status_code == 200
    assert all("relation" not in row and "treated" not in row for row in response.json()["data"]["levels"])
    put(clients["coordinator"], participant, PROCEDURE)
    record = mri_record(participant)
    assert record.version == 2  # recomputed when the procedure arrived: a new version
    assert {row["level"]: row["relation"] for row in record.data["levels"]} == {
        "L2": "adjacent",
        "T10": "remote",
    }


def test_a_procedure_change_moves_the_derived_values_with_a_new_audited_version(
    clients,
    participant,
    m12,
    treated,
):
    coordinator, monitor = clients["coordinator"], clients["monitor"]
    assert put_mri(coordinator, participant, MRI).status_code == 200
    assert act_mri(coordinator, participant, "complete").status_code == 200
    assert act_mri(monitor, participant, "verify").status_code == 200
    # The surgeon's note said T9, not T12: T10 becomes adjacent, L2 stays adjacent to L1.
    moved = PROCEDURE | {"levels": [PROCEDURE["levels"][0], PROCEDURE["levels"][1] | {"level": "T9"}]}
    assert put(coordinator, participant, moved, version=1).status_code == 200
    record = mri_record(participant)
    assert {row["level"]: row["relation"] for row in record.data["levels"]} == {
        "L2": "adjacent",
        "T10": "adjacent",
    }
    # Changed data is no longer what the monitor verified: back to complete, verification cleared.
    assert (record.status, record.verified_by, record.version) == (FormStatus.COMPLETE, None, 4)
    history = coordinator.get(mri_url(participant, step="history"), {"field": "levels[T10].relation"}).json()
    assert [(c["old"], c["new"]) for c in history[-1]["changes"]] == [("remote", "adjacent")]
    assert history[-1]["user"] == "coord07"


def test_a_locked_mri_refuses_a_procedure_change_that_would_change_it(
    clients,
    participant,
    m12,
    treated,
):
    assert put_mri(clients["coordinator"], participant, MRI).status_code == 200
    FormRecord.objects.filter(form_code="followup_mri").update(
        status=FormStatus.LOCKED
    )  # the steps: other tests
    moved = PROCEDURE | {"levels": [PROCEDURE["levels"][0], PROCEDURE["levels"][1] | {"level": "T9"}]}
    refused = put(clients["coordinator"], participant, moved, version=1)
    assert refused.status_code == 409 and refused.json()["code"] == "dependent_locked"
    assert (
        FormRecord.objects.get(participant=participant, form_code="procedure").version == 1
    )  # nothing saved
    # A change that leaves the MRI as it is goes through.
    assert (
        put(clients["coordinator"], participant, PROCEDURE | {"operator": "Dr B"}, version=1).status_code
        == 200
    )


# --- checks and life cycle ----------------------------------------------------------------------------------


def test_new_fracture_answer_and_rows_must_agree_to_complete(clients, participant, m12, treated):
    coordinator = clients["coordinator"]
    put_mri(coordinator, participant, MRI | {"any_new_fracture": False})
    refused = act_mri(coordinator, participant, "complete")
    assert refused.status_code == 400 and "any_new_fracture" in refused.json()
    no_rows = {k: v for k, v in MRI.items() if k != "levels"}
    put_mri(coordinator, participant, no_rows, version=1)  # yes, but no level with a new fracture
    assert "any_new_fracture" in act_mri(coordinator, participant, "complete").json()
    put_mri(coordinator, participant, no_rows | {"any_new_fracture": False}, version=2)
    assert act_mri(coordinator, participant, "complete").json()["status"] == "complete"


def test_the_mri_cannot_be_before_the_procedure_nor_a_genant_grade_missing(
    clients,
    participant,
    m12,
    treated,
):
    early = MRI | {"exam_date": "2026-01-07", "levels": [{"level": "L2", "new_fracture": True}]}
    put_mri(clients["coordinator"], participant, early)
    incomplete = clients["coordinator"].get(mri_url(participant)).json()["incomplete"]
    assert {"exam_date", "levels[L2].genant_grade", "levels[L2].acute_signal"} <= set(incomplete)
    hidden = MRI | {"levels": [{"level": "L2", "new_fracture": False, "acute_signal": True}]}
    assert "levels[L2].acute_signal" in put_mri(clients["coordinator"], participant, hidden, version=1).json()


def test_the_whole_life_cycle_at_a_visit(clients, staff, participant, treated, tmp_path):
    # An M12 whose window holds the MRI (2026-06-01), and the MRI's exam linked: no query stops the lock.
    make_visit(participant, target=datetime.date(2026, 6, 10))
    exam = mri_exam(participant, staff["coordinator"], tmp_path)
    assert put_mri(clients["coordinator"], participant, MRI | {"exam": exam.pk}).status_code == 200
    assert not DataQuery.objects.exists()
    assert act_mri(clients["coordinator"], participant, "complete").json()["status"] == "complete"
    assert act_mri(clients["monitor"], participant, "verify").json()["status"] == "verified"
    signature = {"username": "inv07", "password": PASSWORD, "meaning": "approval"}
    signed = act_mri(clients["investigator"], participant, "sign", signature)
    assert signed.status_code == 201
    assert act_mri(clients["data_manager"], participant, "lock").json()["status"] == "locked"
    assert put_mri(clients["coordinator"], participant, MRI | {"exam": exam.pk}, version=5).status_code == 409
    unlocked = act_mri(clients["data_manager"], participant, "unlock", HTTP_X_CHANGE_REASON="correction")
    assert unlocked.json()["status"] == "signed" and unlocked.json()["visit"] == "M12"
    # The procedure, participant-level, was never touched by the MRI's steps.
    assert FormRecord.objects.get(participant=participant, form_code="procedure").status == FormStatus.DRAFT


def test_services_take_the_visit_keyword(staff, participant, m12, treated):
    record, _findings = services.crf_save(
        actor=staff["coordinator"],
        participant=participant,
        form_code="followup_mri",
        data=MRI,
        expected_version=None,
        visit=m12,
    )
    assert record.visit_code == m12.code
    completed = services.crf_complete(
        actor=staff["coordinator"], participant=participant, form_code="followup_mri", visit=m12
    )
    assert completed.pk == record.pk and completed.status == FormStatus.COMPLETE
    with pytest.raises(InvalidInput):  # the MRI without its visit
        services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="followup_mri")
