"""The follow-up MRI's exam on its page: the participant's exams to pick from, a box for a pasted
StudyInstanceUID (never drawn back), the linked exam's modality, date, body part and series in both languages,
read-only for a monitor, and a fixed number of queries whatever the number of exams."""

import datetime

import pydicom
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .mri_helpers import (  # noqa: F401 -- fixtures
    MRI,
    fixture_clients,
    fixture_participant,
    fixture_staff,
    fixture_treated,
    logged_in,
    make_visit,
    mri_exam,
    mri_record,
    put_mri,
)

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]  # today at site 07: 2026-10-01


@pytest.fixture
def m12(participant):
    return make_visit(participant, target=datetime.date(2026, 6, 10))


def page_url(participant) -> str:
    return f"/participants/{participant.study_id}/visits/M12/forms/followup_mri/"


def posted(**changes) -> dict:
    return {
        "version": "0",
        "exam_date": "2026-06-01",
        "field_strength": "3.0",
        "sequences": ["t1", "t2", "stir"],
        "any_new_fracture": "false",
        **changes,
    }


# The new texts' Chinese is merged into locale/ with the branch (po26/c.json); the form's own texts (its YAML)
# and the exam's existing labels are asserted in Chinese here.
@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["DICOM exam (StudyInstanceUID)", "Modality", "Study date", "Body part examined", "Series",
                "or paste its StudyInstanceUID", "window 2026-05-11 to 2026-07-10"]),
        ("zh-hans", ["DICOM影像检查（StudyInstanceUID）", "检查方式", "检查日期", "检查部位", "序列数"]),  # noqa: RUF001
    ],
)  # fmt: skip
def test_the_linked_exam_is_described_in_both_languages(staff, clients, participant, m12, treated, tmp_path,
                                                        language, texts):  # fmt: skip
    exam = mri_exam(participant, staff["coordinator"], tmp_path)
    put_mri(clients["coordinator"], participant, MRI | {"exam": exam.pk})
    html = logged_in(staff["coordinator"], language).get(page_url(participant)).content.decode()
    for text in texts:
        assert text in html, text
    assert f'<option value="{exam.pk}" selected>MR' in html
    assert f'data-role="linked-exam" data-exam="{exam.pk}"' in html and "LSPINE" in html
    assert 'name="exam--uid"' in html and 'name="exam--uid" value=""' in html


def test_a_monitor_reads_the_linked_exam(staff, clients, participant, m12, treated, tmp_path):
    exam = mri_exam(participant, staff["coordinator"], tmp_path)
    put_mri(clients["coordinator"], participant, MRI | {"exam": exam.pk})
    html = logged_in(staff["monitor"]).get(page_url(participant)).content.decode()
    assert 'data-role="linked-exam"' in html and "2026-06-01" in html and 'name="exam"' not in html


def test_no_exam_yet_points_to_the_participants_page(staff, participant, m12, treated):
    html = logged_in(staff["coordinator"]).get(page_url(participant)).content.decode()
    assert 'data-role="no-exams"' in html
    assert f'href="/participants/{participant.study_id}/#imaging"' in html


def test_picking_an_exam_on_the_page(staff, participant, m12, treated, tmp_path):
    exam = mri_exam(participant, staff["coordinator"], tmp_path)
    client = logged_in(staff["coordinator"])
    response = client.post(page_url(participant), posted(exam=str(exam.pk), **{"exam--uid": ""}))
    assert response.status_code == 302
    assert mri_record(participant).data["exam"] == exam.pk


def test_pasting_a_uid_on_the_page(staff, participant, m12, treated, tmp_path):
    uid = pydicom.uid.generate_uid()
    exam = mri_exam(participant, staff["coordinator"], tmp_path, study_uid=uid)
    client = logged_in(staff["coordinator"])
    wrong = pydicom.uid.generate_uid()
    refused = client.post(page_url(participant), posted(exam="", **{"exam--uid": wrong}))
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "No imaging exam of this participant has this StudyInstanceUID" in html and wrong not in html
    response = client.post(page_url(participant), posted(exam="", **{"exam--uid": uid}))
    assert response.status_code == 302
    assert mri_record(participant).data["exam"] == exam.pk
    assert uid not in client.get(page_url(participant)).content.decode()


def test_the_page_runs_a_fixed_number_of_queries(staff, clients, participant, m12, treated, tmp_path):
    client = logged_in(staff["coordinator"])
    first = mri_exam(participant, staff["coordinator"], tmp_path)
    put_mri(clients["coordinator"], participant, MRI | {"exam": first.pk})

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page_url(participant)).status_code == 200
        return len(queries)

    few = count()
    for n in range(2, 7):
        mri_exam(participant, staff["coordinator"], tmp_path / str(n), day=datetime.date(2026, 6, n))
    assert count() == few


def test_only_the_fields_modalities_are_offered(staff, participant, m12, treated, tmp_path):
    mr = mri_exam(participant, staff["coordinator"], tmp_path / "mr")
    ct = mri_exam(participant, staff["coordinator"], tmp_path / "ct", modality="CT")
    html = logged_in(staff["coordinator"]).get(page_url(participant)).content.decode()
    assert f'<option value="{mr.pk}">MR of 2026-06-01' in html
    assert f'<option value="{ct.pk}"' not in html
