from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrialConfig(AppConfig):
    name = "trial"
    verbose_name = _("Trial: protocols, screening and enrollment")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import hooks, navigation, signin

        hooks.menu_items.register(navigation.trial_menu)
        # Django's own login() is the one place a session starts: its idle clock starts there too.
        user_logged_in.connect(signin.stamp_session_on_login, dispatch_uid="signin-stamp-session")
