"""The log of reads of identifying data: who saw whose identity or contact details, when, what and where.

Append-only (a database trigger refuses every UPDATE and DELETE, as the audit trail's event tables do). A row
names the participant by key, never by any identifying value; data managers read the log
(trial/views/identity_log.py, the API's /identity-log/).
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdentityShown(models.TextChoices):
    PARTICIPANT_LIST = "participant_list", _("participant list (names)")
    IDENTITY = "identity", _("identity")
    CONTACT_DETAILS = "contact_details", _("contact details")


class IdentityChannel(models.TextChoices):
    PAGE = "page", _("page")
    API = "api", _("API")


class IdentityRead(models.Model):
    """One person's read of one participant's identifying data."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey("trial.Participant", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("trial.Site", on_delete=models.PROTECT, related_name="+")
    shown = models.CharField(_("what was shown"), max_length=24, choices=IdentityShown.choices)
    channel = models.CharField(_("through"), max_length=8, choices=IdentityChannel.choices)
    read_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("read of identifying data")
        verbose_name_plural = _("reads of identifying data")
        indexes = [
            models.Index(fields=["-read_at", "-id"], name="identityread_newest"),
            models.Index(fields=["participant", "-read_at"], name="identityread_participant"),
            models.Index(fields=["user", "-read_at"], name="identityread_user"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="identity_read_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.shown} of participant {self.participant_id}"
