"""Risk-model pages: the workbench (a study's models, the development form, developments under way), a
model's page (key figures, coefficients, its jobs' progress and PDFs, the JSON downloads, freezing, validation
and the validations), a job's progress, and the calculator of a frozen model.

The same rules as the API (access.py): a 403 for the others who see the study, a 404 for those who see none
of it (an adjudicator).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crf.services.signing_session import signing_session
from trial.access import user_roles, visible_sites
from trial.errors import Forbidden
from trial.i18n import localized
from trial.models import StaffRole, Study
from trial.pages import attempt, redraw_status
from trial.views.common import paginate

from ..jobs import job_state
from ..models import JobKind, JobStatus
from ..selectors import study_zone
from ..steps import step_text
from .access import READ_ROLES, WORK_ROLES, can_work, risk_study
from .forms import CalculatorForm, DevelopForm, FreezeForm, ReportForm, ValidateForm
from .models import RiskModelState
from .selectors import (
    developments_pending,
    job_model_id,
    model_jobs,
    risk_calculate,
    risk_job_get,
    risk_model_get,
    risk_model_list,
    spec_files,
    validation_get,
    validation_list,
)
from .services import (
    MAX_IMPORT_BYTES,
    model_develop_request,
    model_freeze,
    model_report_request,
    model_validate_request,
    risk_job_download,
)


def _study(request: HttpRequest, *, work: bool = False) -> Study:
    """The study of the page: ?study=CODE, else the first (by code) whose models the user reads."""
    code = (request.POST.get("study") or request.GET.get("study", "")).strip()
    if not code:
        held = {study for role, study, _site in user_roles(request.user) if role in READ_ROLES}
        code = Study.objects.filter(pk__in=held).order_by("code").values_list("code", flat=True).first()
        if code is None:
            if visible_sites(request.user).exists():
                raise Forbidden(
                    _(
                        "Only principal investigators, data managers, monitors and investigators read risk "
                        "models."
                    )
                )
            raise Http404("No study.")
    return risk_study(request.user, code, work=work)


def _shown(job):
    """The job with what the pages show: its state as readers see it, its step's name, its percent."""
    job.state = job_state(job)
    job.step_label = step_text(job.kind, job.step)
    job.percent = int(100 * job.steps_done / job.steps_total) if job.steps_total else 0
    language = job.params.get("language") or ""
    job.language_label = dict(settings.LANGUAGES).get(language, language)
    return job


@login_required
def risk_models_page(request: HttpRequest) -> HttpResponse:
    """The study's models (state, corrected C-statistic, who and when), the developments under way and the
    development form (PIs and data managers; PRG to the job's page). Six queries whatever the models."""
    study = _study(request, work=request.method == "POST")
    version = study.current_version
    has_endpoint = bool(version and (version.definition or {}).get("endpoint"))
    works = can_work(request.user, study) and has_endpoint
    specs = spec_files(study) if works else []
    form = DevelopForm(request.POST or None, specs=specs, initial={"language": request.LANGUAGE_CODE})
    done = None
    zone = study_zone(study.pk)
    with timezone.override(zone):  # a cut typed without a zone is the study's local time
        valid = request.method == "POST" and form.is_valid()
    if valid:
        options = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
        done = attempt(model_develop_request, form=form, study=study, actor=request.user, **options)
        if done:
            messages.success(request, _("The model is being developed. This page shows its progress."))
            return redirect("risk-model-job", pk=done.value.pk)
    context = {
        "study": study,
        "page": paginate(request, risk_model_list(study=study)),
        "pending": [_shown(job) for job in developments_pending(study=study)] if works else [],
        "form": form,
        "works": works and bool(specs),
        "has_endpoint": has_endpoint,
        "zone": str(zone),
    }
    return render(
        request,
        "reports/riskmodel/list.html",
        context,
        status=redraw_status(done) if request.method == "POST" else 200,
    )


def _labelled(rows: list, model: dict) -> list:
    """The coefficients with their predictor's label in the reader's language (a spline's terms share it)."""
    labels = {p["code"]: localized(p.get("label")) for p in model.get("design", {}).get("predictors", [])}
    return [{**row, "label": labels.get(row.get("predictor"), "")} for row in rows]


def _validation_studies(user, risk_model):
    """The other studies with an endpoint whose data the user reads whole (study-wide PI or data manager)."""
    held = StaffRole.objects.filter(user=user, active=True, site__isnull=True, role__in=WORK_ROLES)
    return (
        Study.objects.filter(pk__in=held.values("study"), current_version__definition__has_key="endpoint")
        .exclude(pk=risk_model.study_id)
        .order_by("code")
    )


