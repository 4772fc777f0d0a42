"""Risk models of a study's primary endpoint: developed by a job, then frozen, then validated on other
cohorts.

A model row is made by its development job (never by hand) and holds what the job computed: the model JSON
(coefficients, transformations, hashes: the contract in README.md), the development result (the report's
figures), the specification's text and SHA-256, the data cut's SHA-256 and time, and the seed, resamples and
imputations that reproduce it. None of these change afterwards (a trigger refuses it); once frozen, nothing of
the row changes at all. Validations are rows of their own, each made by its job, never changed.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trial.audit import audited

from ..models import Job, _write_once


class RiskModelState(models.TextChoices):
    DEVELOPED = "developed", _("developed")
    FROZEN = "frozen", _("frozen")


class CohortSource(models.TextChoices):
    STUDY = "study", _("another study")
    LATER_CUT = "later_cut", _("a later data cut (temporal)")
    IMPORT = "import", _("an imported dataset")


# What a model keeps of its development, unchanged from the job that made it (frozen or not).
DEVELOPED_FIELDS = [
    "model",
    "result",
    "spec_text",
    "spec_sha256",
    "cut_sha256",
    "cut_at",
    "seed",
    "resamples",
    "imputations",
    "job_id",
]


@audited()
class RiskModel(models.Model):
    """One developed prediction model of the study's primary endpoint (TRIPOD+AI)."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="risk_models")
    name = models.CharField(_("name"), max_length=120)
    # The specification file the model was developed from (trial/protocols/models/), its text and hash.
    spec_file = models.CharField(_("specification file"), max_length=200)
    spec_code = models.CharField(_("specification"), max_length=120)
    spec_version = models.CharField(_("specification version"), max_length=32)
    spec_text = models.TextField(_("specification text"))
    spec_sha256 = models.CharField(_("specification SHA-256"), max_length=64)
    model_type = models.CharField(_("model type"), max_length=16)  # logistic or cox (the model JSON's)
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="risk_model")
    cut_sha256 = models.CharField(_("data cut SHA-256"), max_length=64)
    cut_at = models.DateTimeField(_("data cut"), null=True, blank=True)
    seed = models.BigIntegerField(_("seed"))
    resamples = models.PositiveIntegerField(_("bootstrap resamples"))
    imputations = models.PositiveSmallIntegerField(_("imputations"))
    model = models.JSONField(_("model"))
    result = models.JSONField(_("development result"))
    # Copied from the result when the model is made, for the lists (which never read the JSON).
    c_apparent = models.FloatField(_("C-statistic (apparent)"), null=True, blank=True)
    c_corrected = models.FloatField(_("C-statistic (optimism-corrected)"), null=True, blank=True)
    analysed = models.PositiveIntegerField(_("participants analysed"), null=True, blank=True)
    outcome_events = models.PositiveIntegerField(_("events"), null=True, blank=True)
    developed_at = models.DateTimeField(_("developed at"))
    developed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        _("state"), max_length=16, choices=RiskModelState.choices, default=RiskModelState.DEVELOPED
    )
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    frozen_by_name = models.CharField(_("signed by"), max_length=150, blank=True)  # printed name, 11.50
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("risk model")
        verbose_name_plural = _("risk models")
        ordering = ["-developed_at", "-id"]
        indexes = [models.Index(fields=["study", "-developed_at"], name="risk_model_study")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="developed")
                | models.Q(frozen_at__isnull=False, frozen_by__isnull=False),
                name="risk_model_frozen_signed",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="risk_model_no_delete", operation=pgtrigger.Delete),
            _write_once("risk_model_developed_once", DEVELOPED_FIELDS),
            # Frozen: the row is what was frozen, every column of it, for good.
            pgtrigger.Protect(
                name="risk_model_frozen_no_update",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__state="frozen"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"

    @property
    def frozen(self) -> bool:
        return self.state == RiskModelState.FROZEN


@audited()
class RiskValidation(models.Model):
    """One validation of a frozen model on a cohort: another study, a later data cut of the model's own study,
    or an imported dataset. Made by its job; never changed or deleted."""

    risk_model = models.ForeignKey(RiskModel, on_delete=models.PROTECT, related_name="validations")
    source = models.CharField(_("cohort"), max_length=16, choices=CohortSource.choices)
    cohort_study = models.ForeignKey(
        "trial.Study", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cut_sha256 = models.CharField(_("data SHA-256"), max_length=64)  # the cut's, or the imported file's
    cut_at = models.DateTimeField(_("data cut"), null=True, blank=True)
    # A later cut: the participants enrolled after this time (the model's cut) only; None: the whole study.
    enrolled_after = models.DateTimeField(_("enrolled after"), null=True, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    result = models.JSONField(_("validation result"))
    c = models.FloatField(_("C-statistic"), null=True, blank=True)  # copied from the result for the lists
    slope = models.FloatField(_("calibration slope"), null=True, blank=True)
    analysed = models.PositiveIntegerField(_("participants analysed"), null=True, blank=True)
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="risk_validation")
    created_at = models.DateTimeField(_("validated at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("risk model validation")
        verbose_name_plural = _("risk model validations")
        ordering = ["-created_at", "-id"]
        triggers = [
            pgtrigger.Protect(name="risk_validation_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(name="risk_validation_no_update", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"validation {self.pk} of risk model {self.risk_model_id} ({self.source})"
