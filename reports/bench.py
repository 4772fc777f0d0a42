"""The interim report as `manage.py bench` times it (trial.hooks.bench_jobs): captured, computed and drawn."""

from django.utils import timezone

from trial.bench import Endpoint, Job

from .dataset import dataset_capture
from .figures import figures_compute
from .interim import report_build
from .pdf import report_render


def _report_unsaved(study) -> bytes:
    """The report's reads and work without storing its cut (the memory probe must not write)."""
    captured = dataset_capture(study=study, cut_at=timezone.now().replace(microsecond=0))
    figures = figures_compute(
        captured.dataset, sha256=captured.sha256, generated_by="bench", generated_at=timezone.now()
    )
    return report_render(figures, language="zh-hans")


def bench_jobs(*, study) -> list[Job]:
    from .exports.bench import bench_jobs as export_jobs

    return [
        Job(
            name="interim_report (cut, figures, PDF in zh-hans)",
            run=lambda: report_build(study=study, language="zh-hans"),
            probe=lambda: _report_unsaved(study),
            # The report reads the whole study into one dataset (its rows, then the figures): its memory
            # grows with the participants by design, about 1 KiB each; the cap holds it at 56,000.
            memory_cap_mib=512.0,
        ),
        *export_jobs(study=study),
    ]


def bench_endpoints(*, study, site) -> list[Endpoint]:
    """The reports page and the study's jobs, as a principal investigator reads them."""
    return [
        Endpoint("GET", "/reports/", users=("principal_investigator",), target=True),
        Endpoint(
            "GET", f"/api/v1/studies/{study.code}/jobs/", users=("principal_investigator",), target=True
        ),
    ]