def _model_render(request, risk_model, *, freeze_form=None, validate_form=None, status=200) -> HttpResponse:
    works = can_work(request.user, risk_model.study)
    jobs = [_shown(job) for job in model_jobs(risk_model=risk_model)]
    running = next((job for job in jobs if job.state.status in (JobStatus.QUEUED, JobStatus.RUNNING)), None)
    pdfs = [
        job for job in jobs if job.state.status == JobStatus.DONE and job.kind != JobKind.RISK_MODEL_VALIDATE
    ]
    validation_pdfs = [job for job in pdfs if job.params.get("validation")]  # drawn again in a language
    pdfs = [job for job in pdfs if not job.params.get("validation")]
    ask_user_id = not signing_session(request).has_signed(request.user)
    result = risk_model.result or {}
    context = {
        "study": risk_model.study,
        "m": risk_model,
        "result": result,
        "coefficients": _labelled(result.get("coefficients") or [], risk_model.model or {}),
        "predictors": (risk_model.model or {}).get("design", {}).get("predictors", []),
        "jobs": jobs,
        "running": running,
        "status_url": reverse("api:job-detail", args=[running.pk]) if running and works else "",
        "pdfs": pdfs,
        "validation_pdfs": validation_pdfs,
        "languages_missing": sorted({"en", "zh-hans"} - {job.params.get("language") for job in pdfs}),
        "validations": validation_list(risk_model=risk_model),
        "works": works,
        "frozen": risk_model.state == RiskModelState.FROZEN,
        "freeze_form": freeze_form or FreezeForm(ask_user_id=ask_user_id),
        "validate_form": validate_form
        or ValidateForm(
            studies=_validation_studies(request.user, risk_model) if works else [],
            initial={"language": request.LANGUAGE_CODE, "source": "study"},
        ),
        "report_form": ReportForm(),
        "zone": str(study_zone(risk_model.study_id)),
        "max_mb": MAX_IMPORT_BYTES // 2**20,
    }
    return render(request, "reports/riskmodel/model.html", context, status=status)


@require_GET
@login_required
def risk_model_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A model: key figures, coefficients, its jobs (progress, PDFs), downloads, freezing and validation."""
    return _model_render(request, risk_model_get(user=request.user, pk=pk))


@require_POST
@login_required
def risk_model_freeze_page(request: HttpRequest, pk: int) -> HttpResponse:
    risk_model = risk_model_get(user=request.user, pk=pk)
    session = signing_session(request)
    form = FreezeForm(request.POST, ask_user_id=not session.has_signed(request.user))
    done = None
    if form.is_valid():
        done = attempt(
            model_freeze,
            form=form,
            risk_model=risk_model,
            actor=request.user,
            session=session,
            password=form.cleaned_data["password"],
            username=form.cleaned_data.get("username", ""),
            reason=form.cleaned_data["reason"],
        )
        if done:
            messages.success(request, _("The model is frozen: it can no longer change."))
            return redirect("risk-model-page", pk=pk)
    form.data = form.data.copy()
    form.data[form.add_prefix("password")] = ""  # never drawn back into the page
    return _model_render(request, risk_model, freeze_form=form, status=redraw_status(done))


@require_POST
@login_required
def risk_model_validate_page(request: HttpRequest, pk: int) -> HttpResponse:
    risk_model = risk_model_get(user=request.user, pk=pk)
    studies = _validation_studies(request.user, risk_model)
    form = ValidateForm(request.POST, request.FILES, studies=studies)
    done = None
    with timezone.override(study_zone(risk_model.study_id)):  # a cut typed without a zone: the study's time
        valid = form.is_valid()
    if valid:
        upload = form.cleaned_data.get("file")
        cut = form.cleaned_data.get("cut")
        done = attempt(
            model_validate_request,
            form=form,
            risk_model=risk_model,
            actor=request.user,
            source=form.cleaned_data["source"],
            language=form.cleaned_data["language"],
            study=form.cleaned_data.get("study") or "",
            cut=cut,
            content=upload.read(MAX_IMPORT_BYTES + 1) if upload else None,
            file_name=upload.name if upload else "",
        )
        if done:
            messages.success(request, _("The model is being validated. This page shows its progress."))
            return redirect("risk-model-job", pk=done.value.pk)
    return _model_render(request, risk_model, validate_form=form, status=redraw_status(done))


@require_POST
@login_required
def risk_model_report_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF of the model (or of a validation) drawn again in another language: PRG to the job's page."""
    risk_model = risk_model_get(user=request.user, pk=pk)
    form = ReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a language."))
        return redirect("risk-model-page", pk=pk)
    validation = form.cleaned_data.get("validation")
    validation = validation_get(user=request.user, pk=validation) if validation else None
    job = model_report_request(
        risk_model=risk_model,
        actor=request.user,
        language=form.cleaned_data["language"],
        validation=validation,
    )
    messages.success(request, _("The report is being drawn. This page shows its progress."))
    return redirect("risk-model-job", pk=job.pk)


