"""The screening log: every patient screened, eligible or not, judged under a fixed protocol version."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from trial.audit import audited


class Sex(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")


class Outcome(models.TextChoices):
    ELIGIBLE = "eligible", _("eligible")
    INELIGIBLE = "ineligible", _("ineligible")
    INCOMPLETE = "incomplete", _("incomplete")


class NotEnrolledReason(models.TextChoices):
    """Why an eligible patient was not enrolled (STROBE flow: eligible -> included)."""

    DECLINED_CONSENT = "declined_consent", _("declined consent")
    NOT_TREATED = "not_treated", _("not treated with PVP/PKP")
    UNABLE_TO_FOLLOW_UP = "unable_to_follow_up", _("unable to attend follow-up")
    OTHER = "other", _("other")


@audited()
class Screening(models.Model):
    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="screenings")
    protocol_version = models.ForeignKey(
        "trial.ProtocolVersion",
        on_delete=models.PROTECT,
        related_name="screenings",
        help_text=_("The protocol version the screening was judged under; never changed silently."),
    )
    site = models.ForeignKey("trial.Site", on_delete=models.PROTECT, related_name="screenings")
    screening_date = models.DateField(_("screening date"))
    age = models.PositiveSmallIntegerField(
        _("age (years)"), validators=[MinValueValidator(0), MaxValueValidator(120)]
    )
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices)
    fracture_levels = ArrayField(
        models.CharField(max_length=3), default=list, blank=True, verbose_name=_("fractured levels")
    )
    answers = models.JSONField(
        _("answers"),
        default=dict,
        blank=True,
        help_text="{criterion_code: true | false | null} for criteria that are asked.",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    failed_criteria = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    missing_criteria = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    not_enrolled_reason = models.CharField(
        _("reason not enrolled"), max_length=24, choices=NotEnrolledReason.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        ordering = ["-screening_date", "-id"]
        indexes = [
            # The screening log's order: without it a page of 50 sorts every visible row (56,000: 150 ms).
            models.Index(fields=["-screening_date", "-id"], name="screening_log_order"),
            models.Index(fields=["site", "-screening_date", "-id"], name="screening_site_log_order"),
            models.Index(fields=["study", "outcome"]),
        ]

    def __str__(self) -> str:
        return f"S{self.pk} {self.site.code} {self.screening_date}"
