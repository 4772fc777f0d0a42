"""The job machinery: one model (reports.Job) for every report and export the worker builds.

- **Runners.** A kind of job is a runner registered here: `runner(job, progress) -> JobOutput`. The interim
  report registers itself in ReportsConfig.ready(); the exports register theirs the same way. The runner calls
  `progress(step_code, steps_done, steps_total)` as it goes; each call is saved at once (outside any
  transaction of the runner's: call it between them), so the page and the API see it while it runs.
- **Request.** `job_request` creates a queued job and queues the task once the transaction commits; the task
  receives the id.
- **Run.** `job_execute` (the task `reports.job_run`) runs a queued job only: a job in any other state is
  left alone, so a redelivered task does nothing. The file is stored once with its SHA-256 and size (the
  database refuses to change it afterwards). A DomainError fails the job with its code and message; any other
  exception fails it as "internal", logged for the administrators, never shown.
- **Timed out.** The task has a time limit (JOB_TIME_LIMIT). A job the limit stopped is marked failed
  ("timed_out"); one left `running` by a worker that died is shown failed, timed out, by every read once its
  start is older than the limit (`job_state`). Reads never write: the row itself stays as the worker left it.
"""

import contextlib
import datetime
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from trial.errors import DomainError, InvalidInput

from .models import Job, JobStatus, JobTrigger

logger = logging.getLogger(__name__)

# A report at 56,000 participants takes minutes (bench); ten times that is a stuck job, not a slow one.
JOB_TIME_LIMIT = datetime.timedelta(minutes=30)
# The soft limit leaves the task a minute to record its failure before the hard one kills it.
JOB_SOFT_TIME_LIMIT = JOB_TIME_LIMIT - datetime.timedelta(minutes=1)

# A job waits behind at most a few others on the one queue; twice the time limit unstarted means lost.
JOB_QUEUED_LIMIT = 2 * JOB_TIME_LIMIT

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class JobOutput:
    """What a runner made: the bytes (or a path to a file it wrote), the name offered to the downloader, the
    MIME type, and the data cut it was built from (None for a job without one)."""

    content: bytes | Path
    file_name: str
    content_type: str
    cut_id: int | None = None
    remove_after: bool = False  # a temporary file (and its directory, once empty), removed once stored


Runner = Callable[[Job, Progress], JobOutput]
JOB_RUNNERS: dict[str, Runner] = {}


def job_runner_register(kind: str, runner: Runner, *, replace: bool = False) -> None:
    """Declare the runner of `kind`. The same runner again is a no-op (ready() may run twice); another one
    for a taken kind is a bug unless `replace` (a test's stand-in)."""
    taken = JOB_RUNNERS.get(kind)
    if taken is not None and taken is not runner and not replace:
        raise ValueError(f"job kind {kind!r} has a runner already")
    JOB_RUNNERS[kind] = runner


# Why a job failed, in the reader's language, by error code. A code not here shows the message the runner's
# DomainError carried (written in the job's language, stored in error_params["message"]).
JOB_ERROR_TEXTS: dict[str, Callable[[dict], str]] = {
    "internal": lambda p: _(
        "The job stopped on an error in SpineTrial. It was logged for the administrators; try again later or "
        "tell them."
    ),
    "timed_out": lambda p: (
        _("The job took longer than %(minutes)s minutes and was stopped.") % {"minutes": p.get("minutes", "")}
    ),
    "not_started": lambda p: _(
        "The job was never started: the worker did not receive it. Ask for the report again."
    ),
    "unknown_kind": lambda p: (
        _("This kind of job cannot be built here (%(kind)s).") % {"kind": p.get("kind")}
    ),
}


def job_request(*, study, kind: str, params: dict, actor, trigger: str) -> Job:
    """Create a queued job and queue its run after the commit. Who may ask is the caller's check
    (reports.access); the kind must have a runner (else a 400)."""
    if kind not in JOB_RUNNERS:
        raise InvalidInput(
            _("Unknown kind of job."),
            field_errors={"kind": [_("Unknown kind of job: %(kind)s.") % {"kind": kind}]},
        )
    if trigger not in JobTrigger.values:
        raise InvalidInput(_("Unknown trigger: %(trigger)s.") % {"trigger": trigger})
    # Atomic so that a job row never exists without its task queued, nor a task without its row (on_commit).
    with transaction.atomic():
        job = Job.objects.create(
            study=study,
            kind=kind,
            params=params,
            trigger=trigger,
            requested_by=actor,
            status=JobStatus.QUEUED,
        )
        transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id: int) -> None:
    """Hand the job to the worker. The request has committed: a broker that is down must not turn it into an
    error page; the job stays queued and reads as not started after JOB_QUEUED_LIMIT (job_state)."""
    from .tasks import job_run

    try:
        job_run.delay(job_id)
    except Exception:
        logger.exception("job %s could not be queued", job_id)


# --- the run (the task's body) ------------------------------------------------------------------------------


