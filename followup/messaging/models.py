"""The outbox: every message SpineTrial sends is first a row here, and the row is the truth about it.

A reminder is planned by the sweep (one row per participant, visit, questionnaire, channel and step, unique by
`key`, so planning twice plans nothing new) and sent by the dispatcher, which claims due rows with
`FOR UPDATE SKIP LOCKED` and records what happened. Neither the address nor the text is stored: the address
is read from the participant's identity and the text, which carries a fresh patient link, is rendered at the
moment of sending. A row left `sending` by a crash is never sent again blindly: it becomes `unconfirmed` for
staff to confirm or resend.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trial.models import ContactChannel as Channel

from ..models import Visit, site_trigger


class MessageKind(models.TextChoices):
    REMINDER = "reminder", _("questionnaire reminder")
    DIGEST_DAILY = "digest_daily", _("daily digest")
    DIGEST_WEEKLY = "digest_weekly", _("weekly digest")


DIGESTS = (MessageKind.DIGEST_DAILY, MessageKind.DIGEST_WEEKLY)


class MessageState(models.TextChoices):
    PENDING = "pending", _("pending")
    HELD = "held", _("held (quiet hours)")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    UNCONFIRMED = "unconfirmed", _("unconfirmed (outcome unknown)")
    CANCELLED = "cancelled", _("not sent (no longer applies)")


# What the dispatcher may still claim, and what has ended.
CLAIMABLE = (MessageState.PENDING, MessageState.HELD)


class OutboxMessage(models.Model):
    """One message to one participant (a reminder) or staff member (a digest) on one channel. Not audited by
    pghistory: its own columns are its history (times, attempts, outcome), and it holds no research data."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # A reminder's participant, or a digest's staff member: exactly one (constraint).
    participant = models.ForeignKey(
        "trial.Participant", on_delete=models.PROTECT, related_name="messages", null=True, blank=True
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The participant's site (set by the trigger); none for a digest, which may cover several sites.
    site = models.ForeignKey(
        "trial.Site", on_delete=models.PROTECT, related_name="+", null=True, blank=True, editable=False
    )
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="messages", null=True, blank=True)
    instrument = models.CharField(_("questionnaire"), max_length=16, blank=True)
    step = models.CharField(_("step"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8)
    state = models.CharField(
        _("state"), max_length=16, choices=MessageState.choices, default=MessageState.PENDING
    )
    due_at = models.DateTimeField(_("due at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_id = models.CharField(max_length=128, blank=True)
    # Why it was held, failed or cancelled: a short reason, never an address or a text.
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The dispatcher's claim: the due rows it may still send, oldest first.
            models.Index(
                fields=["due_at", "id"],
                name="outbox_claimable",
                condition=models.Q(state__in=["pending", "held"]),
            ),
            models.Index(fields=["claimed_at"], name="outbox_sending", condition=models.Q(state="sending")),
            models.Index(fields=["participant", "created_at"], name="outbox_participant"),
            models.Index(fields=["site", "state", "created_at"], name="outbox_site_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(participant__isnull=False, recipient__isnull=True)
                | models.Q(participant__isnull=True, recipient__isnull=False),
                name="outbox_participant_or_staff",
            ),
        ]
        triggers = [site_trigger()]

    def __str__(self) -> str:
        return f"message {self.pk} {self.kind}/{self.channel} {self.state}"


class StaffMessageSetting(models.Model):
    """A staff member's digests: the language they read, and each kind on or off (on unless switched off)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="message_setting"
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans")
    daily_digest = models.BooleanField(_("daily digest"), default=True)
    weekly_digest = models.BooleanField(_("weekly digest"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("staff message setting")
        verbose_name_plural = _("staff message settings")

    def __str__(self) -> str:
        return f"message settings of {self.user_id}"
