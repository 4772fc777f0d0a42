"""The signed-in user's own account: changing the password."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from ..services.tokens import api_tokens_revoke


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (old password, new one twice, AUTH_PASSWORD_VALIDATORS) in the site's layout.

    The session stays signed in; the user's other sessions end (Django's session hash) and so do their API
    tokens: a password changed because it leaked must not leave a token issued with it working.
    """

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        api_tokens_revoke(user=form.user)
        messages.success(self.request, _("Your password was changed."))
        return response
