"""Reports pages: the study's reports (generate one, the list of jobs), its exports (ask for one, the list),
one job's progress (polled from the API every 2 s by static/js/jobs.js), the download, and the download log
(data managers).

The same rules as the API (reports.access): principal investigators and data managers, study-wide; a 403 for
the others who see the study, a 404 for those who see none of it.
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from trial.access import visible_sites
from trial.errors import Forbidden
from trial.pages import attempt, redraw_status
from trial.views.common import paginate

from .access import DOWNLOAD_LOG_ROLES, can_read_download_log, report_studies, report_study
from .exports.formats import ANALYSIS, BOM_FORMATS, FORMATS, TABULAR
from .forms import DATASET_NAMES, AccuracyReportForm, ExportForm, InterimReportForm
from .jobs import job_state
from .models import Job, JobKind, JobStatus
from .selectors import download_list, job_get, job_list, study_zone
from .services import export_request, interim_report_request, job_download
from .stard.report import accuracy_offered, accuracy_report_request
from .steps import step_text


def _study(request: HttpRequest, *, roles=None):
    """The study of the page: ?study=CODE, else the first whose reports the user reads."""
    code = request.GET.get("study", "").strip()
    if not code:
        first = report_studies(request.user).order_by("code").values_list("code", flat=True).first()
        if first is None:
            if visible_sites(request.user).exists():
                raise Forbidden(
                    _("Only principal investigators and data managers can generate and read reports.")
                )
            raise Http404("No study.")
        code = first
    return report_study(request.user, code, **({"roles": roles} if roles else {}))


def _shown(job: Job) -> Job:
    """The job with what the page shows: its state as readers see it and its step's name."""
    job.state = job_state(job)
    language = job.params.get("language") or ""
    job.language_label = dict(settings.LANGUAGES).get(language, language)
    cut = job.params.get("cut")
    # The stored cut once built (its time and its dataset's hash, as the report prints them); until then
    # the time asked for, if any.
    job.cut_at = job.cut.cut_at if job.cut_id else datetime.datetime.fromisoformat(cut) if cut else None
    job.step_label = step_text(job.kind, job.step)
    job.percent = int(100 * job.steps_done / job.steps_total) if job.steps_total else 0
    job.export = _export_shown(job.params) if job.kind == JobKind.EXPORT else None
    return job


def _export_shown(params: dict) -> dict:
    """An export's options as the page names them (never the salt)."""
    return {
        "format": FORMATS.get(params.get("format"), params.get("format")),
        "dataset": DATASET_NAMES.get(params.get("dataset")),
        "deidentify": bool(params.get("deidentify")),
        "bom": bool(params.get("bom")),
    }


@login_required
def reports_page(request: HttpRequest) -> HttpResponse:
    """The study's reports: the forms that ask for one (PRG to its page), the interim report's and, for a
    study whose protocol analyses vertebrae, the accuracy report's; and its jobs, newest first. Five queries
    whatever the page."""
    study = _study(request)
    zone = study_zone(study.pk)
    accuracy = accuracy_offered(study)
    asks_accuracy = request.method == "POST" and request.POST.get("report") == "accuracy"
    form = InterimReportForm(
        request.POST if request.method == "POST" and not asks_accuracy else None,
        initial={"language": request.LANGUAGE_CODE},
    )
    accuracy_form = AccuracyReportForm(
        request.POST if asks_accuracy else None,
        initial={"language": request.LANGUAGE_CODE, "interval": "wilson", "format": "pdf"},
    )
    done = None
    if asks_accuracy:
        if accuracy_form.is_valid():
            done = attempt(
                accuracy_report_request,
                form=accuracy_form,
                study=study,
                actor=request.user,
                **accuracy_form.cleaned_data,
            )
            if done:
                messages.success(request, _("The report is being built. This page shows its progress."))
                return redirect("report-job", pk=done.value.pk)
    elif request.method == "POST":
        with timezone.override(zone):  # the cut is typed at the study's wall clock
            valid = form.is_valid()
        if valid:
            done = attempt(
                interim_report_request,
                form=form,
                study=study,
                actor=request.user,
                language=form.cleaned_data["language"],
                cut=form.cleaned_data["cut"],
            )
            if done:
                messages.success(request, _("The report is being built. This page shows its progress."))
                return redirect("report-job", pk=done.value.pk)
    # The exports have their page (exports_page): this one lists the reports.
    page = paginate(request, job_list(study=study).exclude(kind=JobKind.EXPORT))
    context = {
        "study": study,
        "form": form,
        "accuracy": accuracy,
        "accuracy_form": accuracy_form,
        "zone": str(zone),
        "page": page,
        "rows": [_shown(job) for job in page.object_list],
        "reads_log": can_read_download_log(request.user, study),
    }
    status = redraw_status(done) if request.method == "POST" else 200
    return render(request, "reports/reports.html", context, status=status)


