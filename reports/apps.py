from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def reports_menu() -> list:
    from trial.models import Role
    from trial.navigation import MenuItem

    from .access import REPORT_ROLES
    from .indextests.access import READ_ROLES as OUTPUT_READ_ROLES
    from .riskmodel.access import READ_ROLES as RISK_READ_ROLES

    facts = _ProtocolFacts()  # one query for this menu, whichever items ask
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
            studies=facts.vertebra,
        ),
        # Risk models: for a study with an endpoint, asked in the same query as the model outputs' (the same
        # study-wide roles ask it); investigators, at their site, without asking (no query more on every page
        # of theirs): a model is an aggregate, with no participant in it, and a study without an endpoint
        # says so on the page.
        MenuItem(
            "risk-models-page",
            _("Risk models"),
            74,
            ("risk-model-page", "risk-model-calculator", "risk-model-job"),
            roles=RISK_READ_ROLES - {Role.INVESTIGATOR},
            study_wide=True,
            studies=facts.endpoint,
        ),
        MenuItem(
            "risk-models-page",
            _("Risk models"),
            75,
            ("risk-model-page", "risk-model-calculator", "risk-model-job"),
            roles=frozenset({Role.INVESTIGATOR}),
            site_level=True,
        ),
    ]


class _ProtocolFacts:
    """Which studies' protocols analyse vertebrae (`design.unit: vertebra`: the model-output pages) and which
    declare an endpoint (the risk models): one query when first asked, kept for this menu."""

    def __init__(self):
        self._found: tuple[frozenset[int], frozenset[int]] | None = None

    def _read(self) -> tuple[frozenset[int], frozenset[int]]:
        if self._found is None:
            from trial.models import Study

            rows = Study.objects.values_list(
                "pk", "current_version__definition__design__unit", "current_version__definition__endpoint"
            )
            rows = list(rows)
            self._found = (
                frozenset(pk for pk, unit, _endpoint in rows if unit == "vertebra"),
                frozenset(pk for pk, _unit, endpoint in rows if endpoint),
            )
        return self._found

    def vertebra(self) -> frozenset[int]:
        return self._read()[0]

    def endpoint(self) -> frozenset[int]:
        return self._read()[1]


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


def _risk_model_run(kind: str):
    """The risk-model workbench's runners (reports/riskmodel/services.py), imported when a job runs."""

    def run(job, progress):
        from .riskmodel import services

        return getattr(services, f"model_{kind}_run")(job, progress)

    run.__name__ = f"_risk_model_{kind}_run"
    return run


def _risk_model_steps() -> dict:
    # The codes the risk-model jobs pass to progress(): the data, develop()'s and validate()'s stages
    # (reports/riskmodel/develop.py STEPS), and the PDF.
    return {
        "data": _("Reading the data cut"),
        "fit": _("Imputing and fitting the model"),
        "bootstrap": _("Internal validation: bootstrap resamples"),
        "report": _("Calibration, decision curve and nomogram"),
        "validate": _("Validating the model on the cohort"),
        "render": _("Drawing the PDF"),
    }


RISK_MODEL_RUNNERS = {kind: _risk_model_run(kind) for kind in ("develop", "validate", "report")}


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
        for kind, runner in RISK_MODEL_RUNNERS.items():
            jobs.job_runner_register(f"risk_model_{kind}", runner)
            steps.job_steps_register(f"risk_model_{kind}", _risk_model_steps())
        if report_ready_plan not in jobs.JOB_FINISHED:
            jobs.JOB_FINISHED.append(report_ready_plan)
        staff_message_kind_register(MessageKind.REPORT_READY, REPORT_READY_MESSAGES)
        trial_hooks.menu_items.register(reports_menu)
        trial_hooks.bench_jobs.register(_bench_jobs)
        trial_hooks.bench_endpoints.register(_bench_endpoints)
        # After crf's and followup's: the model outputs of an accuracy study's registered vertebrae.
        trial_hooks.demo_stages.register(_demo_stage)
