"""Model outputs per vertebra, imported from CSV, and the lock that freezes them before analysis.

An import is one (model, model version) of one uploaded file: re-importing the same model and version makes
the next `version` and marks the previous one superseded (kept, never deleted). Rows are never changed once
imported, but for the heatmap image attached afterwards. Once the study's analysis is locked
(AnalysisLock) nothing here changes (the services answer 409); the lock records which import of each model
is the analysed one. Unlocking is not offered.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trial.audit import audited
from trial.levels import LEVELS


class OutputKind(models.TextChoices):
    CLASSIFICATION = "classification", _("classification")
    SEGMENTATION = "segmentation", _("segmentation")


class DatasetSplit(models.TextChoices):
    # train / validation / test at the development centre(s); external: the external validation centre.
    TRAIN = "train", _("training")
    VALIDATION = "validation", _("validation")
    TEST = "test", _("internal test")
    EXTERNAL = "external", _("external validation")


@audited()
class ModelImport(models.Model):
    """One version of one model's outputs for a study, from one CSV file."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="model_imports")
    model_name = models.CharField(_("model"), max_length=64)
    model_version = models.CharField(_("model version"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=OutputKind.choices)
    # 1, 2, ... per (study, model, model version): each re-import takes the next.
    version = models.PositiveIntegerField(_("import version"))
    current = models.BooleanField(_("current"), default=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    row_count = models.PositiveIntegerField(_("rows"))
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("model output import")
        verbose_name_plural = _("model output imports")
        ordering = ["model_name", "model_version", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "model_name", "model_version", "version"], name="model_import_version"
            ),
            models.UniqueConstraint(
                fields=["study", "model_name", "model_version"],
                condition=models.Q(current=True),
                name="model_import_one_current",
            ),
        ]
        triggers = [pgtrigger.Protect(name="model_import_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.model_name} {self.model_version} v{self.version}"


@audited()
class ModelOutput(models.Model):
    """One vertebra's output of one import: probability of acute (classification) and/or Dice
    (segmentation), the dataset split, and an optional Grad-CAM heatmap."""

    model_import = models.ForeignKey(ModelImport, on_delete=models.PROTECT, related_name="outputs")
    participant = models.ForeignKey("trial.Participant", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=3, choices=[(level, level) for level in LEVELS])
    split = models.CharField(_("dataset split"), max_length=16, choices=DatasetSplit.choices)
    probability = models.FloatField(_("probability of acute"), null=True, blank=True)
    dice = models.FloatField(_("Dice"), null=True, blank=True)
    line = models.PositiveIntegerField(_("line in the file"))
    heatmap = models.FileField(_("Grad-CAM heatmap"), upload_to="heatmaps/%Y/%m/", blank=True, max_length=255)
    heatmap_type = models.CharField(max_length=16, blank=True)  # image/png or image/jpeg, read from the bytes

    class Meta:
        verbose_name = _("model output")
        verbose_name_plural = _("model outputs")
        ordering = ["model_import", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_import", "participant", "level"], name="model_output_vertebra"
            ),
            models.CheckConstraint(
                condition=models.Q(probability__isnull=True)
                | models.Q(probability__gte=0, probability__lte=1),
                name="model_output_probability_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(dice__isnull=True) | models.Q(dice__gte=0, dice__lte=1),
                name="model_output_dice_0_1",
            ),
        ]
        triggers = [pgtrigger.Protect(name="model_output_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.model_import} {self.participant_id} {self.level}"


@audited()
class AnalysisLock(models.Model):
    """The study's analysis, locked: model outputs frozen, the analysed import of each model recorded.
    One per study, never changed or deleted (no unlocking)."""

    study = models.OneToOneField("trial.Study", on_delete=models.PROTECT, related_name="analysis_lock")
    reason = models.TextField(_("reason"))
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    locked_at = models.DateTimeField(_("locked at"))
    imports = models.ManyToManyField(ModelImport, through="AnalysedImport", related_name="+")

    class Meta:
        verbose_name = _("analysis lock")
        verbose_name_plural = _("analysis locks")
        triggers = [
            pgtrigger.Protect(name="analysis_lock_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(name="analysis_lock_no_update", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"analysis of study {self.study_id} locked {self.locked_at:%Y-%m-%d}"


@audited()
class AnalysedImport(models.Model):
    """Which import of a model the locked analysis uses (the current one at the lock)."""

    lock = models.ForeignKey(AnalysisLock, on_delete=models.PROTECT, related_name="analysed")
    model_import = models.OneToOneField(ModelImport, on_delete=models.PROTECT, related_name="analysed")

    class Meta:
        verbose_name = _("analysed import")
        verbose_name_plural = _("analysed imports")
        triggers = [
            pgtrigger.Protect(name="analysed_import_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(name="analysed_import_no_update", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"{self.lock_id}: {self.model_import_id}"
