"""The record of two-factor sign-in changes: enrolments, renewed recovery codes and resets."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trial.audit import audited


class TwoFactorChange(models.TextChoices):
    ENROLLED = "enrolled", _("enrolled an authenticator app")
    RECOVERY_CODES = "recovery_codes", _("new recovery codes")
    RESET = "reset", _("two-factor sign-in reset")


@audited()
class TwoFactorEvent(models.Model):
    """One change of a user's second factor, by whom and why. Never changed nor deleted: the devices
    themselves (django-otp's) change and go, this stays (21 CFR 11.10(e))."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    change = models.CharField(_("change"), max_length=16, choices=TwoFactorChange.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("two-factor change")
        verbose_name_plural = _("two-factor changes")
        ordering = ["-at", "-pk"]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.user} {self.change} {self.at:%Y-%m-%d %H:%M}"
