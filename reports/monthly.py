"""The monthly interim report: on the 1st of each month the beat asks for each study's report, cut at that
moment, one job per language its principal investigators read, and each PI gets an e-mail with a link to
the job's page once it is done (the outbox: a link, never an attachment). The beat runs daily: a month whose
report failed (or was never started) is asked for again the next day.

Idempotent twice over: a study's month is planned once unless its job failed (the jobs are looked up by
period and language under the study's row lock), and a PI gets one message per job (the outbox key).
"""

import datetime
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from followup.messaging.channels import Outgoing
from followup.messaging.models import MessageKind, MessageState, OutboxMessage, StaffMessageSetting
from followup.messaging.notes import Note
from followup.messaging.staff import StaffMessageKind
from trial.models import Role, StaffRole, Study

from .jobs import job_state
from .models import Job, JobKind, JobStatus, JobTrigger
from .selectors import study_zone
from .services import interim_report_request

DEFAULT_LANGUAGE = StaffMessageSetting._meta.get_field("language").default


def _principal_investigators(study_id: int) -> dict[int, str]:
    """The study's study-wide principal investigators who can sign in, each with the language they read."""
    users = list(
        StaffRole.objects.filter(
            study_id=study_id,
            role=Role.PRINCIPAL_INVESTIGATOR,
            site__isnull=True,
            active=True,
            user__is_active=True,
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
    languages = dict(StaffMessageSetting.objects.filter(user_id__in=users).values_list("user_id", "language"))
    return {user: languages.get(user, DEFAULT_LANGUAGE) for user in users}


def monthly_reports_plan(*, now: datetime.datetime | None = None) -> dict:
    """Request this month's report of every study with a protocol and a PI: {study code: [job ids new]}."""
    now = now or timezone.now()
    planned = {}
    for study_id in (
        Study.objects.filter(current_version__isnull=False).order_by("code").values_list("pk", flat=True)
    ):
        planned.update(_plan_study(study_id, now))
    return planned


def _plan_study(study_id: int, now: datetime.datetime) -> dict[str, list[int]]:
    # Atomic, under the study's row lock: two beats (or a redelivered task) never plan the same month twice.
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study_id)
        readers = _principal_investigators(study_id)
        if not readers:
            return {}
        local = now.astimezone(study_zone(study_id))
        period = f"{local:%Y-%m}"
        # The cut is the planning moment, not the month's midnight hours before: captured at its own time,
        # the cut holds the data as they were then (reports/dataset.py), and both languages share it.
        cut = now.replace(microsecond=0)
        # Asked for already this month, unless it failed (or reads as failed: stuck queued or running).
        done = {
            job.params.get("language")
            for job in Job.objects.filter(
                study=study, kind=JobKind.INTERIM_REPORT, trigger=JobTrigger.MONTHLY, params__period=period
            )
            if job_state(job, now=now).status != JobStatus.FAILED
        }
        new = []
        for language in sorted(set(readers.values()) - done):
            notify = [user for user, read in readers.items() if read == language]
            job = interim_report_request(
                study=study,
                actor=None,
                language=language,
                cut=cut,
                trigger=JobTrigger.MONTHLY,
                extra_params={"period": period, "notify": notify},
            )
            new.append(job.pk)
    return {study.code: new}


def report_ready_plan(job: Job) -> None:
    """A monthly job is done: one e-mail to each PI it was built for, with the link (one per PI per job: the
    key). Called inside the transaction that marks it done (reports.jobs.JOB_FINISHED)."""
    if job.trigger != JobTrigger.MONTHLY:
        return
    now = timezone.now()
    rows = [
        OutboxMessage(
            key=f"{MessageKind.REPORT_READY}:u{user_id}:j{job.pk}",
            kind=MessageKind.REPORT_READY,
            channel="email",
            recipient_id=user_id,
            step=str(job.pk),
            language=job.params.get("language") or DEFAULT_LANGUAGE,
            state=MessageState.PENDING,
            due_at=now,
        )
        for user_id in job.params.get("notify", [])
    ]
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)


def _job_of(message: OutboxMessage) -> Job | None:
    return Job.objects.select_related("study").filter(pk=int(message.step or 0)).first()


def report_ready_no_longer_applies(message: OutboxMessage) -> Note | None:
    """Why the link must not go now: the PI left, has no address, or is no longer a PI of the study."""
    user = get_user_model().objects.filter(pk=message.recipient_id).first()
    if user is None or not user.is_active:
        return Note("account_inactive")
    if not user.email:
        return Note("no_contact", {"channel": "email"})
    job = _job_of(message)
    still = StaffRole.objects.filter(
        user=user,
        study_id=job.study_id if job else None,
        role=Role.PRINCIPAL_INVESTIGATOR,
        site__isnull=True,
        active=True,
    )
    if job is None or not still.exists():
        return Note("no_role")
    return None


def report_ready_zone(message: OutboxMessage) -> zoneinfo.ZoneInfo:
    job = _job_of(message)
    return study_zone(job.study_id) if job else zoneinfo.ZoneInfo("UTC")


def report_ready_compose(message: OutboxMessage) -> Outgoing:
    """The e-mail: which report, at which cut, and the link to its page (the file is downloaded there, by a
    signed-in PI: never attached)."""
    job = _job_of(message)
    user = get_user_model().objects.get(pk=message.recipient_id)
    link = f"{settings.PUBLIC_BASE_URL.rstrip('/')}{reverse('report-job', args=[job.pk])}"
    cut = job.params.get("cut") or ""
    with translation.override(message.language):
        subject = _("SpineTrial: the interim report of %(study)s for %(period)s is ready") % {
            "study": job.study.code,
            "period": job.params.get("period", ""),
        }
        body = render_to_string(
            "reports/report_ready.txt",
            {
                "job": job,
                "link": link,
                "cut": datetime.datetime.fromisoformat(cut) if cut else None,
                "zone": str(study_zone(job.study_id)),
            },
        )
    return Outgoing(key=message.key, channel="email", to=user.email, subject=subject, body=body)


REPORT_READY_MESSAGES = StaffMessageKind(
    compose=report_ready_compose, no_longer_applies=report_ready_no_longer_applies, zone=report_ready_zone
)
