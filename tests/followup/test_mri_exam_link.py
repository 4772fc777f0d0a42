"""The follow-up MRI links its DICOM exam (crf/services/exams.py, crf/engine/exams.py): by the exam picked or
by a pasted StudyInstanceUID matched through its keyed hash (never stored), only one of the participant's own
MR exams; at M12 a form saved with none raises a "scan missing" query that linking closes; the exam's date is
checked against the visit's window and the form's MRI date (queries, never refusals)."""

import datetime

import pydicom
import pytest
from django.db import connection
from django.utils import translation

from crf import services
from crf.models import DataQuery, FormRecord, QueryStatus
from trial.services import imaging_exams_register

from ..crf.conftest import PROCEDURE, put
from ..trial.imaging_data import dicom_file
from .mri_helpers import (  # noqa: F401 -- fixtures
    MRI,
    fixture_clients,
    fixture_participant,
    fixture_staff,
    fixture_treated,
    make_visit,
    mri_exam,
    mri_record,
    mri_url,
    put_mri,
)

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]  # today at site 07: 2026-10-01
SCAN_MISSING = "FOLLOWUP_MRI_SCAN_MISSING"
OUTSIDE = "FOLLOWUP_MRI_EXAM_OUTSIDE_WINDOW"
NOT_EXAM_DATE = "FOLLOWUP_MRI_DATE_NOT_EXAM"
# MRI's exam_date is 2026-06-01: an M12 whose window (2026-05-11 to 2026-07-10) holds it.
M12_TARGET = datetime.date(2026, 6, 10)


@pytest.fixture
def m12(participant):
    return make_visit(participant, target=M12_TARGET)


@pytest.fixture
def coordinator_api(clients):
    return clients["coordinator"]


def checks(response) -> list[tuple[str, str]]:
    return [(w["check"], w["field"]) for w in response.json()["warnings"]]


def live_queries(participant) -> list[tuple[str, str]]:
    live = DataQuery.objects.filter(record__participant=participant).exclude(status=QueryStatus.CLOSED)
    return sorted(live.values_list("check_code", "field_path"))


def test_linking_the_exam_picked(coordinator_api, staff, participant, m12, treated, tmp_path):
    exam = mri_exam(participant, staff["coordinator"], tmp_path)
    response = put_mri(coordinator_api, participant, MRI | {"exam": exam.pk})
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["exam"] == exam.pk and checks(response) == []
    assert mri_record(participant).data["exam"] == exam.pk
    assert live_queries(participant) == []
    # The same id sent as text (a form post) is the same link: nothing changes, no new version.
    again = put_mri(coordinator_api, participant, MRI | {"exam": str(exam.pk)}, version=1)
    assert again.status_code == 200 and again["ETag"] == '"1"'


def test_linking_by_a_pasted_uid_matched_through_its_hash(coordinator_api, staff, participant, m12, treated,
                                                          tmp_path):  # fmt: skip
    uid = pydicom.uid.generate_uid()
    exam = mri_exam(participant, staff["coordinator"], tmp_path, study_uid=uid)
    response = put_mri(coordinator_api, participant, MRI | {"exam": {"study_uid": f" {uid}\x00 "}})
    assert response.status_code == 200, response.json()
    assert mri_record(participant).data["exam"] == exam.pk
    # Picked and pasted together: the same exam.
    both = MRI | {"exam": {"id": exam.pk, "study_uid": uid}, "field_strength": "1.5"}
    assert put_mri(coordinator_api, participant, both, version=1).status_code == 200
    # The UID is nowhere in clear: not in the answer, the record, its audit events or any query's thread.
    assert uid not in response.content.decode()
    found = []
    for table in ("crf_formrecord", "crf_formrecordevent", "crf_dataquery", "crf_querymessage",
                  "trial_imagingexam", "trial_imagingexamevent"):  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608 -- our table names
            found += [table for (row,) in cursor.fetchall() if uid in row]
    assert found == []


