"""The reports API: ask for an interim report (202), follow the job, download it (logged), the study's jobs
and download log; who may; bad input; the flow through a real Celery worker."""

import datetime
import hashlib
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.jobs import job_execute, job_request
from reports.models import Download, Job

from .conftest import api_for, wait_for

URL = "/api/v1/studies/NCT06379243/interim-reports/"


def _job(study, *, kind="test_report", actor=None, run=True):
    job = job_request(study=study, kind=kind, params={"language": "en"}, actor=actor, trigger="on_demand")
    if run:
        job_execute(job.pk)
    return Job.objects.get(pk=job.pk)


@pytest.mark.django_db(transaction=True)
def test_a_pi_asks_watches_and_downloads_through_a_real_worker(people, job_worker, gate):
    client = api_for(people["pi"], "zh-hans")
    answer = client.post(URL, {}, format="json")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert answer["Location"] == body["links"]["self"] == f"http://testserver/api/v1/jobs/{body['id']}/"
    # The job as it stands: queued, or running already when the worker took it before the answer was written.
    assert body["status"] in ("queued", "running") and body["links"]["download"] is None
    assert body["language"] == "zh-hans"  # the reader's language by default
    detail = f"/api/v1/jobs/{body['id']}/"

    # The worker reports its first step and waits at the gate: the progress is visible while it runs.
    running = wait_for(lambda: client.get(detail).json(), lambda job: job["steps_done"] == 1)
    assert (running["status"], running["step"], running["steps_total"]) == ("running", "first", 3)
    assert running["status_text"] == "运行中"  # the reader's language
    assert client.get(f"{detail}download/").status_code == 409  # not done yet
    (gate / f"job-{body['id']}").touch()
    done = wait_for(lambda: client.get(detail).json(), lambda job: job["status"] in ("done", "failed"))
    assert done["status"] == "done", done
    assert done["links"]["download"] == f"http://testserver{detail}download/"

    download = client.get(f"{detail}download/")
    assert download.status_code == 200
    content = b"".join(download.streaming_content)
    assert content == b"report of NCT06379243 in zh-hans\n"
    assert download["Content-Disposition"] == f'attachment; filename="report-{body["id"]}.txt"'
    assert hashlib.sha256(content).hexdigest() == done["file_sha256"]
    assert list(Download.objects.values_list("job_id", "user__username", "via")) == [
        (body["id"], "pi", "api")
    ]


@pytest.mark.django_db
def test_language_and_cut_are_kept_with_the_job(people, study, django_capture_on_commit_callbacks):
    cut = "2026-09-30T23:59:00+08:00"
    answer = api_for(people["data_manager"]).post(URL, {"language": "zh-hans", "cut": cut}, format="json")
    assert answer.status_code == 202, answer.content
    job = Job.objects.get(pk=answer.json()["id"])
    assert job.params == {"language": "zh-hans", "cut": "2026-09-30T15:59:00+00:00"}
    assert (job.kind, job.trigger, job.requested_by, job.status) == (
        "interim_report",
        "on_demand",
        people["data_manager"],
        "queued",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"language": "fr"}, "language", '"fr" is not a valid choice.'),
        ({"cut": "yesterday"}, "cut", "Datetime has wrong format."),
        ({"cut": "2999-01-01T00:00:00+08:00"}, "cut", "The data cut cannot be in the future."),
        # Year 1 overflows converting to UTC: a 400, not a 500. Before the study opened (2023-12-01): a 400.
        ({"cut": "0001-01-01T00:00:00+08:00"}, "cut", "Datetime value out of range."),
        ({"cut": "2023-11-30T23:00:00+08:00"}, "cut", "The data cut cannot be before the study opened"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(people, body, field, message):
    answer = api_for(people["pi"]).post(URL, body, format="json")
    assert answer.status_code == 400
    assert message in answer.json()[field][0]
    assert not Job.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("pi", 202),
        ("data_manager", 202),
        ("site_pi", 403),  # a report covers every site
        ("coordinator", 403),
        ("monitor", 403),
        ("adjudicator", 404),  # blinded: learns nothing, not even that the study has reports
    ],
)
def test_who_may_ask_read_and_download(people, study, who, status):
    client = api_for(people[who])
    assert client.post(URL, {"language": "en"}, format="json").status_code == status
    job = _job(study, actor=people["pi"])
    read = 200 if status == 202 else status
    assert client.get(f"/api/v1/jobs/{job.pk}/").status_code == read
    assert client.get(f"/api/v1/jobs/{job.pk}/download/").status_code == read
    assert client.get("/api/v1/studies/NCT06379243/jobs/").status_code == read
    log = {"data_manager": 200, "pi": 403}.get(who, status)
    assert client.get("/api/v1/studies/NCT06379243/downloads/").status_code == log
    assert Download.objects.count() == (1 if read == 200 else 0)


