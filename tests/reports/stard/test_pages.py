"""The Reports page offers the accuracy report to a study whose protocol analyses vertebrae, never to
another; asking for it there (PRG to the job's page), bad input, who may, the job's page; screenshots of
the page in both languages."""

import pytest
from django.test import Client

from reports.jobs import job_execute
from reports.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


def page(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def test_the_page_offers_the_accuracy_report_to_an_accuracy_study_only(staff, people):
    html = page(staff["pi"]).get("/reports/?study=NCT07306858").content.decode()
    assert "Generate the accuracy report" in html and 'name="interval"' in html
    other = page(people["pi"]).get("/reports/?study=NCT06379243").content.decode()
    assert "Generate an interim report" in other and "accuracy report" not in other


def test_asking_for_it_where_it_is_not_offered_says_why(people):
    answer = page(people["pi"]).post(
        "/reports/?study=NCT06379243",
        {"report": "accuracy", "language": "en", "interval": "wilson", "format": "pdf"},
    )
    assert answer.status_code == 409 and not Job.objects.exists()
    assert (
        "does not analyse vertebrae with model outputs: it has no accuracy report" in answer.content.decode()
    )


def test_a_pi_asks_for_it_on_the_page_and_follows_it(world, staff):
    client = page(staff["pi"])
    answer = client.post(
        "/reports/?study=NCT07306858",
        {"report": "accuracy", "language": "zh-hans", "interval": "clopper-pearson", "format": "pdf"},
    )
    job = Job.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/reports/jobs/{job.pk}/"
    assert (job.kind, job.params) == (
        "accuracy_report",
        {"language": "zh-hans", "interval": "clopper-pearson", "format": "pdf"},
    )
    assert job_execute(job.pk) == "done"
    shown = client.get(f"/reports/jobs/{job.pk}/").content.decode()
    assert "Accuracy report" in shown and job.file_name in Job.objects.get().file_name
    listed = client.get("/reports/?study=NCT07306858").content.decode()
    assert f"#{job.pk} · Accuracy report" in listed
    download = client.get(f"/reports/jobs/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"


def test_bad_input_redraws_the_form_with_the_message(world, staff):
    answer = page(staff["pi"]).post(
        "/reports/?study=NCT07306858", {"report": "accuracy", "language": "en", "interval": "wald"}
    )
    assert answer.status_code == 400
    assert not Job.objects.exists()
    html = answer.content.decode()
    assert "Select a valid choice" in html and "Generate the accuracy report" in html


@pytest.mark.parametrize(("who", "status"), [("coordinator", 403), ("monitor", 403), ("adjudicator", 404)])
def test_who_may_not(world, staff, who, status):
    client = page(staff[who])
    assert client.get("/reports/?study=NCT07306858").status_code == status
    body = {"report": "accuracy", "language": "en", "interval": "wilson", "format": "pdf"}
    assert client.post("/reports/?study=NCT07306858", body).status_code == status
    assert not Job.objects.exists()
