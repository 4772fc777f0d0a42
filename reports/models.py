"""Jobs (a report or an export built by the worker), the data cuts they are built from, and the log of
every download.

A job's file and a data cut's content are written once: the database refuses to change them afterwards and
refuses to delete either row (triggers), so a stored report is never overwritten or deleted and a cut's hash
always describes the bytes beside it.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobKind(models.TextChoices):
    INTERIM_REPORT = "interim_report", _("interim report")
    EXPORT = "export", _("export")
    ACCURACY_REPORT = "accuracy_report", _("accuracy report")
    RISK_MODEL_DEVELOP = "risk_model_develop", _("risk model development")
    RISK_MODEL_VALIDATE = "risk_model_validate", _("risk model validation")
    RISK_MODEL_REPORT = "risk_model_report", _("risk model report")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class JobTrigger(models.TextChoices):
    ON_DEMAND = "on_demand", _("on demand")
    MONTHLY = "monthly", _("monthly (scheduled)")
    COMMAND = "command", _("command line")


def _write_once(name: str, fields: list[str]) -> pgtrigger.Trigger:
    """Refuse to change these columns once they hold a value."""
    changed = " OR ".join(
        f"(OLD.{field} IS NOT NULL AND OLD.{field}::text <> '' AND NEW.{field} IS DISTINCT FROM OLD.{field})"
        for field in fields
    )
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        func=f"IF {changed} THEN RAISE EXCEPTION '% is written once', TG_TABLE_NAME; END IF; RETURN NEW;",
    )


class DataCut(models.Model):
    """The dataset of a study as it stood at a cut: a canonical serialisation (sorted keys, ordered rows,
    gzip-compressed here) and the SHA-256 of the uncompressed bytes. Captured once per (study, time)."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="data_cuts")
    cut_at = models.DateTimeField(_("data cut"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content = models.BinaryField(editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    protocol_version = models.CharField(_("protocol version"), max_length=32)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("data cut")
        verbose_name_plural = _("data cuts")
        ordering = ["-cut_at"]
        constraints = [models.UniqueConstraint(fields=["study", "cut_at"], name="data_cut_per_time")]
        triggers = [
            pgtrigger.Protect(name="data_cut_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(name="data_cut_no_update", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"{self.study_id} cut {self.cut_at:%Y-%m-%d %H:%M} {self.sha256[:12]}"


class Job(models.Model):
    """One report or export, requested by a person (or the beat), built by the worker."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="jobs")
    kind = models.CharField(_("kind"), max_length=32, choices=JobKind.choices)
    trigger = models.CharField(_("requested"), max_length=16, choices=JobTrigger.choices)
    # What was asked: the language, the cut asked for (None: the time of the request), the format...
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # Progress, step by step: the current step's code, and steps done out of the total.
    step = models.CharField(_("step"), max_length=32, blank=True)
    steps_done = models.PositiveSmallIntegerField(default=0)
    steps_total = models.PositiveSmallIntegerField(default=0)
    # Why it failed, as a code and parameters read in the reader's language (never a traceback).
    error_code = models.CharField(_("error"), max_length=64, blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    cut = models.ForeignKey(DataCut, on_delete=models.PROTECT, related_name="jobs", null=True, blank=True)
    file = models.FileField(_("file"), upload_to="jobs/%Y/%m/", blank=True, max_length=255)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["study", "kind", "-created_at"], name="job_study_kind")]
        triggers = [
            pgtrigger.Protect(name="job_no_delete", operation=pgtrigger.Delete),
            _write_once("job_file_written_once", ["file", "file_sha256", "cut_id"]),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} {self.status}"


class Download(models.Model):
    """Who downloaded which job's file, when. Append-only (triggers)."""

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("downloaded at"), auto_now_add=True)
    via = models.CharField(_("via"), max_length=8)  # page or api

    class Meta:
        verbose_name = _("download")
        verbose_name_plural = _("downloads")
        ordering = ["-at", "-id"]
        triggers = [
            pgtrigger.Protect(name="download_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(name="download_no_update", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"download of job {self.job_id} by {self.user_id}"


from .indextests.models import (  # noqa: E402, F401 -- the index tests' models, in a module of their own
    AnalysedImport,
    AnalysisLock,
    DatasetSplit,
    ModelImport,
    ModelOutput,
    OutputKind,
)
from .riskmodel.models import (  # noqa: E402, F401 -- the risk models, in a module of their own
    CohortSource,
    RiskModel,
    RiskModelState,
    RiskValidation,
)