def test_what_cannot_be_linked_is_a_400_naming_the_field(
    coordinator_api, staff, participant, make_participant, m12, treated, tmp_path
):
    coordinator = staff["coordinator"]
    theirs_uid = pydicom.uid.generate_uid()
    other = make_participant()
    theirs = mri_exam(other, coordinator, tmp_path / "other", study_uid=theirs_uid)
    ct = mri_exam(participant, coordinator, tmp_path / "ct", modality="CT")
    screening_uid = pydicom.uid.generate_uid()
    diagnostic = dicom_file(tmp_path / "s", "mr.dcm", modality="MR", day=datetime.date(2026, 1, 4),
                            study_uid=screening_uid)  # fmt: skip
    imaging_exams_register(actor=coordinator, screening=participant.screening, paths=[diagnostic])
    mine = mri_exam(participant, coordinator, tmp_path / "mine")
    second_uid = pydicom.uid.generate_uid()
    mri_exam(
        participant, coordinator, tmp_path / "second", day=datetime.date(2026, 6, 2), study_uid=second_uid
    )
    unknown_uid = pydicom.uid.generate_uid()
    unknown = "Unknown exam: pick one of the participant's imaging exams."
    unregistered = (
        "No imaging exam of this participant has this StudyInstanceUID: register its DICOM files first."
    )
    refused = [
        (unknown, theirs.pk),  # another participant's exam id says nothing of it
        (unknown, [mine.pk]),
        (unknown, True),
        *{
            "This StudyInstanceUID is registered for another case of the study, not this participant.": {
                "study_uid": theirs_uid
            },
            unregistered: {"study_uid": unknown_uid},
            "This StudyInstanceUID is an exam of the participant's screening, not a follow-up exam.": {
                "study_uid": screening_uid
            },
            "A StudyInstanceUID is digits and dots, at most 64 characters.": {"study_uid": "1.2.x<script>"},
            "The pasted StudyInstanceUID is not the exam picked: pick one or paste one.": {
                "study_uid": second_uid,
                "id": mine.pk,
            },
            "Only an exam of modality MR can be linked here; this one is CT.": ct.pk,
            'Send the exam\'s id, or {"study_uid": ...} with its StudyInstanceUID.': {"uid": unknown_uid},
        }.items(),
    ]
    for message, value in refused:
        response = put_mri(coordinator_api, participant, MRI | {"exam": value})
        assert response.status_code == 400, (message, response.json())
        assert response.json()["exam"] == [message]
        text = response.content.decode()  # a UID is never echoed
        assert all(uid not in text for uid in (theirs_uid, unknown_uid, screening_uid, second_uid))
    assert not FormRecord.objects.filter(form_code="followup_mri").exists()


# --- the scan-missing query -------------------------------------------------------------------------------


def test_an_m12_saved_with_no_exam_raises_scan_missing_and_linking_closes_it(
    coordinator_api, staff, participant, m12, treated, tmp_path
):
    response = put_mri(coordinator_api, participant, MRI)
    assert response.status_code == 200  # saved: a query, not a refusal
    assert checks(response) == [(SCAN_MISSING, "exam")]
    query = DataQuery.objects.get(check_code=SCAN_MISSING)
    assert (query.auto, query.status, query.field_path, query.record.visit_code) == (
        True,
        "open",
        "exam",
        "M12",
    )
    raised = query.messages.get()
    # Its words are the form file's (crf/forms/followup_mri.yaml), in each reader's language.
    english = (
        "Scan missing: no DICOM exam is linked to this follow-up MRI. Register the exam's DICOM files and "
    )
    assert raised.text == english + "link it here."
    with translation.override("zh-hans"):
        assert raised.display_text.startswith("影像缺失") and "DICOM" in raised.display_text
    assert coordinator_api.get(mri_url(participant)).json()["warnings"][0]["check"] == SCAN_MISSING  # GET too

    exam = mri_exam(participant, staff["coordinator"], tmp_path)
    linked = put_mri(coordinator_api, participant, MRI | {"exam": exam.pk}, version=1)
    assert linked.status_code == 200 and checks(linked) == []
    query.refresh_from_db()
    assert (query.status, query.resolved_by_data) == ("closed", True)
    assert query.messages.last().code == "resolved_by_data"
    # Unlinked again (the wrong exam was picked): a new query, the closed one stays closed.
    put_mri(coordinator_api, participant, MRI, version=2)
    assert live_queries(participant) == [(SCAN_MISSING, "exam")]
    assert DataQuery.objects.filter(check_code=SCAN_MISSING).count() == 2


