"""Sign-in records that only grow: expired sessions and API tokens, and the sign-in logs past their retention.

Run daily by the beat (trial.tasks.signin_records_prune; the schedule is created by trial's migration 0011).
Over years of use these tables would otherwise keep every session, token and sign-in ever made, with the
addresses and browsers they came from.
"""

import datetime
from importlib import import_module

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.utils import timezone
from knox.models import AuthToken


def signin_records_prune(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete expired sessions and API tokens, lockout counters past their cool-off, and sign-in logs older
    than SIGNIN_LOG_DAYS; returns how many rows of each went. Idempotent."""
    now = now or timezone.now()
    sessions = import_module(settings.SESSION_ENGINE).SessionStore.get_model_class()
    kept_since = now - datetime.timedelta(days=settings.SIGNIN_LOG_DAYS)
    return {
        "sessions": sessions.objects.filter(expire_date__lt=now).delete()[0],
        "api_tokens": AuthToken.objects.filter(expiry__lt=now).delete()[0],
        "lockout_counters": AccessAttempt.objects.filter(
            attempt_time__lt=now - settings.AXES_COOLOFF_TIME
        ).delete()[0],
        "signin_log": AccessLog.objects.filter(attempt_time__lt=kept_since).delete()[0],
        "failure_log": AccessFailureLog.objects.filter(attempt_time__lt=kept_since).delete()[0],
    }
