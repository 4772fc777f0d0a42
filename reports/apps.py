from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def reports_menu() -> list:
    from trial.navigation import MenuItem

    from .access import REPORT_ROLES
    from .indextests.access import READ_ROLES as OUTPUT_READ_ROLES

    # Study-wide roles only: a PI or data manager of one site would be refused (a report covers every site).
    # The exports are a tab of the same pages (the same people), not a menu entry of their own.
    return [
        MenuItem(
            "reports",
            _("Reports"),
            70,
            ("report-exports", "report-job", "report-downloads"),
            roles=REPORT_ROLES,
            study_wide=True,
        ),
        MenuItem(
            "model-imports-page",
            _("Model outputs"),
            72,
            ("analysis-lock-page", "model-import-page"),
            roles=OUTPUT_READ_ROLES,
            study_wide=True,
            studies=_studies_with_index_tests,
        ),
    ]


def _studies_with_index_tests() -> frozenset[int]:
    """The studies analysed per vertebra (protocol `design.unit: vertebra`), whose index tests are model
    outputs: the only ones the model-output pages are for. One query."""
    from trial.models import Study

    found = Study.objects.filter(current_version__definition__design__unit="vertebra")
    return frozenset(found.values_list("pk", flat=True))


def _interim_report_run(job, progress):
    """The interim report's runner (reports/interim.py), imported when a job runs."""
    from .interim import interim_report_run

    return interim_report_run(job, progress)


def _export_run(job, progress):
    """The exports' runner (reports/exports/run.py), imported when a job runs."""
    from .exports.run import export_run

    return export_run(job, progress)


def _accuracy_report_run(job, progress):
    """The accuracy report's runner (reports/stard/report.py), imported when a job runs."""
    from .stard.report import accuracy_report_run

    return accuracy_report_run(job, progress)


def _bench_jobs(*, study) -> list:
    """The interim report as `manage.py bench` times it (reports/bench.py)."""
    from .bench import bench_jobs

    return bench_jobs(study=study)


def _bench_endpoints(*, study, site) -> list:
    from .bench import bench_endpoints

    return bench_endpoints(study=study, site=site)


def _demo_stage(*, study, seed):
    """seed_demo's reports stage (reports/demo/stage.py), imported when it runs."""
    from .demo import reports_demo_stage

    return reports_demo_stage(study=study, seed=seed)


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        # reports is the top app: it plugs into the lower apps' extension points, never the reverse.
        from followup.messaging.models import MessageKind
        from followup.messaging.staff import staff_message_kind_register
        from trial import hooks as trial_hooks

        from . import jobs, steps
        from .models import JobKind
        from .monthly import REPORT_READY_MESSAGES, report_ready_plan

        jobs.job_runner_register(JobKind.INTERIM_REPORT, _interim_report_run)
        steps.job_steps_register(JobKind.INTERIM_REPORT, steps.interim_steps())
        jobs.job_runner_register(JobKind.EXPORT, _export_run)
        steps.job_steps_register(JobKind.EXPORT, steps.export_steps())
        jobs.job_runner_register(JobKind.ACCURACY_REPORT, _accuracy_report_run)
        steps.job_steps_register(JobKind.ACCURACY_REPORT, steps.accuracy_steps())
        if report_ready_plan not in jobs.JOB_FINISHED:
            jobs.JOB_FINISHED.append(report_ready_plan)
        staff_message_kind_register(MessageKind.REPORT_READY, REPORT_READY_MESSAGES)
        trial_hooks.menu_items.register(reports_menu)
        trial_hooks.bench_jobs.register(_bench_jobs)
        trial_hooks.bench_endpoints.register(_bench_endpoints)
        # After crf's and followup's: the model outputs of an accuracy study's registered vertebrae.
        trial_hooks.demo_stages.register(_demo_stage)
