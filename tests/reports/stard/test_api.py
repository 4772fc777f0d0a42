"""POST /api/v1/studies/{code}/accuracy-reports/: the job (202), run and downloaded as a PDF or JSON; bad
options 400 naming them; a study that does not analyse vertebrae 409; who may ask (coordinator and monitor
403, adjudicator 404); the schema. One test through a real Celery worker."""

import json
import subprocess

import pytest

from reports.jobs import job_execute
from reports.models import Job

from ..conftest import api_for, wait_for

URL = "/api/v1/studies/NCT07306858/accuracy-reports/"


def download(client, job_id: int):
    answer = client.get(f"/api/v1/jobs/{job_id}/download/")
    assert answer.status_code == 200, answer.content
    return answer, b"".join(answer.streaming_content)


@pytest.mark.django_db
def test_a_pi_asks_for_the_pdf_and_downloads_it(world, staff):
    client = api_for(staff["pi"], "en")
    answer = client.post(URL, {"language": "en"}, format="json")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["kind"] == "accuracy_report" and body["status"] == "queued"
    assert body["accuracy_report"] == {"interval": "wilson", "format": "pdf"} and body["export"] is None
    assert answer["Location"].endswith(f"/api/v1/jobs/{body['id']}/")
    assert job_execute(body["id"]) == "done"
    job = client.get(f"/api/v1/jobs/{body['id']}/").json()
    assert (job["status"], job["steps_done"], job["steps_total"]) == ("done", 3, 3)
    response, content = download(client, body["id"])
    assert response["Content-Type"] == "application/pdf" and content.startswith(b"%PDF-")
    assert job["file_name"].startswith("NCT07306858_accuracy_") and job["file_name"].endswith("_en.pdf")
    text = subprocess.run(
        ["/usr/bin/pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    assert "Diagnostic accuracy report (STARD 2015)" in text and "NOT LOCKED" in text


@pytest.mark.django_db
def test_the_json_format_and_clopper_pearson(world, staff):
    client = api_for(staff["data_manager"])
    answer = client.post(URL, {"interval": "clopper-pearson", "format": "json"}, format="json")
    assert answer.status_code == 202, answer.content
    assert job_execute(answer.json()["id"]) == "done"
    response, content = download(client, answer.json()["id"])
    assert response["Content-Type"] == "application/json"
    figures = json.loads(content)
    assert figures["methods"]["proportions"] == "clopper-pearson"
    assert figures["flow"]["analysed"]["vertebrae"] == 15
    vgg = next(m for m in figures["models"] if m["model"] == "VGG-16")
    assert vgg["threshold"]["value"] == 0.4
    assert Job.objects.get().file_name.endswith(".json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"interval": "exact"}, {"interval"}),
        ({"format": "docx"}, {"format"}),
        ({"language": "fr", "interval": "wald"}, {"language", "interval"}),
        ({"cut": "2026-01-01T00:00Z"}, {"cut"}),  # not an option of this report
    ],
)
def test_bad_options_are_a_400_naming_them(world, staff, body, fields):
    answer = api_for(staff["pi"]).post(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    assert fields <= set(answer.json())
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_study_that_does_not_analyse_vertebrae_has_no_accuracy_report(people):
    answer = api_for(people["pi"]).post("/api/v1/studies/NCT06379243/accuracy-reports/", {}, format="json")
    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "not_an_accuracy_study"
    assert not Job.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), [("coordinator", 403), ("monitor", 403), ("adjudicator", 404)])
def test_only_study_wide_pis_and_data_managers_ask(world, staff, who, status):
    answer = api_for(staff[who]).post(URL, {"language": "en"}, format="json")
    assert answer.status_code == status, answer.content
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_an_adjudicator_cannot_see_the_job_either(world, staff):
    answer = api_for(staff["pi"]).post(URL, {}, format="json")
    job_id = answer.json()["id"]
    assert api_for(staff["adjudicator"]).get(f"/api/v1/jobs/{job_id}/").status_code == 404
    assert api_for(staff["coordinator"]).get(f"/api/v1/jobs/{job_id}/").status_code == 403


@pytest.mark.django_db
def test_the_schema_documents_the_request_and_its_answers(staff):
    schema = api_for(staff["pi"]).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/studies/{code}/accuracy-reports/"]["post"]
    assert {"202", "400", "403", "404", "409"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    properties = schema["components"]["schemas"][body]["properties"]
    assert set(properties) == {"language", "interval", "format"}
    download = schema["paths"]["/api/v1/jobs/{id}/download/"]["get"]["responses"]["200"]["content"]
    assert "application/json" in download


@pytest.mark.django_db(transaction=True)
def test_the_report_through_a_real_worker(world, staff, report_worker):
    client = api_for(staff["pi"], "zh-hans")
    answer = client.post(URL, {}, format="json")
    assert answer.status_code == 202, answer.content
    assert answer.json()["language"] == "zh-hans"  # the reader's, by default
    detail = f"/api/v1/jobs/{answer.json()['id']}/"
    done = wait_for(lambda: client.get(detail).json(), lambda job: job["status"] in ("done", "failed"))
    assert done["status"] == "done", done
    _response, content = download(client, done["id"])
    text = subprocess.run(
        ["/usr/bin/pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    assert "基于CT图像的深度学习模型" in text
