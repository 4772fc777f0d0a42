from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrialConfig(AppConfig):
    name = "trial"
    verbose_name = _("Trial: protocols, screening and enrollment")

    def ready(self) -> None:
        from . import hooks, navigation

        hooks.menu_items.register(navigation.trial_menu)