def job_execute(job_id: int) -> str:
    """Run a queued job to its end; its final status. A job not queued is left alone (its status)."""
    job = _claim(job_id)
    if job is None:
        return Job.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"
    runner = JOB_RUNNERS.get(job.kind)
    if runner is None:
        return _fail(job, "unknown_kind", {"kind": job.kind})
    try:
        with translation.override(job.params.get("language") or "en"):
            output = runner(job, _progress_of(job.pk))
    except DomainError as refused:
        params = {
            "message": refused.message,
            **{k: str(v) for k, v in getattr(refused, "params", {}).items()},
        }
        return _fail(job, refused.code, params)
    except _time_limit() as stopped:
        logger.warning("job %s stopped at its time limit: %s", job.pk, type(stopped).__name__)
        return _fail(job, "timed_out", {"minutes": str(int(JOB_TIME_LIMIT.total_seconds() // 60))})
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        return _fail(job, "internal", {})
    try:
        return _store(job.pk, output)
    except Exception:  # the storage or a finished-job hook: the job must not stay running
        logger.exception("job %s (%s) could not be stored", job.pk, job.kind)
        return _fail(job, "internal", {})
    finally:
        if output.remove_after and isinstance(output.content, Path):
            _remove(output.content)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: something else of the runner's is there
        path.parent.rmdir()


def _time_limit() -> type[BaseException]:
    from celery.exceptions import SoftTimeLimitExceeded

    return SoftTimeLimitExceeded


def _claim(job_id: int) -> Job | None:
    """Mark a queued job running (under its row lock, so two deliveries never both run it); None if it was
    not queued."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED:
            return None
        job.status, job.started_at = JobStatus.RUNNING, timezone.now()
        job.save(update_fields=["status", "started_at"])
    return job


def _progress_of(job_id: int) -> Progress:
    def progress(step: str, steps_done: int, steps_total: int) -> None:
        values = (str(step)[:32], max(0, int(steps_done)), max(0, int(steps_total)))
        # Seen by the page's next poll while the runner goes on: an UPDATE committed at once. A runner inside
        # its own transaction (an export reads one snapshot) would hold it, and the job's row lock, to its
        # end; there the UPDATE goes through a connection of its own.
        if connection.in_atomic_block and _progress_elsewhere(job_id, *values):
            return
        Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            step=values[0], steps_done=values[1], steps_total=values[2]
        )

    return progress


def _progress_elsewhere(job_id: int, step: str, steps_done: int, steps_total: int) -> bool:
    """The progress written and committed on a short-lived second connection; False when it found no
    running job there, or the row locked (a job the caller's transaction created or changed, not yet
    committed, as in the tests): the caller then writes it in its own transaction."""
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            # SKIP LOCKED: a row the caller's own transaction holds (it changed the job) would wait for that
            # transaction forever; it is left to the caller, who sees it.
            table = Job._meta.db_table
            cursor.execute(
                f"UPDATE {table} SET step = %s, steps_done = %s, steps_total = %s WHERE id = ("  # noqa: S608
                f"SELECT id FROM {table} WHERE id = %s AND status = %s FOR UPDATE SKIP LOCKED)",
                [step, steps_done, steps_total, job_id, str(JobStatus.RUNNING)],
            )
            updated = cursor.rowcount
        other.commit()
    finally:
        other.close()
    return updated == 1


def _store(job_id: int, output: JobOutput) -> str:
    """Write the file once, with its SHA-256 and size, and mark the job done; then what a finished job of its
    trigger calls for (the monthly report's link to the PIs)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != JobStatus.RUNNING or job.file:
            return job.status
        if isinstance(output.content, Path):
            digest, size = _hash_file(output.content)
            with output.content.open("rb") as source:
                job.file.save(output.file_name, File(source), save=False)
        else:
            digest, size = hashlib.sha256(output.content).hexdigest(), len(output.content)
            job.file.save(output.file_name, ContentFile(output.content), save=False)
        job.file_name, job.content_type = output.file_name[:200], output.content_type[:100]
        job.file_sha256, job.file_size = digest, size
        if output.cut_id is not None:
            job.cut_id = output.cut_id
        job.status, job.finished_at = JobStatus.DONE, timezone.now()
        job.steps_done = job.steps_total
        job.save(
            update_fields=[
                "file",
                "file_name",
                "content_type",
                "file_sha256",
                "file_size",
                "cut",
                "status",
                "finished_at",
                "steps_done",
            ]
        )
        for finished in JOB_FINISHED:
            finished(job)
    return JobStatus.DONE


# Called with a job just done, inside the transaction that marks it (reports.monthly: the PIs' link).
JOB_FINISHED: list[Callable[[Job], None]] = []


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _fail(job: Job, code: str, params: dict) -> str:
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, error_code=code[:64], error_params=params, finished_at=timezone.now()
    )
    return JobStatus.FAILED


# --- reading a job ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobState:
    status: str
    error_code: str
    error_params: dict

    @property
    def status_text(self) -> str:
        return str(JobStatus(self.status).label)

    @property
    def error(self) -> str:
        """Why it failed, in the active language ("" unless failed)."""
        if self.status != JobStatus.FAILED:
            return ""
        text = JOB_ERROR_TEXTS.get(self.error_code)
        if text is not None:
            return text(self.error_params)
        return self.error_params.get("message") or self.error_code


def job_state(job: Job, *, now: datetime.datetime | None = None) -> JobState:
    """The job's status as readers see it: a job still `running` past the time limit was stopped with its
    worker (a crash the task could not record) and reads as failed, timed out."""
    now = now or timezone.now()
    if job.status == JobStatus.RUNNING and job.started_at and job.started_at < now - JOB_TIME_LIMIT:
        return JobState(
            JobStatus.FAILED, "timed_out", {"minutes": str(int(JOB_TIME_LIMIT.total_seconds() // 60))}
        )
    # Never picked up in that long: its task was lost (the broker was down when it was queued, or the
    # queue was purged). Asking again is the remedy; the monthly planner does so itself.
    if job.status == JobStatus.QUEUED and job.created_at < now - JOB_QUEUED_LIMIT:
        return JobState(JobStatus.FAILED, "not_started", {})
    return JobState(job.status, job.error_code, job.error_params)
