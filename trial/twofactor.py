"""Two-factor sign-in (TOTP through django-otp): who must use it, checking a code, enrolment, recovery codes,
resets, and the middleware that holds an unverified session at the door.

- The rule, `two_factor_required`: admins (superusers and staff), and anyone holding an active role of
  principal investigator, investigator, data manager, monitor or adjudicator; a coordinator when the current
  protocol of a study where they hold the role says `security: {coordinator_two_factor: true}`. All of it off
  when the setting TWO_FACTOR_REQUIRED is off (`make run`'s demo).
- A code is a TOTP code of a confirmed authenticator device or a one-time recovery code (consumed when used):
  `otp_verify`. django-otp refuses a TOTP code already used and slows down repeated wrong codes.
- Pages and session-authenticated API requests of a user who must use it and has not verified the session are
  held by `TwoFactorMiddleware`: pages go to the code page (or to enrolment when the user has no device), the
  API answers 403. Token-authenticated API requests carry no session and are judged by the token endpoint.
"""

import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .access import user_roles
from .audit import audit_context, reason_required
from .errors import Forbidden
from .models import Role, StaffRole, Study, TwoFactorChange, TwoFactorEvent
from .services.tokens import api_tokens_revoke

# Roles that always sign in with a second factor; a coordinator's depends on the protocol.
TWO_FACTOR_ROLES = frozenset(
    {Role.PRINCIPAL_INVESTIGATOR, Role.INVESTIGATOR, Role.DATA_MANAGER, Role.MONITOR, Role.ADJUDICATOR}
)
RECOVERY_DEVICE_NAME = "recovery codes"
AUTHENTICATOR_NAME = "authenticator app"


def two_factor_required(user) -> bool:
    """Whether the user must sign in with a second factor (the module's docstring has the rule). It reads the
    user's roles through trial.access.user_roles (one query, kept on the user for the request, which the
    permission matrix reads too); a coordinator with no other such role adds one query for the protocol's
    `coordinator_two_factor`. None for an admin, an anonymous user or when the setting is off."""
    if not settings.TWO_FACTOR_REQUIRED or not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    roles = user_roles(user)
    if any(role in TWO_FACTOR_ROLES for role, _study, _site in roles):
        return True
    coordinating = {study for role, study, _site in roles if role == Role.COORDINATOR}
    if not coordinating:
        return False
    asked = Study.objects.filter(pk__in=coordinating).values_list(
        "current_version__definition__security__coordinator_two_factor", flat=True
    )
    return any(flag is True for flag in asked)


def has_authenticator(user) -> bool:
    """Whether the user has enrolled an authenticator app (a confirmed TOTP device)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def _normalized(code: str) -> str:
    # Apps show "123 456", recovery codes are printed in groups: spaces and dashes are not part of a code.
    return "".join(str(code or "").split()).replace("-", "").lower()


def _app_code(code: str, device) -> bool:
    return code.isdigit() and len(code) == getattr(device, "digits", 6)


def verified_device(user, code: str):
    """The confirmed device (authenticator or recovery codes) that accepts the code, or None. A recovery code
    is consumed; a TOTP code is not accepted twice. The user's devices are locked while the code is checked,
    so two requests with one code cannot both pass."""
    code = _normalized(code)
    if not code or not user.is_authenticated:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            # An app's code is six digits, a recovery code eight letters and digits: a code is tried only on
            # the kind of device it can belong to, so that it counts no wrong attempt against the other.
            if isinstance(device, TOTPDevice) != _app_code(code, device):
                continue
            if device.verify_token(code):
                return device
    return None


def seconds_to_wait(user) -> int:
    """Seconds before the user's authenticator takes another code: django-otp waits 1, 2, 4... seconds after
    each wrong one (a code typed sooner is refused, right or wrong). 0 when a code may be tried now."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    allowed, why = device.verify_is_allowed() if device else (True, None)
    if allowed:
        return 0
    return max(1, math.ceil((why["locked_until"] - timezone.now()).total_seconds()))


def otp_verify(user, code: str) -> bool:
    """Whether `code` is a TOTP code of one of the user's confirmed devices or one of their recovery codes
    (consumed when used). Used by the sign-in pages and the token endpoint."""
    return verified_device(user, code) is not None


# --- enrolment and recovery codes --------------------------------------------------------------------------


