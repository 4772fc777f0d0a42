"""Enrolled participants, their identifying data (kept apart), and per-site study-ID sequences."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trial.audit import audited


class ParticipantStatus(models.TextChoices):
    ENROLLED = "enrolled", _("enrolled")
    WITHDRAWN = "withdrawn", _("withdrawn")
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", _("lost to follow-up")
    DIED = "died", _("died")


@audited()
class Participant(models.Model):
    """Research data refers to a participant by study_id only."""

    site = models.ForeignKey("trial.Site", on_delete=models.PROTECT, related_name="participants")
    screening = models.OneToOneField("trial.Screening", on_delete=models.PROTECT, related_name="participant")
    study_id = models.CharField(_("study ID"), max_length=32, unique=True)
    sequence = models.PositiveIntegerField()
    # Empty exactly when the protocol waives consent (a retrospective study): consent_waived says so.
    consent_date = models.DateField(_("consent date"), null=True, blank=True)
    consent_waived = models.BooleanField(_("consent waived by the protocol"), default=False)
    # The date of enrollment, or of registration in a retrospective study.
    enrollment_date = models.DateField(_("enrollment date"))
    # The protocol's group (design.groups code) chosen at registration; empty when it declares none.
    group = models.CharField(_("group"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=24, choices=ParticipantStatus.choices, default=ParticipantStatus.ENROLLED
    )
    status_date = models.DateField(_("status date"), null=True, blank=True)
    status_reason = models.TextField(_("status reason"), blank=True)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["study_id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "sequence"], name="participant_site_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(consent_date__lte=models.F("enrollment_date")),
                name="participant_consent_before_enrollment",
            ),
            models.CheckConstraint(
                condition=models.Q(consent_waived=True, consent_date__isnull=True)
                | models.Q(consent_waived=False, consent_date__isnull=False),
                name="participant_consent_dated_or_waived",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "status"]),
            # The few participants no longer followed (lost, withdrawn, dead), whose pending visits follow-up
            # leaves out of its worklist and counts (followup.selectors.visits.not_followed): index-only.
            models.Index(
                fields=["site", "id"],
                condition=~models.Q(status=ParticipantStatus.ENROLLED),
                name="participant_not_followed",
            ),
        ]

    def __str__(self) -> str:
        return self.study_id

    @property
    def study(self):
        return self.site.study


@audited()
class ParticipantIdentity(models.Model):
    """Identifying data. Readable only by the participant's own site staff; never exported or logged."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="identity")
    full_name = models.CharField(_("full name"), max_length=128)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    hospital_record_number = models.CharField(_("hospital record number"), max_length=64, blank=True)
    national_id = models.CharField(_("national ID"), max_length=32, blank=True)
    # Contact for reminders: the channels need an address, and the patient's language for the text.
    email = models.EmailField(_("e-mail"), blank=True)
    contact_language = models.CharField(
        _("language for messages"), max_length=8, choices=settings.LANGUAGES, default="zh-hans"
    )

    class Meta:
        verbose_name = _("participant identity")
        verbose_name_plural = _("participant identities")

    def __str__(self) -> str:
        # Never the name: a str() of this object may end up in a log line.
        return f"identity of {self.participant_id}"

    def __repr__(self) -> str:
        return f"<ParticipantIdentity participant={self.participant_id}>"


class ContactChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("e-mail")


class OptOutSource(models.TextChoices):
    PATIENT = "patient", _("the patient (link page)")
    STAFF = "staff", _("recorded by staff")


@audited()
class ContactOptOut(models.Model):
    """A participant's refusal of messages on one channel, from a date, and who recorded it. Opting in again
    ends it (`ended_on`); the row stays, so the history of consent to contact is kept."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="opt_outs")
    channel = models.CharField(_("channel"), max_length=8, choices=ContactChannel.choices)
    since = models.DateField(_("since"))
    source = models.CharField(_("source"), max_length=16, choices=OptOutSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("opt-out of messages")
        verbose_name_plural = _("opt-outs of messages")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "channel"],
                condition=models.Q(ended_on__isnull=True),
                name="one_live_opt_out_per_channel",
            )
        ]

    def __str__(self) -> str:
        return f"opt-out {self.participant_id}/{self.channel}"


class SiteSequence(models.Model):
    """The last study-ID number handed out at a site. Locked row by row so that IDs have no gaps."""

    site = models.OneToOneField(
        "trial.Site", on_delete=models.PROTECT, primary_key=True, related_name="sequence"
    )
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("study-ID sequence")
        verbose_name_plural = _("study-ID sequences")

    def __str__(self) -> str:
        return f"{self.site_id}: {self.last_number}"