@login_required
def exports_page(request: HttpRequest) -> HttpResponse:
    """The study's exports: every format with its options (PRG to the job's page), and the export jobs, newest
    first, in as many queries as the reports page, whatever the number of jobs."""
    study = _study(request)
    form = ExportForm(request.POST or None, initial={"language": request.LANGUAGE_CODE, "dataset": ANALYSIS})
    done = None
    if request.method == "POST" and form.is_valid():
        done = attempt(
            export_request,
            form=form,
            study=study,
            actor=request.user,
            format=form.cleaned_data["format"],
            # Left out when it does not apply (the page disables it for REDCap and ODM): the default.
            dataset=form.cleaned_data["dataset"] or ANALYSIS,
            deidentify=form.cleaned_data["deidentify"],
            bom=form.cleaned_data["bom"],
            language=form.cleaned_data["language"],
        )
        if done:
            messages.success(request, _("The export is being built. This page shows its progress."))
            return redirect("report-job", pk=done.value.pk)
    page = paginate(request, job_list(study=study, kind=JobKind.EXPORT))
    context = {
        "study": study,
        "form": form,
        "formats": [
            {"choice": choice, "help": form.format_help.get(choice.data["value"], "")}
            for choice in form["format"]
        ],
        "datasets": [
            {"choice": choice, "help": form.dataset_help.get(choice.data["value"], "")}
            for choice in form["dataset"]
        ],
        "tabular": " ".join(TABULAR),
        "bom_formats": " ".join(BOM_FORMATS),
        "zone": str(study_zone(study.pk)),
        "page": page,
        "rows": [_shown(job) for job in page.object_list],
        "reads_log": can_read_download_log(request.user, study),
    }
    status = redraw_status(done) if request.method == "POST" else 200
    return render(request, "reports/exports.html", context, status=status)


@require_GET
@login_required
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One job: its progress (updated every 2 s while it runs), the download once done, why it failed."""
    job = _shown(job_get(user=request.user, pk=pk))
    context = {
        "job": job,
        "study": job.study,
        "zone": str(study_zone(job.study_id)),
        "status_url": reverse("api:job-detail", args=[job.pk]),
        "download_url": reverse("report-job-download", args=[job.pk]),
        "finished": job.state.status in (JobStatus.DONE, JobStatus.FAILED),
    }
    return render(request, "reports/job.html", context)


@require_GET
@login_required
def job_download_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's file, logged as downloaded from the page (409 page until it is done)."""
    job = job_get(user=request.user, pk=pk)
    opened = job_download(job=job, user=request.user, via="page")
    return FileResponse(opened, as_attachment=True, filename=job.file_name, content_type=job.content_type)


@require_GET
@login_required
def downloads_page(request: HttpRequest) -> HttpResponse:
    """Who downloaded which report, when: the study's data managers. Four queries whatever the page."""
    study = _study(request, roles=DOWNLOAD_LOG_ROLES)
    page = paginate(request, download_list(study=study))
    context = {"study": study, "page": page, "zone": str(study_zone(study.pk))}
    return render(request, "reports/downloads.html", context)


urlpatterns = [
    path("reports/", reports_page, name="reports"),
    path("reports/exports/", exports_page, name="report-exports"),
    path("reports/jobs/<int:pk>/", job_page, name="report-job"),
    path("reports/jobs/<int:pk>/download/", job_download_page, name="report-job-download"),
    path("reports/downloads/", downloads_page, name="report-downloads"),
]