@pytest.mark.django_db
def test_an_unknown_study_or_job_is_a_404(people):
    client = api_for(people["pi"])
    assert client.post("/api/v1/studies/NOPE/interim-reports/", {}, format="json").status_code == 404
    assert client.get("/api/v1/jobs/999999/").status_code == 404


@pytest.mark.django_db
def test_a_failed_job_says_why_in_the_readers_language(people, study):
    crashed = _job(study, kind="test_crash")
    refused = _job(study, kind="test_refused")
    english = api_for(people["pi"]).get(f"/api/v1/jobs/{crashed.pk}/").json()
    chinese = api_for(people["pi"], "zh-hans").get(f"/api/v1/jobs/{crashed.pk}/").json()
    assert (english["status"], english["error_code"]) == ("failed", "internal")
    assert english["error"].startswith("The job stopped on an error in SpineTrial")
    assert chinese["error"] != english["error"] and "SpineTrial" in chinese["error"]
    assert "hunter2" not in english["error"] + chinese["error"]
    answer = api_for(people["pi"]).get(f"/api/v1/jobs/{refused.pk}/").json()
    assert (answer["error_code"], answer["error"]) == (
        "nothing_to_report",
        "Rien: the study has no data yet.",
    )
    assert api_for(people["pi"]).get(f"/api/v1/jobs/{refused.pk}/download/").status_code == 409
    assert not Download.objects.exists()


@pytest.mark.django_db
def test_a_job_stuck_running_reads_as_timed_out(people, study):
    job = _job(study, run=False)
    Job.objects.filter(pk=job.pk).update(
        status="running", started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    answer = api_for(people["pi"]).get(f"/api/v1/jobs/{job.pk}/").json()
    assert (answer["status"], answer["error_code"]) == ("failed", "timed_out")
    assert "30 minutes" in answer["error"]


@pytest.mark.django_db
def test_the_job_list_runs_the_same_queries_for_two_jobs_or_twelve(people, study, make_user):
    client = api_for(people["data_manager"])

    def listed() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get("/api/v1/studies/NCT06379243/jobs/")
        assert answer.status_code == 200
        return answer.json()["count"], len(queries)

    _job(study, actor=people["pi"])
    _job(study, kind="test_refused", actor=people["data_manager"])
    two = listed()
    for n in range(10):
        _job(study, actor=make_user(f"pi{n}", role="principal_investigator", study=study), run=n % 2 == 0)
    twelve = listed()
    assert (two[0], twelve[0]) == (2, 12)
    assert two[1] == twelve[1]


@pytest.mark.django_db
def test_the_download_log_lists_who_downloaded_what_and_when(people, study):
    job = _job(study)
    b"".join(api_for(people["pi"]).get(f"/api/v1/jobs/{job.pk}/download/").streaming_content)
    b"".join(api_for(people["data_manager"]).get(f"/api/v1/jobs/{job.pk}/download/").streaming_content)
    rows = api_for(people["data_manager"]).get("/api/v1/studies/NCT06379243/downloads/").json()["results"]
    assert [(row["job"], row["user"], row["via"], row["file_name"]) for row in rows] == [
        (job.pk, "dm", "api", job.file_name),
        (job.pk, "pi", "api", job.file_name),
    ]
    assert all(row["at"] for row in rows)


@pytest.mark.django_db
def test_the_schema_documents_the_endpoints(people):
    schema = api_for(people["pi"]).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert "/api/v1/studies/{code}/interim-reports/" in paths
    assert "202" in paths["/api/v1/studies/{code}/interim-reports/"]["post"]["responses"]
    assert {"/api/v1/jobs/{id}/", "/api/v1/jobs/{id}/download/", "/api/v1/studies/{code}/jobs/"} <= set(paths)
    assert "/api/v1/studies/{code}/downloads/" in paths


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "title"), [("en", "Interim report"), ("zh-hans", "期中报告")])
def test_the_real_report_through_a_real_worker(people, report_worker, language, title):
    client = api_for(people["pi"], language)
    answer = client.post(URL, {"language": language}, format="json")
    assert answer.status_code == 202, answer.content
    detail = f"/api/v1/jobs/{answer.json()['id']}/"
    done = wait_for(lambda: client.get(detail).json(), lambda job: job["status"] in ("done", "failed"))
    assert done["status"] == "done", done
    assert done["steps_done"] == done["steps_total"] == 8  # the cut, six sections, the drawing
    download = client.get(f"{detail}download/")
    content = b"".join(download.streaming_content)
    assert download["Content-Type"] == "application/pdf" and content.startswith(b"%PDF-")
    job = Job.objects.select_related("cut").get(pk=done["id"])
    text = subprocess.run(
        ["/usr/bin/pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    assert title in text and job.cut.sha256 in text
    assert done["dataset_sha256"] == job.cut.sha256 and done["data_cut"]
