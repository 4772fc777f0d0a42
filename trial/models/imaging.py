"""Imaging exams of a screening (a case) or of a participant's follow-up, registered from DICOM headers
(trial/dicom.py).

A screening's exams (participant empty) are what its eligibility judges. A follow-up exam (a participant's,
e.g. the 12-month MRI) has the participant and, for the one rule of a study's exams, the participant's
screening too: it never counts in the screening's eligibility, and a visit form links it (crf, type `exam`).

No patient identity: no name, ID or birth date is read or kept; the UIDs are kept only as keyed hashes
(trial/imaging.py, `uid_hash`), enough to refuse a study registered twice, useless for finding the images.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from trial.audit import audited

HASH_LENGTH = 64  # HMAC-SHA256, hex


@audited()
class ImagingExam(models.Model):
    screening = models.ForeignKey("trial.Screening", on_delete=models.PROTECT, related_name="imaging_exams")
    # Set for a follow-up exam (registered for the enrolled participant), empty for a screening's own exams.
    participant = models.ForeignKey(
        "trial.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="imaging_exams",
        verbose_name=_("participant"),
    )
    # The screening's study, copied: a study (DICOM) is registered once per study (trial), whichever case.
    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    study_uid_hash = models.CharField(max_length=HASH_LENGTH)
    series_uid_hashes = ArrayField(models.CharField(max_length=HASH_LENGTH), default=list, blank=True)
    modality = models.CharField(_("modality"), max_length=16)
    study_date = models.DateField(_("study date"))
    body_parts = ArrayField(
        models.CharField(max_length=16), default=list, blank=True, verbose_name=_("body part examined")
    )
    slice_thickness = models.DecimalField(
        _("slice thickness (mm)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    manufacturer = models.CharField(_("manufacturer"), max_length=64, blank=True)
    series_count = models.PositiveSmallIntegerField(_("series"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("imaging exam")
        verbose_name_plural = _("imaging exams")
        ordering = ["study_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "study_uid_hash"], name="imaging_exam_once_per_study")
        ]
        indexes = [models.Index(fields=["screening", "study_date"])]

    def __str__(self) -> str:
        return f"{self.modality} {self.study_date}"
