"""The reports pages: the study's reports (generate, the list), a job's page, the download from the page
(logged), the download log; who may; bad input; a fixed number of queries; the menu entry."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reports.jobs import job_execute, job_request
from reports.models import Download, Job

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


def page(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def _job(study, kind="test_report", actor=None):
    job = job_request(study=study, kind=kind, params={"language": "en"}, actor=actor, trigger="on_demand")
    job_execute(job.pk)
    return Job.objects.get(pk=job.pk)


@pytest.mark.parametrize(
    ("language", "heading", "button"), [("en", "Reports", "Generate"), ("zh-hans", "报告", "生成")]
)
def test_a_pi_generates_a_report_from_the_page(people, study, language, heading, button):
    client = page(people["pi"], language)
    shown = client.get("/reports/")
    assert shown.status_code == 200
    html = shown.content.decode()
    assert f"<h1>{heading}" in html and button in html
    assert f'value="{language}" selected' in html  # the reader's language by default
    answer = client.post("/reports/", {"language": "zh-hans", "cut": "2026-09-30T18:00"})
    job = Job.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/reports/jobs/{job.pk}/"
    assert job.params == {"language": "zh-hans", "cut": "2026-09-30T10:00:00+00:00"}  # typed at +08:00
    assert (job.requested_by, job.trigger) == (people["pi"], "on_demand")


def test_a_cut_in_the_future_is_a_400_beside_the_field(people):
    answer = page(people["pi"]).post("/reports/", {"language": "en", "cut": "2031-01-01T00:00"})
    assert answer.status_code == 400
    assert "The data cut cannot be in the future." in answer.content.decode()
    answer = page(people["pi"]).post("/reports/", {"language": "xx", "cut": "soon"})
    assert answer.status_code == 400
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("pi", 200),
        ("data_manager", 200),
        ("site_pi", 403),
        ("coordinator", 403),
        ("monitor", 403),
        ("adjudicator", 404),
    ],
)
def test_who_opens_the_pages(people, study, who, status):
    job = _job(study)
    client = page(people[who])
    assert client.get("/reports/").status_code == status
    assert client.post("/reports/", {"language": "en"}).status_code == (302 if status == 200 else status)
    assert client.get(f"/reports/jobs/{job.pk}/").status_code == status
    assert client.get(f"/reports/jobs/{job.pk}/download/").status_code == status
    log = {"data_manager": 200, "pi": 403}.get(who, status)
    assert client.get("/reports/downloads/").status_code == log


def test_the_job_page_shows_its_progress_and_polls_the_api(people, study):
    job = job_request(
        study=study, kind="test_report", params={"language": "en"}, actor=None, trigger="on_demand"
    )
    Job.objects.filter(pk=job.pk).update(status="running", step="second", steps_done=2, steps_total=3)
    html = page(people["pi"]).get(f"/reports/jobs/{job.pk}/").content.decode()
    assert f'data-status-url="/api/v1/jobs/{job.pk}/"' in html and 'data-finished="0"' in html
    assert "2 of 3 steps" in html and 'aria-valuenow="2"' in html
    assert "/static/js/jobs." in html and "<script>" not in html  # a static file, no inline script


def test_a_failed_job_says_why_on_its_page(people, study):
    job = _job(study, kind="test_refused")
    html = page(people["pi"], "zh-hans").get(f"/reports/jobs/{job.pk}/").content.decode()
    assert "Rien: the study has no data yet." in html and 'data-finished="1"' in html
    crashed = _job(study, kind="test_crash")
    html = page(people["pi"], "zh-hans").get(f"/reports/jobs/{crashed.pk}/").content.decode()
    assert "任务因 SpineTrial 内部错误而中止" in html and "hunter2" not in html


def test_a_download_from_the_page_is_logged_and_shown_to_data_managers(people, study):
    job = _job(study)
    answer = page(people["pi"]).get(f"/reports/jobs/{job.pk}/download/")
    assert answer.status_code == 200 and b"".join(answer.streaming_content).startswith(b"report of")
    assert list(Download.objects.values_list("user__username", "via")) == [("pi", "page")]
    html = page(people["data_manager"], "zh-hans").get("/reports/downloads/").content.decode()
    assert "下载记录" in html and job.file_name in html and "页面" in html
    queued = job_request(study=study, kind="test_report", params={}, actor=None, trigger="on_demand")
    assert page(people["pi"]).get(f"/reports/jobs/{queued.pk}/download/").status_code == 409


def test_the_reports_page_runs_the_same_queries_for_two_jobs_or_twelve(people, study):
    client = page(people["data_manager"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/reports/").status_code == 200
        return len(queries)

    _job(study, actor=people["pi"])
    _job(study, kind="test_refused", actor=people["data_manager"])
    two = count()
    for n in range(10):
        _job(study, actor=people["pi"] if n % 2 else None)
    assert count() == two


def test_the_menu_offers_reports_to_study_wide_pis_and_data_managers_only(people, study):
    def menu(user) -> bool:
        return 'href="/reports/"' in page(user).get("/").content.decode()

    assert menu(people["pi"]) and menu(people["data_manager"])
    assert not any(menu(people[who]) for who in ("site_pi", "coordinator", "monitor", "adjudicator"))
