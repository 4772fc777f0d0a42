"""A study and the versions of its protocol. A protocol is data loaded from a file, never code."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from trial.audit import audited
from trial.i18n import localized


@audited()
class Study(models.Model):
    code = models.CharField(_("registration number"), max_length=32, unique=True)
    title = models.JSONField(_("title"), help_text="{'en': ..., 'zh-hans': ...}")
    sponsor = models.CharField(_("sponsor"), max_length=255)
    current_version = models.ForeignKey(
        "trial.ProtocolVersion", on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("study")
        verbose_name_plural = _("studies")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def localized_title(self) -> str:
        return localized(self.title)


@audited()
class ProtocolVersion(models.Model):
    """One loaded version of a protocol file. Never changed after load: an amendment is a new version."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version number"))
    label = models.CharField(_("protocol version label"), max_length=32)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    source_name = models.CharField(max_length=255)
    definition = models.JSONField(help_text="The whole parsed protocol file.")
    target_enrollment = models.PositiveIntegerField(_("target enrollment"))
    # Empty for a retrospective study, which has no follow-up.
    follow_up_days = models.PositiveIntegerField(_("follow-up length (days)"), null=True, blank=True)
    study_id_format = models.CharField(max_length=64, default="{site}-{number:04d}")
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("protocol version")
        verbose_name_plural = _("protocol versions")
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="protocol_version_number_unique"),
            models.UniqueConstraint(fields=["study", "sha256"], name="protocol_version_content_unique"),
        ]
        ordering = ["study", "number"]

    def __str__(self) -> str:
        return f"{self.study.code} v{self.number} ({self.label})"

    @property
    def registration(self) -> str:
        """`prospective` (screened, consented, enrolled) or `retrospective` (design.registration)."""
        return (self.definition.get("design") or {}).get("registration", "prospective")

    @property
    def retrospective(self) -> bool:
        """Cases are registered from the records with consent waived: no consent step, no follow-up."""
        return self.registration == "retrospective"

    @property
    def groups(self) -> list[dict]:
        """The protocol's groups (arms), {code, label, target}, in file order; empty when none."""
        return (self.definition.get("design") or {}).get("groups") or []


class CriterionKind(models.TextChoices):
    INCLUSION = "inclusion", _("inclusion")
    EXCLUSION = "exclusion", _("exclusion")


@audited()
class Criterion(models.Model):
    """An eligibility criterion of one protocol version. `rule` set means the data decides it."""

    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="criteria")
    code = models.CharField(_("code"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=CriterionKind.choices)
    text = models.JSONField(_("text"))
    rule = models.JSONField(_("rule"), null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(fields=["protocol_version", "code"], name="criterion_code_unique"),
        ]
        ordering = ["protocol_version", "order"]

    def __str__(self) -> str:
        return self.code

    @property
    def computed(self) -> bool:
        return self.rule is not None

    @property
    def localized_text(self) -> str:
        return localized(self.text)
