"""Model-output pages: the study's imports (upload a CSV, the versions, the lock), one import's rows per
vertebra with their Grad-CAM heatmaps, and the heatmap image itself (served only to the readers).

The same rules as the API (access.py): a 403 for the others who see the study, a 404 for those who see none
of it (a blinded adjudicator).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from trial.access import user_roles, visible_sites
from trial.errors import Forbidden
from trial.models import Study
from trial.pages import attempt, redraw_status
from trial.views.common import paginate

from ..access import holds_study_role
from ..selectors import study_zone
from .access import IMPORT_ROLES, LOCK_ROLES, READ_ROLES, outputs_study
from .forms import AnalysisLockForm, HeatmapForm, ModelImportForm
from .images import heatmap_response
from .models import ModelImport
from .selectors import analysis_lock_get, model_import_list, model_output_get, model_output_list
from .services import MAX_CSV_BYTES, analysis_lock, heatmap_attach, model_outputs_import


def _study(request: HttpRequest, *, roles=READ_ROLES):
    """The study of the page: ?study=CODE, else the first whose model outputs the user reads."""
    code = (request.POST.get("study") or request.GET.get("study", "")).strip()
    if not code:
        held = sorted(
            {study for role, study, site in user_roles(request.user) if role in READ_ROLES and not site}
        )
        code = Study.objects.filter(pk__in=held).order_by("code").values_list("code", flat=True).first()
        if code is None:
            if visible_sites(request.user).exists():
                raise Forbidden(
                    _(
                        "Only study-wide principal investigators, monitors and data managers read model "
                        "outputs."
                    )
                )
            raise Http404("No study.")
    return outputs_study(request.user, code, roles=roles)


def _read(upload, limit: int) -> bytes:
    """An upload's bytes, at most `limit` + 1 (the service refuses what is larger)."""
    return upload.read(limit + 1)


@login_required
def model_imports_page(request: HttpRequest) -> HttpResponse:
    """The study's imports (every version), the upload form (data managers) and the lock (data managers and
    principal investigators). Five queries whatever the number of imports."""
    study = _study(request, roles=IMPORT_ROLES if request.method == "POST" else READ_ROLES)
    form = ModelImportForm(request.POST or None, request.FILES or None)
    done = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["csv"]
        done = attempt(
            model_outputs_import,
            form=form,
            study=study,
            actor=request.user,
            content=_read(upload, MAX_CSV_BYTES),
            file_name=upload.name,
        )
        if done:
            messages.success(
                request, _("Imported: %(imports)s.") % {"imports": ", ".join(map(str, done.value))}
            )
            return redirect(f"{reverse('model-imports-page')}?study={study.code}")
    return _imports_render(
        request, study, form=form, status=redraw_status(done) if request.method == "POST" else 200
    )


def _imports_render(request, study, *, form=None, lock_form=None, status=200) -> HttpResponse:
    page = paginate(request, model_import_list(study=study))
    lock = analysis_lock_get(study=study)
    context = {
        "study": study,
        "page": page,
        "lock": lock,
        "form": form or ModelImportForm(),
        "lock_form": lock_form or AnalysisLockForm(),
        "imports": holds_study_role(request.user, study, IMPORT_ROLES) and lock is None,
        "locks": holds_study_role(request.user, study, LOCK_ROLES) and lock is None,
        "zone": str(study_zone(study.pk)),
    }
    return render(request, "reports/model_imports.html", context, status=status)


@login_required
def analysis_lock_page(request: HttpRequest) -> HttpResponse:
    """Lock the study's analysis (POST, with a reason); a GET goes back to the imports."""
    if request.method != "POST":
        study = _study(request)
        return redirect(f"{reverse('model-imports-page')}?study={study.code}")
    study = _study(request, roles=LOCK_ROLES)
    form = AnalysisLockForm(request.POST)
    done = None
    if form.is_valid():
        done = attempt(
            analysis_lock, form=form, study=study, actor=request.user, reason=form.cleaned_data["reason"]
        )
        if done:
            messages.success(request, _("The analysis is locked: model outputs are frozen."))
            return redirect(f"{reverse('model-imports-page')}?study={study.code}")
    return _imports_render(request, study, lock_form=form, status=redraw_status(done))


@login_required
def model_import_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One import's rows, one per vertebra, with the heatmap beside each case. Six queries a page."""
    found = ModelImport.objects.filter(pk=pk).values_list("study__code", flat=True).first()
    if found is None:
        raise Http404("No such import.")
    study = outputs_study(request.user, found)
    made = model_import_list(study=study).get(pk=pk)
    page = paginate(request, model_output_list(model_import=made))
    context = {
        "study": study,
        "made": made,
        "page": page,
        "uploads": holds_study_role(request.user, study, IMPORT_ROLES)
        and analysis_lock_get(study=study) is None,
        "heatmap_form": HeatmapForm(),
    }
    return render(request, "reports/model_import.html", context)


@login_required
def heatmap_page(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the vertebra's heatmap image (readers only; 404 if none). POST: attach one (data managers)."""
    output = model_output_get(user=request.user, pk=pk)
    back = reverse("model-import-page", args=[output.model_import_id])
    if request.method == "POST":
        form = HeatmapForm(request.POST, request.FILES)
        done = None
        if form.is_valid():
            content = _read(form.cleaned_data["heatmap"], 5 * 1024 * 1024)
            done = attempt(heatmap_attach, form=form, output=output, actor=request.user, content=content)
            if done:
                messages.success(request, _("The heatmap is attached."))
                return redirect(f"{back}#output-{output.pk}")
        return render(
            request,
            "reports/heatmap_refused.html",
            {"study": output.model_import.study, "back": back, "form": form},
            status=redraw_status(done),
        )
    return heatmap_response(output)


urlpatterns = [
    path("reports/model-outputs/", model_imports_page, name="model-imports-page"),
    path("reports/model-outputs/lock/", analysis_lock_page, name="analysis-lock-page"),
    path("reports/model-outputs/<int:pk>/", model_import_page, name="model-import-page"),
    path("reports/model-outputs/vertebrae/<int:pk>/heatmap/", heatmap_page, name="model-output-heatmap"),
]
