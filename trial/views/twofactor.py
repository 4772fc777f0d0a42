"""Two-factor sign-in pages: enrolment (QR code, first code, recovery codes), the code asked after the
password, the user's own settings, and the data manager's reset of a lost phone.

The rule and the services are trial/twofactor.py's."""

import base64

import django_otp
import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from .. import twofactor
from ..errors import Forbidden
from ..pages import attempt, redraw_status

# Codes just made, kept in the session only until the next page shows them once.
FRESH_CODES = "two_factor_fresh_codes"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false", "size": 12}
        ),
    )


class ResetForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


def _next(request: HttpRequest) -> str:
    """Where to go once the second factor is done: the page first asked for, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("dashboard")


def _with_next(name: str, request: HttpRequest) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next(request)})}"


def _qr_svg(url: str) -> str:
    # Inline SVG drawn here (segno): the secret never leaves the server for a QR service.
    return segno.make(url, error="m").svg_inline(
        scale=5, border=2, title=_("QR code for the authenticator app")
    )


def _grouped(secret: bytes) -> str:
    """The key as an app's "enter a setup key" asks for it: base32, in groups of four."""
    text = base64.b32encode(secret).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: scan the QR code, confirm with the app's first code; then the recovery codes, once."""
    user = request.user
    if twofactor.has_authenticator(user):
        # Enrolled already: a new app only after a reset, never by whoever holds just the password.
        return redirect(_with_next("two-factor" if user.is_verified() else "two-factor-verify", request))
    if not twofactor.two_factor_required(user):
        # Never asked of them at sign-in, an app would guard nothing: their settings page says so.
        return redirect("two-factor")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = twofactor.authenticator_confirm(user=user, code=form.cleaned_data["code"])
        if confirmed:
            device, codes = confirmed
            django_otp.login(request, device)
            request.session[FRESH_CODES] = codes
            return redirect(_with_next("two-factor-recovery", request))
        form.add_error(
            "code", _("That code is not right. Check the time on your phone and try the new code.")
        )
    device = twofactor.authenticator_pending(user=user)
    context = {
        "form": form,
        "qr": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 -- segno's own SVG, no user text in it
        "secret": _grouped(device.bin_key),
        "next": _next(request),
    }
    return render(request, "trial/two_factor_setup.html", context, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The code asked after the password: the app's current code, or one recovery code."""
    user = request.user
    if not twofactor.has_authenticator(user):
        return redirect(_with_next("two-factor-setup", request))
    if user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # After wrong codes django-otp refuses app codes for a while (1, 2, 4... s): say so, not "wrong".
        # (A recovery code is still tried: its device keeps its own count.)
        wait = {"seconds": twofactor.seconds_to_wait(user)}
        device = twofactor.verified_device(user, form.cleaned_data["code"])
        if device is not None:
            django_otp.login(request, device)
            if isinstance(device, StaticDevice):
                # A code is gone: the recovery page says how many are left and makes new ones.
                left = {"left": twofactor.recovery_codes_left(user)}
                messages.warning(request, _("You signed in with a recovery code; %(left)s left.") % left)
                return redirect(_with_next("two-factor-recovery", request))
            return redirect(_next(request))
        if wait["seconds"]:
            message = _("Too many wrong codes: wait %(seconds)s s, then type the new code.") % wait
        else:
            message = _("That code is not right, or was used already.")
        form.add_error("code", message)
    context = {"form": form, "next": _next(request)}
    return render(request, "trial/two_factor_verify.html", context, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def two_factor_recovery(request: HttpRequest) -> HttpResponse:
    """The recovery codes just made, shown once; and a button that makes new ones (the old stop working)."""
    user = request.user
    if request.method == "POST":
        if not twofactor.has_authenticator(user):
            return redirect("two-factor-setup")
        request.session[FRESH_CODES] = twofactor.recovery_codes_renew(user=user)
        return redirect(_with_next("two-factor-recovery", request))
    context = {
        "codes": request.session.pop(FRESH_CODES, None),
        "left": twofactor.recovery_codes_left(user),
        "next": _next(request),
    }
    return render(request, "trial/two_factor_recovery.html", context)


@never_cache
@require_GET
@login_required
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    """The user's own second factor: required or not, enrolled or not, recovery codes left."""
    user = request.user
    context = {
        "required": twofactor.two_factor_required(user),
        "enrolled": twofactor.has_authenticator(user),
        "left": twofactor.recovery_codes_left(user),
        "can_reset": twofactor.may_reset(user),
    }
    return render(request, "trial/two_factor.html", context)


@never_cache
@require_GET
@login_required
def two_factor_reset_list(request: HttpRequest) -> HttpResponse:
    """The users whose second factor the data manager (or an administrator) may reset. Three queries."""
    if not twofactor.may_reset(request.user):
        raise Forbidden(_("Only data managers and administrators can reset two-factor sign-in."))
    users = list(twofactor.resettable_users(request.user))
    return render(request, "trial/two_factor_reset.html", {"users": users, "form": ResetForm()})


@require_POST
@login_required
def two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    # Only a user the actor may reset is found at all: no other account's existence shows.
    user = get_object_or_404(twofactor.resettable_users(request.user), pk=pk)
    form = ResetForm(request.POST)
    done = None
    if form.is_valid():
        done = attempt(
            twofactor.two_factor_reset,
            form=form,
            actor=request.user,
            user=user,
            reason=form.cleaned_data["reason"],
        )
        if done:
            messages.success(
                request,
                _("The two-factor sign-in of %(user)s was reset: they enrol again at their next sign-in.")
                % {"user": user.get_username()},
            )
            return redirect("two-factor-reset-list")
    users = list(twofactor.resettable_users(request.user))
    context = {"users": users, "form": form, "failed": user.pk}
    return render(request, "trial/two_factor_reset.html", context, status=redraw_status(done))


urlpatterns = [
    path("two-factor/", two_factor_settings, name="two-factor"),
    path("two-factor/setup/", two_factor_setup, name="two-factor-setup"),
    path("two-factor/verify/", two_factor_verify, name="two-factor-verify"),
    path("two-factor/recovery-codes/", two_factor_recovery, name="two-factor-recovery"),
    path("two-factor/reset/", two_factor_reset_list, name="two-factor-reset-list"),
    path("two-factor/reset/<int:pk>/", two_factor_reset, name="two-factor-reset"),
]