def authenticator_pending(*, user) -> TOTPDevice:
    """The unconfirmed authenticator the user is enrolling: the same one until confirmed, so that reloading
    the page does not change the QR code the app has already scanned."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def authenticator_confirm(*, user, code: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the pending authenticator with its first code: it becomes the user's device, and the first
    recovery codes are made. None when the code is wrong (nothing changes then).

    Atomic so that an enrolled device never lacks its recovery codes nor its record.
    """
    code = _normalized(code)
    with transaction.atomic(durable=True):
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        )
        if device is None or not code.isdigit() or not device.verify_token(code):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        TwoFactorEvent.objects.create(user=user, actor=user, change=TwoFactorChange.ENROLLED)
        return device, _recovery_codes_new(user)


def recovery_codes_renew(*, user) -> list[str]:
    """New recovery codes for an enrolled user; the old ones stop working. Atomic: old and new never both
    work, and the record is written with them."""
    with transaction.atomic(durable=True):
        codes = _recovery_codes_new(user)
        TwoFactorEvent.objects.create(user=user, actor=user, change=TwoFactorChange.RECOVERY_CODES)
        return codes


def _recovery_codes_new(user) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- resets ------------------------------------------------------------------------------------------------


def may_reset(actor) -> bool:
    """Whether the actor resets others' second factor at all: a superuser or an active data manager."""
    return (
        actor.is_superuser
        or StaffRole.objects.filter(user=actor, active=True, role=Role.DATA_MANAGER).exists()
    )


def resettable_users(actor) -> QuerySet:
    """Users whose second factor the actor may reset (a lost phone): every other user for a superuser; for a
    data manager, the other users holding an active role in a study the actor manages, admins excepted.
    Each user carries `enrolled` (has an authenticator)."""
    users = get_user_model().objects.exclude(pk=actor.pk).filter(is_active=True)
    if not actor.is_superuser:
        managed = StaffRole.objects.filter(user=actor, active=True, role=Role.DATA_MANAGER).values("study")
        staff = StaffRole.objects.filter(active=True, study__in=managed).values("user")
        users = users.filter(pk__in=staff).filter(Q(is_superuser=False) & Q(is_staff=False))
    enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return users.annotate(enrolled=Exists(enrolled)).order_by("username")


def two_factor_reset(*, actor, user, reason: str) -> None:
    """Remove the user's authenticator and recovery codes (a lost phone), and end their API tokens: at their
    next sign-in they enrol again. Only a data manager of one of their studies or a superuser may
    (`resettable_users`), with a reason.

    Atomic: the devices go together with the record of who removed them and why.
    """
    reason = reason_required(reason)
    if not resettable_users(actor).filter(pk=user.pk).exists():
        raise Forbidden(
            _("Only a data manager of the user's study or an administrator can reset their second factor.")
        )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason):
        for model in (TOTPDevice, StaticDevice):
            model.objects.filter(user=user).delete()
        TwoFactorEvent.objects.create(user=user, actor=actor, change=TwoFactorChange.RESET, reason=reason)
        # A lost phone may be a stolen one: the API tokens issued with it end too.
        api_tokens_revoke(user=user)


# --- the door ----------------------------------------------------------------------------------------------

# Reachable before the second factor: signing in and out, the second factor's own pages, the language switch,
# health checks and patients' questionnaire links (no staff session there). Static files are served before.
OPEN_PATHS = ("/login/", "/logout/", "/two-factor/setup/", "/two-factor/verify/", "/i18n/", "/healthz", "/p/")


class TwoFactorMiddleware:
    """Holds a signed-in session that must use a second factor and has not: pages go to the code page (or to
    enrolment), session-authenticated API requests get a 403. After django_otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if self._held(request):
            return self._hold(request)
        return self.get_response(request)

    @staticmethod
    def _held(request: HttpRequest) -> bool:
        # The setting first: when it is off, no query is added to any request.
        if not settings.TWO_FACTOR_REQUIRED:
            return False
        user = request.user
        if not user.is_authenticated or user.is_verified() or request.path.startswith(OPEN_PATHS):
            return False
        return two_factor_required(user)

    @staticmethod
    def _hold(request: HttpRequest):
        if request.path.startswith("/api/") and not request.path.startswith("/api/docs/"):  # docs: a page
            return JsonResponse(
                {
                    "detail": _("Sign in with your second factor (an authenticator app code) first."),
                    "code": "two_factor_required",
                },
                status=403,
            )
        page = "two-factor-verify" if has_authenticator(request.user) else "two-factor-setup"
        return redirect(f"{reverse(page)}?{urlencode({'next': request.get_full_path()})}")
