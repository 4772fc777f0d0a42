from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def followup_menu() -> list:
    from trial.access import BLIND_ROLES
    from trial.models import Role
    from trial.navigation import READING_ROLES, MenuItem

    # The case board's oversight: site staff find their cases on the timeline; adjudicators read in their
    # queue, blind (their own item).
    board_roles = frozenset({Role.DATA_MANAGER, Role.PRINCIPAL_INVESTIGATOR, Role.MONITOR})
    return [
        MenuItem("visit-list", _("Visits"), 50, roles=READING_ROLES),
        MenuItem("outbox", _("Messages"), 55, roles=READING_ROLES),
        MenuItem(
            "adjudication-board",
            _("Adjudication"),
            60,
            ("adjudication-case", "adjudication-case-new"),
            roles=board_roles,
        ),
        MenuItem(
            "adjudication-queue-page",
            _("My cases to read"),
            61,
            active=("adjudication-review",),
            roles=frozenset(BLIND_ROLES),
        ),
    ]


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up: visits, questionnaires and adjudication")

    def ready(self) -> None:
        # followup builds on trial and crf: it plugs into their extension points (trial/hooks.py,
        # crf/hooks.py), never the reverse.
        from crf import hooks as crf_hooks
        from trial import hooks as trial_hooks

        from . import bench, demo, hooks, protocol
        from .demo_wording import demo_wording_stage
        from .messaging.digests import DIGEST_MESSAGES
        from .messaging.heartbeats import dispatch_health_report
        from .messaging.models import DIGESTS
        from .messaging.selectors import messages_panel
        from .messaging.staff import staff_message_kind_register
        from .selectors.adjudication import adjudication_panel
        from .selectors.visits import dashboard_panel
        from .views.patient import refused_link_page

        trial_hooks.participant_status_changed.register(hooks.participant_status_changed)
        trial_hooks.protocol_sections.register(protocol.protocol_sections)
        trial_hooks.dashboard_panels.register(dashboard_panel)
        trial_hooks.dashboard_panels.register(adjudication_panel)
        trial_hooks.dashboard_panels.register(messages_panel)
        trial_hooks.demo_stages.register(demo.followup_demo_stage)
        # The reference readings of a study that asks per-vertebra readings (nothing for the others).
        trial_hooks.demo_stages.register(demo.reference_demo_stage)
        trial_hooks.bench_endpoints.register(bench.bench_endpoints)
        trial_hooks.bench_jobs.register(bench.bench_jobs)
        crf_hooks.record_written.register(hooks.record_written)
        crf_hooks.visit_finder.register(hooks.visit_of)
        trial_hooks.page_answers.register(refused_link_page)
        trial_hooks.menu_items.register(followup_menu)
        trial_hooks.health_checks.register(dispatch_health_report)
        for kind in DIGESTS:
            staff_message_kind_register(kind, DIGEST_MESSAGES)
        # After the visits: the demonstration ODI wording, so that patient links can be tried.
        trial_hooks.demo_stages.register(demo_wording_stage)