@login_required
def risk_model_calculator(request: HttpRequest, pk: int) -> HttpResponse:
    """A frozen model's calculator: one input per predictor; the predicted risk at the horizon, its 95 %
    interval and the nomogram's points. A model not frozen is a 409 page."""
    risk_model = risk_model_get(user=request.user, pk=pk)
    predictors = risk_model.model.get("design", {}).get("predictors", [])
    form = CalculatorForm(request.POST or None, predictors=predictors)
    context = {"study": risk_model.study, "m": risk_model, "form": form, "found": None}
    if risk_model.state != RiskModelState.FROZEN:
        return render(request, "reports/riskmodel/calculator.html", context, status=409)
    done = None
    if request.method == "POST" and form.is_valid():
        done = attempt(
            risk_calculate, form=form, risk_model=risk_model, user=request.user, values=form.cleaned_data
        )
        context["found"] = _calculated(done.value, predictors) if done else None
    status = redraw_status(done) if request.method == "POST" else 200
    return render(request, "reports/riskmodel/calculator.html", context, status=status)


def _calculated(found: dict, predictors: list[dict]) -> dict:
    """The calculator's answer as the page shows it: percents (no interval for a penalised model) and each
    predictor's points under its label."""
    percent = {key: None if found[key] is None else 100 * found[key] for key in ("risk", "low", "high")}
    rows = [
        {
            "code": p["code"],
            "label": localized(p.get("label") or {}) or p["code"],
            "points": found["points_each"][p["code"]],
        }
        for p in predictors
    ]
    return {**found, **{f"{key}_percent": value for key, value in percent.items()}, "points_rows": rows}


@require_GET
@login_required
def risk_model_download(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """The model JSON or the development result JSON, as a file."""
    if what not in ("model", "result"):
        raise Http404("No such file.")
    risk_model = risk_model_get(user=request.user, pk=pk)
    body = risk_model.model if what == "model" else risk_model.result
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "sort_keys": True, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="risk-model-{risk_model.pk}-{what}.json"'
    return response


@require_GET
@login_required
def risk_validation_download(request: HttpRequest, pk: int) -> HttpResponse:
    validation = validation_get(user=request.user, pk=pk)
    response = JsonResponse(
        validation.result, json_dumps_params={"ensure_ascii": False, "sort_keys": True, "indent": 1}
    )
    response["Content-Disposition"] = f'attachment; filename="risk-validation-{validation.pk}-result.json"'
    return response


@require_GET
@login_required
def risk_job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A workbench job's progress (polled every 2 s by static/js/jobs.js); once a development or validation
    is done, its model's page."""
    job = _shown(risk_job_get(user=request.user, pk=pk))
    model_id = job_model_id(job)
    if job.state.status == JobStatus.DONE and model_id:
        return redirect("risk-model-page", pk=model_id)
    context = {
        "job": job,
        "study": job.study,
        "model_id": model_id,
        "zone": str(study_zone(job.study_id)),
        "status_url": reverse("api:job-detail", args=[job.pk]) if can_work(request.user, job.study) else "",
        "finished": job.state.status in (JobStatus.DONE, JobStatus.FAILED),
    }
    return render(request, "reports/riskmodel/job.html", context)


@require_GET
@login_required
def risk_job_download_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A workbench job's PDF, logged as downloaded from the page (409 page until it is done)."""
    job = risk_job_get(user=request.user, pk=pk)
    opened = risk_job_download(job=job, user=request.user, via="page")
    return FileResponse(opened, as_attachment=True, filename=job.file_name, content_type=job.content_type)


urlpatterns = [
    path("reports/risk-models/", risk_models_page, name="risk-models-page"),
    path("reports/risk-models/<int:pk>/", risk_model_page, name="risk-model-page"),
    path("reports/risk-models/<int:pk>/freeze/", risk_model_freeze_page, name="risk-model-freeze-page"),
    path("reports/risk-models/<int:pk>/validate/", risk_model_validate_page, name="risk-model-validate-page"),
    path("reports/risk-models/<int:pk>/report/", risk_model_report_page, name="risk-model-report-page"),
    path("reports/risk-models/<int:pk>/calculator/", risk_model_calculator, name="risk-model-calculator"),
    path("reports/risk-models/<int:pk>/<str:what>.json", risk_model_download, name="risk-model-download"),
    path(
        "reports/risk-validations/<int:pk>/result.json",
        risk_validation_download,
        name="risk-validation-download",
    ),
    path("reports/risk-models/jobs/<int:pk>/", risk_job_page, name="risk-model-job"),
    path(
        "reports/risk-models/jobs/<int:pk>/download/", risk_job_download_page, name="risk-model-job-download"
    ),
]
