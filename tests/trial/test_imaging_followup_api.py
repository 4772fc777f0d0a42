"""A participant's follow-up imaging exams through the API (GET and the multipart upload, 400s with field
messages, a fixed number of queries) and on the participant's page (the list, the upload, both languages)."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trial.models import ImagingExam

from ..conftest import client_for
from .imaging_data import PATIENT_ID, PATIENT_NAME, dicom_file

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]  # today at site 07: 2026-10-01
DAY = datetime.date(2026, 6, 1)


@pytest.fixture
def participant(make_participant):
    return make_participant()


def url(participant) -> str:
    return f"/api/v1/participants/{participant.study_id}/exams/"


def upload(client, participant, *paths):
    handles = [path.open("rb") for path in paths]
    try:
        return client.post(url(participant), {"files": handles}, format="multipart")
    finally:
        for handle in handles:
            handle.close()


def logged_in(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def test_upload_registers_the_participants_exams(tmp_path, participant, coordinator):
    api = client_for(coordinator)
    notes = tmp_path / "notes.txt"
    notes.write_text("not DICOM")
    mr = dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY)
    answer = upload(api, participant, mr, notes)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert [(e["modality"], e["study_date"], e["body_parts"], e["series_count"]) for e in body["exams"]] == [
        ("MR", "2026-06-01", ["LSPINE"], 1)
    ]
    assert body["registered"] == list(ImagingExam.objects.values_list("pk", flat=True))
    assert body["problems"] == [{"file": "notes.txt", "message": "Not a DICOM file."}]
    text = answer.content.decode()
    assert PATIENT_NAME not in text and PATIENT_ID not in text and "study_uid" not in text
    assert api.get(url(participant)).json() == {"exams": body["exams"]}
    assert ImagingExam.objects.get().participant_id == participant.pk


def test_400s_name_the_field(tmp_path, participant, coordinator):
    api = client_for(coordinator)
    mr = dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY)
    assert upload(api, participant, mr).status_code == 201
    again = upload(api, participant, mr)
    assert again.status_code == 400
    assert again.json()["files"] == ["mr.dcm: This study is already registered for this participant."]
    notes = tmp_path / "notes.txt"
    notes.write_text("not DICOM")
    refused = upload(api, participant, notes)
    assert refused.status_code == 400 and refused.json()["files"] == ["notes.txt: Not a DICOM file."]
    future = upload(
        api, participant, dicom_file(tmp_path, "f.dcm", modality="MR", day=datetime.date(2026, 10, 2))
    )
    assert future.status_code == 400
    assert future.json()["files"] == [
        "f.dcm: The study date is after today at the site: check the scanner's clock."
    ]
    empty = api.post(url(participant), {}, format="multipart")
    assert empty.status_code == 400 and "files" in empty.json()
    with mr.open("rb") as handle:
        unknown = api.post(url(participant), {"files": [handle], "study_uid": "1.2.3"}, format="multipart")
    assert unknown.status_code == 400 and unknown.json()["study_uid"] == ["Unknown field."]
    assert api.post(url(participant), {"files": "x"}, format="json").status_code == 415
    assert ImagingExam.objects.count() == 1


def test_other_sites_and_readers(tmp_path, participant, other_coordinator, monitor):
    mr = dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY)
    assert upload(client_for(other_coordinator), participant, mr).status_code == 404
    assert client_for(other_coordinator).get(url(participant)).status_code == 404
    assert upload(client_for(monitor), participant, mr).status_code == 403
    assert client_for(monitor).get(url(participant)).status_code == 200
    assert client_for(monitor).get("/api/v1/participants/NOPE/exams/").status_code == 404


def test_the_list_runs_a_fixed_number_of_queries(tmp_path, participant, coordinator):
    api = client_for(coordinator)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url(participant)).status_code == 200
        return len(queries)

    upload(api, participant, dicom_file(tmp_path, "1.dcm", modality="MR", day=DAY))
    one = count()
    days = [DAY + datetime.timedelta(days=n) for n in range(2, 7)]
    upload(api, participant, *[dicom_file(tmp_path, f"{day}.dcm", modality="MR", day=day) for day in days])
    assert len(api.get(url(participant)).json()["exams"]) == 6
    assert count() == one


def test_the_schema_documents_the_upload_as_multipart(coordinator):
    schema = client_for(coordinator).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/participants/{study_id}/exams/"]["post"]
    assert operation["operationId"] == "participants_exams_register"
    assert set(operation["requestBody"]["content"]) == {"multipart/form-data"}


# --- the participant's page ------------------------------------------------------------------------------


# The new texts' Chinese is merged into locale/ with the branch (translations file po26/c.json); the page's
# existing words are asserted in Chinese here.
@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Follow-up imaging exams", "Register exams", "Study date"]),
        ("zh-hans", ["检查日期", "检查部位"]),
    ],
)
def test_the_page_lists_the_exams_and_registers_more(tmp_path, participant, coordinator, language, texts):
    client = logged_in(coordinator, language)
    page_url = f"/participants/{participant.study_id}/"
    html = client.get(page_url).content.decode()
    assert 'data-role="no-exams"' in html and 'enctype="multipart/form-data"' in html
    assert f'lang="{language}"' in html
    with dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY).open("rb") as handle:
        done = client.post(f"/participants/{participant.study_id}/exams/", {"files": [handle]})
    assert done.status_code == 302 and done["Location"] == page_url + "#imaging"
    html = client.get(page_url).content.decode()
    assert 'data-role="imaging-exams"' in html and "2026-06-01" in html and "LSPINE" in html
    for text in texts:
        assert text in html, text
    assert PATIENT_NAME not in html and "mr.dcm" not in html


def test_a_refused_upload_redraws_the_page_with_its_messages(tmp_path, participant, coordinator):
    client = logged_in(coordinator)
    notes = tmp_path / "notes.txt"
    notes.write_text("not DICOM")
    with notes.open("rb") as handle:
        refused = client.post(f"/participants/{participant.study_id}/exams/", {"files": [handle]})
    assert refused.status_code == 400
    assert "notes.txt: Not a DICOM file." in refused.content.decode()
    nothing = client.post(f"/participants/{participant.study_id}/exams/", {})
    assert nothing.status_code == 400 and 'id="imaging"' in nothing.content.decode()
    assert not ImagingExam.objects.exists()


def test_readers_see_the_exams_but_no_upload(tmp_path, participant, coordinator, monitor):
    upload(client_for(coordinator), participant, dicom_file(tmp_path, "mr.dcm", modality="MR", day=DAY))
    html = logged_in(monitor).get(f"/participants/{participant.study_id}/").content.decode()
    assert 'data-role="imaging-exams"' in html and 'data-role="exam-upload"' not in html
    with dicom_file(tmp_path, "x.dcm", modality="MR", day=DAY).open("rb") as handle:
        assert (
            logged_in(monitor)
            .post(f"/participants/{participant.study_id}/exams/", {"files": [handle]})
            .status_code
            == 403
        )
