"""Sites and the roles staff hold at them."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from trial.audit import audited
from trial.i18n import localized


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value})


class Cohort(models.TextChoices):
    """Which data set a centre's cases belong to in a model-development study (protocol `sites[].cohort`)."""

    DEVELOPMENT = "development", _("development")
    EXTERNAL_VALIDATION = "external_validation", _("external validation")


@audited()
class Site(models.Model):
    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(
        _("site code"),
        max_length=8,
        validators=[RegexValidator(r"^[A-Za-z0-9]{1,8}$")],
        help_text=_("Prefix of the study IDs, e.g. 07; unique across studies."),
    )
    name = models.JSONField(_("name"), help_text="{'en': ..., 'zh-hans': ...}")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    active = models.BooleanField(_("active"), default=True)
    cohort = models.CharField(_("cohort"), max_length=24, choices=Cohort.choices, blank=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        # Unique across studies, not only within one: the code prefixes study IDs, which are unique
        # installation-wide so that /participants/{study_id}/ names one participant.
        constraints = [models.UniqueConstraint(fields=["code"], name="site_code_unique")]
        ordering = ["study", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.localized_name}"

    @property
    def localized_name(self) -> str:
        return localized(self.name)


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("research coordinator")
    INVESTIGATOR = "investigator", _("investigator")
    PRINCIPAL_INVESTIGATOR = "principal_investigator", _("principal investigator")
    ADJUDICATOR = "adjudicator", _("adjudicator")
    MONITOR = "monitor", _("monitor")
    DATA_MANAGER = "data_manager", _("data manager")


# A site's own staff: they screen, enroll, change status and enter data there, and read its identifying data.
# Held at one site only: StaffRole refuses a study-wide one (trial/access.py).
SITE_STAFF_ROLES = frozenset({Role.COORDINATOR, Role.INVESTIGATOR})
SITE_STAFF_NEED_A_SITE = _(
    "Coordinators and investigators work at one site: choose the site. Only monitors, data managers, "
    "principal investigators and adjudicators can be study-wide."
)


@audited()
class StaffRole(models.Model):
    """A user's role in a study: at one site, or study-wide when site is empty.

    Coordinators and investigators are a site's own staff and always name their site: a study-wide one would
    enter data and read identifying data at every site.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trial_roles")
    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="staff")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True, related_name="staff")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "study", "site", "role"], name="staff_role_unique", nulls_distinct=False
            ),
            models.CheckConstraint(
                condition=Q(site__isnull=False) | ~Q(role__in=sorted(SITE_STAFF_ROLES)),
                name="site_staff_role_has_a_site",
                violation_error_message=SITE_STAFF_NEED_A_SITE,
            ),
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site_id else "*"
        return f"{self.user} {self.role} @ {self.study_id}/{where}"

    def clean(self) -> None:
        if self.site_id and self.study_id and self.site.study_id != self.study_id:
            raise ValidationError({"site": _("The site belongs to another study.")})
        if not self.site_id and self.role in SITE_STAFF_ROLES:
            raise ValidationError({"site": SITE_STAFF_NEED_A_SITE})
