"""The admin site: SpineTrial's own header and titles, in the reader's language, instead of Django's.

SpineTrialAdminConfig replaces django.contrib.admin in INSTALLED_APPS and makes this site the default one, so
`admin.site` and `@admin.register` everywhere (Django's own auth models included) use it.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class SpineTrialAdminSite(admin.AdminSite):
    # Lazy: the site is built once at start-up, and each request shows them in its own language.
    site_header = _("SpineTrial administration")
    site_title = _("SpineTrial admin")
    index_title = _("Study setup and research data (read-only)")


class SpineTrialAdminConfig(AdminConfig):
    default_site = "trial.admin_site.SpineTrialAdminSite"
