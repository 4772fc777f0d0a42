"""Imaging exams through the API (multipart upload, the list with its checks) and on the screening's page,
in English and Simplified Chinese, with a fixed number of queries."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trial.models import ImagingExam
from trial.services import screening_create

from ..conftest import ELIGIBLE_ANSWERS, client_for
from .imaging_data import PATIENT_ID, PATIENT_NAME, dicom_file, load_imaging_study

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]
DAY = datetime.date(2026, 1, 1)


@pytest.fixture
def case(study, site, coordinator):
    return screening_create(
        actor=coordinator,
        study=load_imaging_study(),
        site=site,
        data={"screening_date": datetime.date(2026, 1, 5), "age": 72, "sex": "female",
              "fracture_levels": ["L1"], "answers": ELIGIBLE_ANSWERS},
    )  # fmt: skip


def url(screening) -> str:
    return f"/api/v1/screenings/{screening.pk}/exams/"


def upload(client, screening, *paths):
    handles = [path.open("rb") for path in paths]
    try:
        return client.post(url(screening), {"files": handles}, format="multipart")
    finally:
        for handle in handles:
            handle.close()


def test_upload_registers_and_rejudges(tmp_path, case, coordinator):
    api = client_for(coordinator)
    notes = tmp_path / "notes.txt"
    notes.write_text("not DICOM")
    ct = dicom_file(tmp_path, "ct.dcm")
    mr = dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY + datetime.timedelta(days=14))
    answer = upload(api, case, ct, mr, notes)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["outcome"] == "eligible" and body["checks"] == []
    assert [(e["modality"], e["study_date"], e["series_count"]) for e in body["exams"]] == [
        ("CT", "2026-01-01", 1),
        ("MR", "2026-01-15", 1),
    ]
    assert body["exams"][0]["slice_thickness"] == 5.0 and body["exams"][0]["body_parts"] == ["LSPINE"]
    assert sorted(body["registered"]) == sorted(ImagingExam.objects.values_list("pk", flat=True))
    assert body["problems"] == [{"file": "notes.txt", "message": "Not a DICOM file."}]
    assert PATIENT_NAME not in answer.content.decode() and PATIENT_ID not in answer.content.decode()
    # The list answers the same exams and verdict.
    listed = api.get(url(case)).json()
    assert listed["exams"] == body["exams"] and listed["outcome"] == "eligible"


def test_a_duplicate_is_a_400_naming_the_field(tmp_path, case, coordinator):
    api = client_for(coordinator)
    ct = dicom_file(tmp_path, "ct.dcm")
    assert upload(api, case, ct).status_code == 201
    again = upload(api, case, ct)
    assert again.status_code == 400
    assert again.json()["files"] == ["ct.dcm: This study is already registered for this screening."]
    assert ImagingExam.objects.count() == 1


def test_no_dicom_file_and_no_file_are_400s(tmp_path, case, coordinator):
    api = client_for(coordinator)
    notes = tmp_path / "notes.txt"
    notes.write_text("not DICOM")
    refused = upload(api, case, notes)
    assert refused.status_code == 400 and refused.json()["files"] == ["notes.txt: Not a DICOM file."]
    empty = api.post(url(case), {}, format="multipart")
    assert empty.status_code == 400 and "files" in empty.json()
    assert api.post(url(case), {"files": "x"}, format="json").status_code == 415


def test_checks_in_the_list(tmp_path, case, coordinator):
    api = client_for(coordinator)
    upload(api, case, dicom_file(tmp_path, "ct.dcm"),
           dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY + datetime.timedelta(days=15)))  # fmt: skip
    body = api.get(url(case)).json()
    assert body["outcome"] == "ineligible" and body["failed_criteria"] == ["IMG1"]
    assert [c["code"] for c in body["checks"]] == ["interval_too_long"]


def test_other_sites_and_readers(tmp_path, case, other_coordinator, monitor):
    ct = dicom_file(tmp_path, "ct.dcm")
    assert upload(client_for(other_coordinator), case, ct).status_code == 404
    assert client_for(other_coordinator).get(url(case)).status_code == 404
    assert upload(client_for(monitor), case, ct).status_code == 403
    assert client_for(monitor).get(url(case)).status_code == 200


def test_the_schema_documents_the_upload_as_multipart(coordinator):
    schema = client_for(coordinator).get("/api/schema/?format=json").json()
    body = schema["paths"]["/api/v1/screenings/{id}/exams/"]["post"]["requestBody"]
    assert set(body["content"]) == {"multipart/form-data"}
    files = schema["components"]["schemas"]["ExamUploadIn"]["properties"]["files"]
    assert files["items"]["format"] == "binary"


@pytest.mark.parametrize(("language", "title"), [("en", "Imaging exams"), ("zh-hans", "入选标准")])
def test_the_screening_page_shows_exams_and_checks(tmp_path, case, coordinator, language, title):
    upload(client_for(coordinator), case, dicom_file(tmp_path, "ct.dcm"),
           dicom_file(tmp_path, "mr.dcm", modality="MR", body_part="KNEE"))  # fmt: skip
    client = Client()
    client.force_login(coordinator)
    client.cookies["django_language"] = language
    page = client.get(f"/screenings/{case.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and title in html
    assert 'data-role="imaging-exams"' in html and "GE MEDICAL SYSTEMS" in html and "KNEE" in html
    assert 'data-check="wrong_body_part"' in html and 'data-check="modality_missing"' in html
    assert PATIENT_NAME not in html and "Zhang" not in html


def test_the_page_runs_a_fixed_number_of_queries(tmp_path, case, coordinator):
    client = Client()
    client.force_login(coordinator)
    api = client_for(coordinator)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/screenings/{case.pk}/").status_code == 200
        return len(queries)

    # Eligible from the first count on (an eligible screening's page asks for the enrollment target too).
    upload(api, case, dicom_file(tmp_path, "ct.dcm"), dicom_file(tmp_path, "mr.dcm", modality="MR"))
    one = count()
    upload(api, case, *(dicom_file(tmp_path, f"mr{n}.dcm", modality="MR", day=DAY + datetime.timedelta(n))
                        for n in range(1, 6)))  # fmt: skip
    assert count() == one
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url(case)).status_code == 200
    listed = len(queries)
    upload(api, case, dicom_file(tmp_path, "ct2.dcm", day=DAY + datetime.timedelta(3)))
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url(case)).status_code == 200
    assert len(queries) == listed
