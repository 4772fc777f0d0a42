"""The signed-in user's own account: changing the password."""

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from ..services.tokens import api_tokens_revoke


class CountedPasswordChangeForm(PasswordChangeForm):
    """The current password checked as a sign-in (authenticate): django-axes counts a wrong one and locks the
    account out as the login page does. The password is the part of an e-signature that stops someone at an
    unattended session from signing; it must not be guessable here without limit."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if authenticate(self.request, username=self.user.get_username(), password=old_password) is None:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (old password, new one twice, AUTH_PASSWORD_VALIDATORS) in the site's layout.

    The session stays signed in; the user's other sessions end (Django's session hash) and so do their API
    tokens: a password changed because it leaked must not leave a token issued with it working.
    """

    template_name = "registration/password_change_form.html"
    form_class = CountedPasswordChangeForm
    success_url = reverse_lazy("dashboard")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        api_tokens_revoke(user=form.user)
        messages.success(self.request, _("Your password was changed."))
        return response
