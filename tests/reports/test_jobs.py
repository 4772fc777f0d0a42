"""The job machinery (reports/jobs.py), run in this process: the task's body on a queued job, progress,
the file stored once, failures with their reason, a job stuck past the time limit, the registry."""

import datetime
import hashlib
import logging

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.utils import timezone, translation

from reports.jobs import JOB_RUNNERS, JobOutput, job_execute, job_request, job_runner_register, job_state
from reports.models import Job
from reports.tasks import job_run
from trial.errors import InvalidInput

from . import runners

pytestmark = pytest.mark.django_db


def _request(study, kind="test_report", language="en", actor=None):
    return job_request(
        study=study, kind=kind, params={"language": language}, actor=actor, trigger="on_demand"
    )


def test_a_request_queues_the_task_with_the_id_once_committed(
    study, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(job_run, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = _request(study)
    assert job.status == "queued" and sent == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert sent == [(job.pk,)]


def test_an_unknown_kind_is_refused(study):
    with pytest.raises(InvalidInput) as refused:
        _request(study, kind="nope")
    assert "kind" in refused.value.field_errors
    assert not Job.objects.exists()


def test_a_job_runs_in_its_language_and_stores_its_file_once_with_its_hash(study):
    job = _request(study, language="zh-hans")
    seen = []

    def watching(job_, progress):
        def spy(step, done, total):
            progress(step, done, total)
            seen.append(
                Job.objects.values_list("status", "step", "steps_done", "steps_total").get(pk=job_.pk)
            )

        return runners.test_report(job_, spy)

    JOB_RUNNERS["test_watch"] = watching
    try:
        Job.objects.filter(pk=job.pk).update(kind="test_watch")
        assert job_execute(job.pk) == "done"
    finally:
        del JOB_RUNNERS["test_watch"]
    # Each step was saved as it came: a reader saw it while the job ran.
    assert seen == [("running", "first", 1, 3), ("running", "second", 2, 3), ("running", "third", 3, 3)]
    job.refresh_from_db()
    content = job.file.read()
    assert content == f"report of {study.code} in zh-hans\n".encode()
    assert job.file_sha256 == hashlib.sha256(content).hexdigest() and job.file_size == len(content)
    assert (job.file_name, job.content_type, job.status) == (f"report-{job.pk}.txt", "text/plain", "done")
    assert job.started_at <= job.finished_at


def test_a_second_delivery_leaves_the_job_alone(study):
    job = _request(study)
    assert job_execute(job.pk) == "done"
    job.refresh_from_db()
    name, finished = job.file.name, job.finished_at
    assert job_execute(job.pk) == "done"  # redelivered: not queued, nothing runs
    job.refresh_from_db()
    assert (job.file.name, job.finished_at) == (name, finished)
    assert job_execute(987654) == "missing"


def test_the_database_refuses_to_overwrite_a_stored_file(study):
    job = _request(study)
    job_execute(job.pk)
    with pytest.raises(DatabaseError, match="written once"), transaction.atomic():
        Job.objects.filter(pk=job.pk).update(file="jobs/other.pdf")
    with pytest.raises(DatabaseError, match="written once"), transaction.atomic():
        Job.objects.filter(pk=job.pk).update(file_sha256="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        Job.objects.filter(pk=job.pk).delete()


def test_a_refused_job_fails_with_its_code_and_message(study):
    job = _request(study, kind="test_refused")
    assert job_execute(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error_code == "nothing_to_report"
    assert job_state(job).error == "Rien: the study has no data yet."
    assert not job.file and job.finished_at is not None


def test_a_crash_fails_as_internal_logged_never_shown(study, caplog):
    job = _request(study, kind="test_crash")
    with caplog.at_level(logging.ERROR, logger="reports.jobs"):
        assert job_execute(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error_code == "internal" and job.error_params == {}
    assert "hunter2" in caplog.text  # logged for the administrators...
    with translation.override("zh-hans"):
        shown = job_state(job).error
    assert "hunter2" not in shown and "secret" not in shown  # ...never shown
    assert "SpineTrial" in shown


def test_a_job_left_running_past_the_time_limit_reads_as_timed_out(study):
    job = _request(study)
    start = timezone.now()
    Job.objects.filter(pk=job.pk).update(status="running", started_at=start)
    job.refresh_from_db()
    with time_machine.travel(start + datetime.timedelta(minutes=29), tick=False):
        assert job_state(job).status == "running"
    with time_machine.travel(start + datetime.timedelta(minutes=31), tick=False):
        state = job_state(job)
    assert (state.status, state.error_code) == ("failed", "timed_out")
    assert "30 minutes" in state.error
    assert Job.objects.get(pk=job.pk).status == "running"  # a read never writes


def test_the_registry_refuses_a_second_runner_for_a_kind():
    def other(job, progress):
        return JobOutput(b"", "x", "text/plain")

    job_runner_register("test_report", runners.test_report)  # the same again: a no-op
    with pytest.raises(ValueError, match="has a runner already"):
        job_runner_register("test_report", other)
    assert JOB_RUNNERS["test_report"] is runners.test_report


def test_the_interim_report_and_the_report_ready_message_are_registered_at_start_up():
    from followup.messaging.staff import STAFF_MESSAGE_KINDS

    assert JOB_RUNNERS["interim_report"].__module__ == "reports.apps"
    assert STAFF_MESSAGE_KINDS["report_ready"].compose.__module__ == "reports.monthly"
    assert {"digest_daily", "digest_weekly"} <= set(STAFF_MESSAGE_KINDS)


def test_a_path_output_is_stored_and_hashed(study, tmp_path):
    built = tmp_path / "big.bin"
    built.write_bytes(b"x" * 3_000_000)

    def from_path(job, progress):
        return JobOutput(content=built, file_name="big.bin", content_type="application/octet-stream")

    JOB_RUNNERS["test_path"] = from_path
    try:
        job = _request(study, kind="test_path")
        assert job_execute(job.pk) == "done"
    finally:
        del JOB_RUNNERS["test_path"]
    job.refresh_from_db()
    assert job.file_size == 3_000_000
    assert job.file_sha256 == hashlib.sha256(built.read_bytes()).hexdigest()


def test_the_real_interim_report_runs_as_a_job(people, study):
    """Once reports/interim.py (the lead's) lands: its registered runner builds a PDF through the jobs."""
    from reports.services import interim_report_request

    job = interim_report_request(study=study, actor=people["pi"], language="zh-hans")
    assert job_execute(job.pk) == "done", Job.objects.get(pk=job.pk).error_params
    job.refresh_from_db()
    assert job.file.read(5) == b"%PDF-" and job.content_type == "application/pdf"
    assert job.steps_total > 0 and job.steps_done == job.steps_total
