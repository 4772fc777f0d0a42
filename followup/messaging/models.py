"""The outbox: every message SpineTrial sends is first a row here, and the row is the truth about it.

A reminder is planned by the sweep (one row per participant, visit, questionnaire, channel and step, unique by
`key`, so planning twice plans nothing new) and sent by the dispatcher, which claims due rows with
`FOR UPDATE SKIP LOCKED` and records what happened. Neither the address nor the text is stored: the address
is read from the participant's identity and the text, which carries a fresh patient link, is rendered at the
moment of sending. A row left `sending` by a crash is never sent again blindly: it becomes `unconfirmed` for
staff to confirm or resend.
"""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from trial.audit import audited
from trial.models import ContactChannel as Channel

from ..models import Visit, site_trigger
from .notes import Note, note_text


class MessageKind(models.TextChoices):
    REMINDER = "reminder", _("questionnaire reminder")
    DIGEST_DAILY = "digest_daily", _("daily digest")
    DIGEST_WEEKLY = "digest_weekly", _("weekly digest")
    # A report built by the monthly schedule is ready: a link to its page (reports registers the kind).
    REPORT_READY = "report_ready", _("report ready")


DIGESTS = (MessageKind.DIGEST_DAILY, MessageKind.DIGEST_WEEKLY)


class MessageState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("message state", "pending")
    HELD = "held", _("held (quiet hours)")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    UNCONFIRMED = "unconfirmed", _("unconfirmed (outcome unknown)")
    CANCELLED = "cancelled", _("not sent (no longer applies)")


# What the dispatcher may still claim, and what has ended.
CLAIMABLE = (MessageState.PENDING, MessageState.HELD)


# The machine's steps are the row's own history (times, attempts, outcome) and hold no research data, so
# they are not copied to the audit trail. A person's step is: an answer to a message whose outcome is
# unknown (confirm or resend, services.py), the only change of an unconfirmed row, audited with its actor.
@pghistory.track(
    pghistory.UpdateEvent("answered_by_staff", condition=pgtrigger.Q(old__state="unconfirmed")),
    fields=["state", "due_at", "sent_at", "note_code", "note_params"],
    model_name="OutboxAnswerEvent",
    obj_field=pghistory.ObjForeignKey(related_name="answers"),
)
class OutboxMessage(models.Model):
    """One message to one participant (a reminder) or staff member (a digest) on one channel."""

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
    # Why it was held, failed, cancelled or answered, as data read in the reader's language (notes.py):
    # never an address or a text.
    note_code = models.CharField(_("note"), max_length=32, blank=True)
    note_params = models.JSONField(default=dict, blank=True)
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

    def set_note(self, note: Note | None) -> None:
        """Say why it is in its state (None: no note); saved with the row."""
        for name, value in (note or Note("")).fields().items():
            setattr(self, name, value)

    @property
    def note(self) -> str:
        """Why it is in its state, in the active language ("" for none)."""
        return note_text(self.note_code, self.note_params)


@audited()
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
