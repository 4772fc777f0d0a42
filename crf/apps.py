from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def crf_menu() -> list:
    from trial.navigation import READING_ROLES, MenuItem

    return [MenuItem("query-list", _("Queries"), 60, roles=READING_ROLES)]


class CrfConfig(AppConfig):
    name = "crf"
    verbose_name = _("CRFs: forms, data queries and e-signatures")

    def ready(self) -> None:
        # crf builds on trial: it plugs into trial's extension points (trial/hooks.py), never the reverse.
        from trial import hooks

        from . import bench, demo, protocol
        from .apis import codes

        hooks.protocol_sections.register(protocol.protocol_sections)
        hooks.demo_stages.register(demo.crf_demo_stage)
        hooks.bench_endpoints.register(bench.bench_endpoints)
        hooks.menu_items.register(crf_menu)
        hooks.api_path_codes.register(codes.api_path_codes)
