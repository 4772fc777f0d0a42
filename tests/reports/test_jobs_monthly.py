"""The monthly interim report: the beat's schedule, one job per language the study's PIs read (once a month),
and when a job is done one e-mail per PI with a link to its page (never an attachment), sent by the outbox
dispatcher through a real SMTP server."""

import datetime
import importlib
import zoneinfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django_celery_beat.models import PeriodicTask

from followup.messaging.dispatch import outbox_dispatch
from followup.messaging.models import OutboxMessage, StaffMessageSetting
from reports.jobs import job_execute
from reports.models import Job
from reports.monthly import report_ready_plan
from reports.tasks import monthly_reports_task
from trial.models import Role

from .conftest import api_for

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(text: str):
    return time_machine.travel(datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def pis(people, make_user, study):
    english = people["pi"]  # pi@example.invalid
    StaffMessageSetting.objects.create(user=english, language="en")
    chinese = make_user("pi_zh", role=Role.PRINCIPAL_INVESTIGATOR, study=study, email="zh@example.invalid")
    no_address = make_user("pi_none", role=Role.PRINCIPAL_INVESTIGATOR, study=study)
    return {"en": english, "zh": chinese, "none": no_address}


def test_the_beat_runs_the_monthly_task_on_the_first_of_the_month():
    # A transactional test run before this one empties every table, the migration's rows with them: put
    # back by the migration's own step (idempotent), so that the test does not depend on its order.
    importlib.import_module("reports.migrations.0002_monthly_report_schedule").create(django_apps, None)
    task = PeriodicTask.objects.get(task="reports.monthly_reports")
    assert (task.crontab.day_of_month, task.crontab.hour, task.crontab.minute) == ("*", "6", "0")
    assert task.enabled and monthly_reports_task.name == "reports.monthly_reports"


def test_one_job_per_language_once_a_month_at_the_months_start(pis, study):
    with at("2027-02-01 06:00"):
        planned = monthly_reports_task()
        assert monthly_reports_task() == {"NCT06379243": []}  # the month is planned already
    jobs = {job.params["language"]: job for job in Job.objects.all()}
    assert sorted(planned["NCT06379243"]) == sorted(job.pk for job in jobs.values())
    assert set(jobs) == {"en", "zh-hans"}
    for job in jobs.values():
        assert (job.kind, job.trigger, job.requested_by, job.status) == (
            "interim_report",
            "monthly",
            None,
            "queued",
        )
        assert job.params["cut"] == "2027-01-31T22:00:00+00:00"  # 1 Feb 06:00 at the study's clock
        assert job.params["period"] == "2027-02"
    assert jobs["en"].params["notify"] == [pis["en"].pk]
    assert jobs["zh-hans"].params["notify"] == sorted([pis["zh"].pk, pis["none"].pk])
    with at("2027-03-01 06:00"):
        assert len(monthly_reports_task()["NCT06379243"]) == 2  # a new month, new jobs


def test_a_study_without_a_principal_investigator_gets_no_job(study, people):
    people["pi"].trial_roles.update(active=False)
    with at("2027-02-01 06:00"):
        assert monthly_reports_task() == {}
    assert not Job.objects.exists()


def test_each_pi_gets_a_link_once_by_email_in_their_language(pis, study, fake_interim, smtp_server):
    with at("2027-02-01 06:00"):
        monthly_reports_task()
        for job in Job.objects.all():
            assert job_execute(job.pk) == "done"
            report_ready_plan(Job.objects.get(pk=job.pk))  # again: nothing new (the outbox key)
    jobs = {job.params["language"]: job for job in Job.objects.all()}
    messages = OutboxMessage.objects.filter(kind="report_ready")
    assert sorted(messages.values_list("key", flat=True)) == sorted(
        [
            f"report_ready:u{pis['en'].pk}:j{jobs['en'].pk}",
            f"report_ready:u{pis['zh'].pk}:j{jobs['zh-hans'].pk}",
            f"report_ready:u{pis['none'].pk}:j{jobs['zh-hans'].pk}",
        ]
    )
    with at("2027-02-01 06:05"):
        assert outbox_dispatch().outcomes == {"cancelled": 1, "held": 2}  # quiet hours until 08:00
    with at("2027-02-01 08:00"):
        assert outbox_dispatch().outcomes == {"sent": 2}
    assert messages.get(recipient=pis["none"]).note_code == "no_contact"
    mails = {mail.rcpt_tos[0]: mail for mail in smtp_server.wait_for(2)}
    english, chinese = mails["pi@example.invalid"], mails["zh@example.invalid"]
    assert english.message["Subject"] == "SpineTrial: the interim report of NCT06379243 for 2027-02 is ready"
    assert f"http://127.0.0.1:8000/reports/jobs/{jobs['en'].pk}/" in english.body
    assert "Data cut: 2027-02-01 06:00 (Asia/Shanghai)." in english.body
    assert "中期报告已生成" in chinese.message["Subject"]
    assert f"/reports/jobs/{jobs['zh-hans'].pk}/" in chinese.body
    for mail in (english, chinese):
        assert not mail.message.is_multipart()  # a link, never an attachment
    # The PI finds the message in the outbox API (their own staff messages).
    listed = api_for(pis["en"]).get("/api/v1/messages/?kind=report_ready").json()["results"]
    assert [(row["recipient"], row["state"]) for row in listed] == [("pi", "sent")]


def test_a_pi_who_left_the_study_gets_no_link(pis, study, fake_interim, smtp_server):
    with at("2027-02-01 06:00"):
        monthly_reports_task()
        job = Job.objects.get(params__language="en")
        job_execute(job.pk)
    pis["en"].trial_roles.update(active=False)
    with at("2027-02-01 09:00"):
        assert outbox_dispatch().outcomes == {"cancelled": 1}
    assert OutboxMessage.objects.get(kind="report_ready").note_code == "no_role"


def test_an_on_demand_job_sends_no_message(people, study, fake_interim):
    from reports.services import interim_report_request

    job = interim_report_request(study=study, actor=people["pi"], language="en")
    job_execute(job.pk)
    assert not OutboxMessage.objects.exists()


def test_a_month_whose_report_failed_is_asked_for_again_the_next_day(pis, study):
    with at("2027-02-01 06:00"):
        first = monthly_reports_task()["NCT06379243"]
    Job.objects.filter(pk__in=first).update(status="failed", error_code="internal")
    with at("2027-02-02 06:00"):
        again = monthly_reports_task()["NCT06379243"]
    assert len(again) == 2 and not set(again) & set(first)
    with at("2027-02-02 06:30"):
        assert monthly_reports_task() == {"NCT06379243": []}  # queued, not failed: nothing new
    # A job never started (its task lost) reads as failed once it has waited twice the time limit (1 h).
    with at("2027-02-02 07:01"):
        assert len(monthly_reports_task()["NCT06379243"]) == 2
