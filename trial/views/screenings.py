"""Screening pages: the form with its live verdict, the detail with enrollment and correction, the log."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..access import can_write_at
from ..clock import site_today
from ..eligibility import Verdict
from ..filters import ScreeningFilter
from ..forms import (
    ANSWER_NAMES,
    EnrollmentForm,
    ScreeningCorrectionForm,
    ScreeningForm,
)
from ..imaging import imaging_checks, imaging_spec
from ..models import Outcome, Screening, Study
from ..navigation import can_screen_in
from ..pages import attempt, redraw_status
from ..services.enrollment import study_target_reached
from .common import (
    criterion_state,
    filter_sites,
    history_rows,
    list_page,
    participant_of,
    visible_studies,
    writable_sites_for,
)

# --- screening form ------------------------------------------------------------------------------------


def _screening_study(request: HttpRequest) -> tuple[Study, QuerySet, list[Study]]:
    """The study of the form (?study=CODE, else the first one) and the sites the user may screen at."""
    studies = [s for s in visible_studies(request.user) if writable_sites_for(request.user, s).exists()]
    if not studies:
        raise PermissionDenied(_("You have no coordinator or investigator role at any site."))
    code = request.GET.get("study")
    study = next((s for s in studies if s.code == code), None) if code else studies[0]
    if study is None:
        raise Http404(_("Unknown study."))
    return study, writable_sites_for(request.user, study), studies


def _preview_verdict(form: ScreeningForm, study: Study) -> Verdict | None:
    """The verdict of what the form holds so far, so that the page shows one without JavaScript too."""
    data = dict(getattr(form, "cleaned_data", {}))
    site = data.pop("site", None) or form.initial.get("site")
    if site is None:
        return None
    values = {key: data[key] for key in ("screening_date", "age", "sex", "fracture_levels") if key in data}
    if form.is_bound:
        values["answers"] = form.answers()
    return attempt(services.screening_evaluate, study=study, site=site, data=values).value


def _verdict_context(verdict: Verdict | None, criteria) -> dict[str, Any]:
    if verdict is None:
        return {"verdict": None, "failed_rows": [], "missing_rows": []}
    by_code = {c.code: c for c in criteria}
    return {
        "verdict": verdict,
        "failed_rows": [by_code[code] for code in verdict.failed if code in by_code],
        "missing_rows": [by_code[code] for code in verdict.missing if code in by_code],
    }


def _criterion_groups(form, verdict: Verdict | None) -> list[dict[str, Any]]:
    groups = form.criterion_groups()
    for group in groups:
        for row in group["rows"]:
            row["state"] = (
                criterion_state(row["criterion"].code, failed=verdict.failed, missing=verdict.missing)
                if verdict
                else "unknown"
            )
    return groups


@login_required
def screening_new(request: HttpRequest) -> HttpResponse:
    """Screen a patient: the live verdict comes from the eligibility API, the saved one from the service."""
    study, sites, studies = _screening_study(request)
    criteria = study.current_version.criteria.all()
    status = 200
    if request.method == "POST":
        form = ScreeningForm(request.POST, sites=sites, criteria=criteria)
        saved = (
            attempt(
                services.screening_create,
                form=form,
                actor=request.user,
                study=study,
                site=form.cleaned_data["site"],
                data=form.service_data(),
            )
            if form.is_valid()
            else None
        )
        if saved:
            screening = saved.value
            messages.success(
                request, _("Screening saved: %(outcome)s.") % {"outcome": screening.get_outcome_display()}
            )
            return redirect("screening-detail", pk=screening.pk)
        status = redraw_status(saved)
    else:
        first_site = sites.first()
        initial = {
            "site": first_site if sites.count() == 1 else None,
            "screening_date": site_today(first_site),
        }
        form = ScreeningForm(initial=initial, sites=sites, criteria=criteria)
    verdict = _preview_verdict(form, study)
    context = {
        "study": study,
        "studies": studies,
        "form": form,
        "groups": _criterion_groups(form, verdict),
        **_verdict_context(verdict, criteria),
    }
    return render(request, "trial/screening_form.html", context, status=status)


# --- screening detail, enrollment, correction ----------------------------------------------------------


def _screening_for(request: HttpRequest, pk: int) -> Screening:
    return get_object_or_404(selectors.screening_list(user=request.user), pk=pk)


def _render_screening_detail(
    request: HttpRequest, screening: Screening, *, enroll_form=None, correct_form=None, status: int = 200
) -> HttpResponse:
    participant = participant_of(screening)
    criteria = list(screening.protocol_version.criteria.order_by("order"))
    can_write = can_write_at(request.user, screening.site)
    may_enroll = can_write and participant is None and screening.outcome == Outcome.ELIGIBLE
    may_correct = can_write and participant is None
    if may_enroll and enroll_form is None:
        enroll_form = EnrollmentForm(
            initial={"enrollment_date": site_today(screening.site)}, version=screening.protocol_version
        )
    if may_correct and correct_form is None:
        correct_form = ScreeningCorrectionForm(
            initial=ScreeningCorrectionForm.initial_for(screening), criteria=criteria
        )
    rows = [
        {
            "criterion": c,
            "answer": None if c.computed else ANSWER_NAMES.get(screening.answers.get(c.code)),
            "state": criterion_state(
                c.code, failed=screening.failed_criteria, missing=screening.missing_criteria
            ),
        }
        for c in criteria
    ]
    verdict = Verdict(
        outcome=screening.outcome, failed=screening.failed_criteria, missing=screening.missing_criteria
    )
    exams = list(selectors.imaging_exams(screening=screening))
    spec = imaging_spec(criteria)
    context = {
        # A protocol with an imaging rule shows the section even before the first exam (what is missing).
        "shows_imaging": bool(exams) or spec is not None,
        "exams": exams,
        "imaging_checks": imaging_checks(spec, selectors.imaging_exam_facts(exams)),
        "screening": screening,
        "participant": participant,
        "rows": rows,
        "history": history_rows(screening),
        "may_enroll": may_enroll,
        # Warned before saving, not after: the enroll form asks to confirm going beyond the target.
        "target_reached": may_enroll
        and study_target_reached(screening.study_id, screening.protocol_version.target_enrollment),
        "enroll_form": enroll_form if may_enroll or (enroll_form and enroll_form.errors) else None,
        "may_correct": may_correct,
        "correct_form": correct_form if may_correct or (correct_form and correct_form.errors) else None,
        "groups": _criterion_groups(correct_form, verdict) if correct_form else [],
        **_verdict_context(verdict, criteria),
    }
    return render(request, "trial/screening_detail.html", context, status=status)


@login_required
def screening_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_screening_detail(request, _screening_for(request, pk))


@login_required
@require_POST
def screening_enroll(request: HttpRequest, pk: int) -> HttpResponse:
    """Enroll an eligible screening; the service hands out the study ID."""
    screening = _screening_for(request, pk)
    form = EnrollmentForm(request.POST, version=screening.protocol_version)
    enrolled = (
        attempt(
            services.participant_enroll,
            form=form,
            actor=request.user,
            screening=screening,
            **form.service_data(),
        )
        if form.is_valid()
        else None
    )
    if enrolled:
        participant = enrolled.value
        done = (
            _("Registered. The case's study ID is %(study_id)s.")
            if participant.consent_waived
            else _("Enrolled. The participant's study ID is %(study_id)s.")
        )
        messages.success(request, done % {"study_id": participant.study_id})
        # Straight to the new participant: their forms and follow-up start there.
        return redirect("participant-detail", study_id=participant.study_id)
    return _render_screening_detail(request, screening, enroll_form=form, status=redraw_status(enrolled))


@login_required
@require_POST
def screening_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a screening before enrollment, with a reason kept in the audit trail."""
    screening = _screening_for(request, pk)
    criteria = screening.protocol_version.criteria.order_by("order")
    form = ScreeningCorrectionForm(request.POST, criteria=criteria)
    corrected = (
        attempt(
            services.screening_update,
            form=form,
            actor=request.user,
            screening=screening,
            data=form.service_data(),
            reason=form.cleaned_data["reason"],
        )
        if form.is_valid()
        else None
    )
    if corrected:
        messages.success(request, _("Screening corrected."))
        return redirect("screening-detail", pk=screening.pk)
    return _render_screening_detail(request, screening, correct_form=form, status=redraw_status(corrected))


# --- screening log -------------------------------------------------------------------------------------


@login_required
def screening_log(request: HttpRequest) -> HttpResponse:
    """Every screening at the user's sites, newest first, 50 a page; one query for the rows."""
    sites = filter_sites(request.user)
    filters = ScreeningFilter(
        request.GET, queryset=selectors.screening_list(user=request.user), request=request
    )
    form = filters.form
    listing = list_page(
        request, filters.qs, form=form, kept_total=lambda: selectors.screening_total(user=request.user)
    )
    page = listing.page
    rows = [{"screening": s, "participant": participant_of(s)} for s in page.object_list]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query_errors": listing.errors,
        "show_study": len({site.study_id for site in sites}) > 1,
        "can_screen": can_screen_in(request.user),
    }
    return render(request, "trial/screening_log.html", context, status=listing.status)