def test_no_scan_is_asked_at_an_unscheduled_visit(coordinator_api, participant, treated):
    from followup.models import VisitKind

    make_visit(participant, code="U1", sequence=1001, target=datetime.date(2026, 6, 1))
    participant.visits.filter(code="U1").update(kind=VisitKind.UNSCHEDULED)
    response = put_mri(coordinator_api, participant, MRI, visit="U1")
    assert response.status_code == 200 and checks(response) == []
    assert live_queries(participant) == []


def test_a_change_of_the_procedure_keeps_the_scan_query_open(coordinator_api, participant, m12, treated):
    """The procedure's change re-checks the MRI (its treated levels): with its visit, so the scan is still
    missing, not resolved by the data."""
    put_mri(coordinator_api, participant, MRI)
    assert put(coordinator_api, participant, PROCEDURE | {"operative_time": 40}, version=1).status_code == 200
    assert live_queries(participant) == [(SCAN_MISSING, "exam")]
    assert not DataQuery.objects.filter(status="closed").exists()


# --- the exam's date --------------------------------------------------------------------------------------


def test_an_exam_outside_the_visits_window_is_a_query_not_a_refusal(coordinator_api, staff, participant, m12,
                                                                    treated, tmp_path):  # fmt: skip
    late = mri_exam(participant, staff["coordinator"], tmp_path, day=datetime.date(2026, 7, 11))  # a day late
    response = put_mri(coordinator_api, participant, MRI | {"exam": late.pk, "exam_date": "2026-07-11"})
    assert response.status_code == 200 and checks(response) == [(OUTSIDE, "exam")]
    on_time = mri_exam(participant, staff["coordinator"], tmp_path / "b", day=datetime.date(2026, 7, 10))
    back = put_mri(
        coordinator_api, participant, MRI | {"exam": on_time.pk, "exam_date": "2026-07-10"}, version=1
    )
    assert checks(back) == [] and live_queries(participant) == []


@pytest.mark.parametrize(
    ("day", "outside"),
    [("2026-06-15", False), ("2026-06-16", True), ("2026-05-18", False), ("2026-05-17", True)],
)
def test_an_unscheduled_visits_exam_may_be_14_days_from_it(
    coordinator_api, staff, participant, treated, tmp_path, day, outside
):
    from followup.models import VisitKind

    make_visit(participant, code="U1", sequence=1001, target=datetime.date(2026, 6, 1))
    participant.visits.filter(code="U1").update(
        kind=VisitKind.UNSCHEDULED,
        window_open=datetime.date(2026, 6, 1),
        window_close=datetime.date(2026, 6, 1),
    )
    exam = mri_exam(participant, staff["coordinator"], tmp_path, day=datetime.date.fromisoformat(day))
    response = put_mri(coordinator_api, participant, MRI | {"exam": exam.pk, "exam_date": day}, visit="U1")
    assert checks(response) == ([(OUTSIDE, "exam")] if outside else [])


def test_the_mri_date_should_be_the_exams(coordinator_api, staff, participant, m12, treated, tmp_path):
    exam = mri_exam(participant, staff["coordinator"], tmp_path)  # 2026-06-01
    response = put_mri(coordinator_api, participant, MRI | {"exam": exam.pk, "exam_date": "2026-06-02"})
    assert checks(response) == [(NOT_EXAM_DATE, "exam_date")]
    fixed = put_mri(coordinator_api, participant, MRI | {"exam": exam.pk}, version=1)
    assert checks(fixed) == [] and live_queries(participant) == []


def test_services_judge_the_link_with_the_visit(staff, participant, m12, treated, tmp_path):
    """crf_save and crf_complete (the services, without the API) judge the exam checks at the visit."""
    _record, findings = services.crf_save(
        actor=staff["coordinator"], participant=participant, form_code="followup_mri", data=MRI,
        expected_version=None, visit=m12,
    )  # fmt: skip
    assert [w.check for w in findings.warnings] == [SCAN_MISSING]
    completed = services.crf_complete(
        actor=staff["coordinator"],
        participant=participant,
        form_code="followup_mri",
        expected_version=1,
        visit=m12,
    )
    assert completed.status == "complete"  # a soft check: the form completes, the query stays open
    assert live_queries(participant) == [(SCAN_MISSING, "exam")]
