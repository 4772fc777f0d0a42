"""The admin site: SpineTrial's own header and titles, in the reader's language, instead of Django's.

SpineTrialAdminConfig replaces django.contrib.admin in INSTALLED_APPS and makes this site the default one, so
`admin.site` and `@admin.register` everywhere (Django's own auth models included) use it.

Like django-otp's OTPAdminSite, it lets in only a session verified with a second factor, whenever the user
must use one (trial/twofactor.py): the same rule as the pages, so that it follows TWO_FACTOR_REQUIRED.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class SpineTrialAdminSite(admin.AdminSite):
    # Lazy: the site is built once at start-up, and each request shows them in its own language.
    site_header = _("SpineTrial administration")
    site_title = _("SpineTrial admin")
    index_title = _("Study setup and research data (read-only)")

    def has_permission(self, request) -> bool:
        from .twofactor import two_factor_required  # here: this module loads before the models are ready

        if not super().has_permission(request):
            return False
        # OTPMiddleware puts is_verified on the user; a request that bypassed it is not verified.
        verified = getattr(request.user, "is_verified", lambda: False)()
        return verified or not two_factor_required(request.user)


class SpineTrialAdminConfig(AdminConfig):
    default_site = "trial.admin_site.SpineTrialAdminSite"
