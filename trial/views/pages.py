"""Coordinator pages, rendered on the server: parse a form, call one service, render or redirect.

Reads go through the selectors and the access helpers, so a user sees only the sites they may see and every
list runs a fixed number of queries. A DomainError from a service becomes form errors on the same page.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..access import can_read_identity, can_write_at, visible_sites
from ..eligibility import Verdict
from ..errors import DomainError
from ..forms import (
    ANSWER_NAMES,
    EnrollmentForm,
    ParticipantFilterForm,
    ParticipantStatusForm,
    ScreeningCorrectionForm,
    ScreeningFilterForm,
    ScreeningForm,
)
from ..models import Outcome, Participant, ParticipantIdentity, ParticipantStatus, Screening, Site, Study
from ..services.screening import site_today

PAGE_SIZE = 50
TOP_FAILURE_REASONS = 5
HISTORY_LABELS = {
    "insert": gettext_lazy("created"),
    "update": gettext_lazy("changed"),
    "delete": gettext_lazy("deleted"),
}


# --- helpers -------------------------------------------------------------------------------------------


def _add_domain_errors(form, error: DomainError) -> None:
    """Show a service's field errors on the form's fields; the rest (or a bare message) above the form."""
    if not error.field_errors:
        form.add_error(None, error.message)
        return
    for field, field_messages in error.field_errors.items():
        target = field if field in form.fields else None
        if field == "identity" and "full_name" in form.fields:
            target = "full_name"
        for message in field_messages:
            form.add_error(target, message)


def _visible_studies(user) -> QuerySet:
    return selectors.study_list().filter(pk__in=visible_sites(user).values("study")).order_by("code")


def _writable_sites(user, study: Study) -> QuerySet:
    """The study's active sites where the user may screen and enroll (a handful, so one check per site)."""
    sites = visible_sites(user).filter(study=study, active=True).order_by("code")
    return Site.objects.filter(pk__in=[site.pk for site in sites if can_write_at(user, site)]).order_by(
        "code"
    )


def _participant_of(screening: Screening) -> Participant | None:
    try:
        return screening.participant
    except Participant.DoesNotExist:
        return None


def _criterion_state(code: str, *, failed, missing) -> str:
    if code in failed:
        return "fail"
    if code in missing:
        return "unknown"
    return "pass"


def _paginate(request: HttpRequest, queryset: QuerySet):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- dashboard -----------------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Enrollment against target, per site, and the commonest screen-failure reasons, per visible study."""
    studies = []
    for study in _visible_studies(request.user):
        summary = selectors.enrollment_summary(study=study, user=request.user)
        texts = {c.code: c.localized_text for c in study.current_version.criteria.all()}
        reasons = selectors.screen_failure_reasons(study=study, user=request.user)[:TOP_FAILURE_REASONS]
        studies.append(
            {
                "study": study,
                "summary": summary,
                "bar_percent": min(summary["total"]["percent"], 100),
                "reasons": [
                    {"code": code, "text": texts.get(code, ""), "count": count} for code, count in reasons
                ],
            }
        )
    return render(request, "trial/dashboard.html", {"studies": studies})


# --- screening form ------------------------------------------------------------------------------------


def _screening_study(request: HttpRequest) -> tuple[Study, QuerySet, list[Study]]:
    """The study of the form (?study=CODE, else the first one) and the sites the user may screen at."""
    studies = [s for s in _visible_studies(request.user) if _writable_sites(request.user, s).exists()]
    if not studies:
        raise PermissionDenied(_("You have no coordinator or investigator role at any site."))
    code = request.GET.get("study")
    study = next((s for s in studies if s.code == code), None) if code else studies[0]
    if study is None:
        raise Http404(_("Unknown study."))
    return study, _writable_sites(request.user, study), studies


def _preview_verdict(form: ScreeningForm, study: Study) -> Verdict | None:
    """The verdict of what the form holds so far, so that the page shows one without JavaScript too."""
    data = dict(getattr(form, "cleaned_data", {}))
    site = data.pop("site", None) or form.initial.get("site")
    if site is None:
        return None
    values = {key: data[key] for key in ("screening_date", "age", "sex", "fracture_levels") if key in data}
    if form.is_bound:
        values["answers"] = form.answers()
    try:
        return services.screening_evaluate(study=study, site=site, data=values)
    except DomainError:
        return None


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
                _criterion_state(row["criterion"].code, failed=verdict.failed, missing=verdict.missing)
                if verdict
                else "unknown"
            )
    return groups


@login_required
def screening_new(request: HttpRequest) -> HttpResponse:
    """Screen a patient: the live verdict comes from the eligibility API, the saved one from the service."""
    study, sites, studies = _screening_study(request)
    criteria = study.current_version.criteria.all()
    if request.method == "POST":
        form = ScreeningForm(request.POST, sites=sites, criteria=criteria)
        if form.is_valid():
            try:
                screening = services.screening_create(
                    actor=request.user, study=study, site=form.cleaned_data["site"], data=form.service_data()
                )
            except DomainError as error:
                _add_domain_errors(form, error)
            else:
                messages.success(
                    request, _("Screening saved: %(outcome)s.") % {"outcome": screening.get_outcome_display()}
                )
                return redirect("screening-detail", pk=screening.pk)
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
    return render(request, "trial/screening_form.html", context)


# --- screening detail, enrollment, correction ----------------------------------------------------------


def _screening_for(request: HttpRequest, pk: int) -> Screening:
    return get_object_or_404(selectors.screening_list(user=request.user), pk=pk)


def _render_screening_detail(
    request: HttpRequest, screening: Screening, *, enroll_form=None, correct_form=None
) -> HttpResponse:
    participant = _participant_of(screening)
    criteria = list(screening.protocol_version.criteria.order_by("order"))
    can_write = can_write_at(request.user, screening.site)
    may_enroll = can_write and participant is None and screening.outcome == Outcome.ELIGIBLE
    may_correct = can_write and participant is None
    if may_enroll and enroll_form is None:
        enroll_form = EnrollmentForm(initial={"enrollment_date": site_today(screening.site)})
    if may_correct and correct_form is None:
        correct_form = ScreeningCorrectionForm(
            initial=ScreeningCorrectionForm.initial_for(screening), criteria=criteria
        )
    rows = [
        {
            "criterion": c,
            "answer": None if c.computed else ANSWER_NAMES.get(screening.answers.get(c.code)),
            "state": _criterion_state(
                c.code, failed=screening.failed_criteria, missing=screening.missing_criteria
            ),
        }
        for c in criteria
    ]
    verdict = Verdict(
        outcome=screening.outcome, failed=screening.failed_criteria, missing=screening.missing_criteria
    )
    context = {
        "screening": screening,
        "participant": participant,
        "rows": rows,
        "history": _history(screening),
        "may_enroll": may_enroll,
        "enroll_form": enroll_form if may_enroll or (enroll_form and enroll_form.errors) else None,
        "may_correct": may_correct,
        "correct_form": correct_form if may_correct or (correct_form and correct_form.errors) else None,
        "groups": _criterion_groups(correct_form, verdict) if correct_form else [],
        **_verdict_context(verdict, criteria),
    }
    return render(request, "trial/screening_detail.html", context)


def _history(obj) -> list[dict]:
    events = selectors.history_for(obj)
    for event in events:
        event["label"] = HISTORY_LABELS.get(event["event"], event["event"])
    return events


@login_required
def screening_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_screening_detail(request, _screening_for(request, pk))


@login_required
@require_POST
def screening_enroll(request: HttpRequest, pk: int) -> HttpResponse:
    """Enroll an eligible screening; the service hands out the study ID."""
    screening = _screening_for(request, pk)
    form = EnrollmentForm(request.POST)
    if form.is_valid():
        try:
            participant = services.participant_enroll(
                actor=request.user,
                screening=screening,
                consent_date=form.cleaned_data["consent_date"],
                enrollment_date=form.cleaned_data["enrollment_date"],
                identity=form.identity(),
            )
        except DomainError as error:
            _add_domain_errors(form, error)
        else:
            messages.success(
                request,
                _("Enrolled. The participant's study ID is %(study_id)s.")
                % {"study_id": participant.study_id},
            )
            return redirect("participant-list")
    return _render_screening_detail(request, screening, enroll_form=form)


@login_required
@require_POST
def screening_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a screening before enrollment, with a reason kept in the audit trail."""
    screening = _screening_for(request, pk)
    criteria = screening.protocol_version.criteria.order_by("order")
    form = ScreeningCorrectionForm(request.POST, criteria=criteria)
    if form.is_valid():
        try:
            services.screening_update(
                actor=request.user,
                screening=screening,
                data=form.service_data(),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            _add_domain_errors(form, error)
        else:
            messages.success(request, _("Screening corrected."))
            return redirect("screening-detail", pk=screening.pk)
    return _render_screening_detail(request, screening, correct_form=form)


# --- screening log -------------------------------------------------------------------------------------


def _filter_sites(user) -> QuerySet:
    return visible_sites(user).select_related("study").order_by("study__code", "code")


@login_required
def screening_log(request: HttpRequest) -> HttpResponse:
    """Every screening at the user's sites, newest first, 50 a page; one query for the rows."""
    sites = _filter_sites(request.user)
    form = ScreeningFilterForm(request.GET, sites=sites)
    page = _paginate(request, form.filter(selectors.screening_list(user=request.user)))
    rows = [{"screening": s, "participant": _participant_of(s)} for s in page.object_list]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "show_study": len({site.study_id for site in sites}) > 1,
    }
    return render(request, "trial/screening_log.html", context)


# --- participants --------------------------------------------------------------------------------------


def _identity_name(participant: Participant) -> str:
    try:
        return participant.identity.full_name
    except ParticipantIdentity.DoesNotExist:
        return ""


@login_required
def participant_list(request: HttpRequest) -> HttpResponse:
    """Enrolled participants at the user's sites; names only for the participant's own site staff.

    Identities are prefetched in one query restricted to the sites whose staff the user is, so a name from
    another site is never even read from the database.
    """
    sites = list(_filter_sites(request.user))
    readable = {site.pk for site in sites if can_read_identity(request.user, site)}
    form = ParticipantFilterForm(request.GET, sites=_filter_sites(request.user))
    queryset = form.filter(selectors.participant_list(user=request.user))
    if readable:
        queryset = queryset.prefetch_related(
            Prefetch("identity", queryset=ParticipantIdentity.objects.filter(participant__site__in=readable))
        )
    page = _paginate(request, queryset)
    rows = [
        {
            "participant": p,
            "readable": p.site_id in readable,
            "name": _identity_name(p) if p.site_id in readable else "",
        }
        for p in page.object_list
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "show_study": len({site.study_id for site in sites}) > 1,
        "show_names": bool(readable),
    }
    return render(request, "trial/participant_list.html", context)


def _participant_for(request: HttpRequest, study_id: str) -> Participant:
    return get_object_or_404(selectors.participant_list(user=request.user), study_id=study_id)


def _render_participant_detail(
    request: HttpRequest, participant: Participant, *, status_form=None
) -> HttpResponse:
    identity = None
    if can_read_identity(request.user, participant.site):
        identity = ParticipantIdentity.objects.filter(participant=participant).first()
    may_change = participant.status == ParticipantStatus.ENROLLED and can_write_at(
        request.user, participant.site
    )
    if may_change and status_form is None:
        status_form = ParticipantStatusForm(initial={"date": site_today(participant.site)})
    context = {
        "participant": participant,
        "identity": identity,
        "history": _history(participant),
        "may_change": may_change,
        "status_form": status_form if may_change or (status_form and status_form.errors) else None,
    }
    return render(request, "trial/participant_detail.html", context)


@login_required
def participant_detail(request: HttpRequest, study_id: str) -> HttpResponse:
    return _render_participant_detail(request, _participant_for(request, study_id))


@login_required
@require_POST
def participant_status(request: HttpRequest, study_id: str) -> HttpResponse:
    """Withdraw a participant or mark them lost to follow-up."""
    participant = _participant_for(request, study_id)
    form = ParticipantStatusForm(request.POST)
    if form.is_valid():
        try:
            participant = services.participant_set_status(
                actor=request.user,
                participant=participant,
                status=form.cleaned_data["status"],
                date=form.cleaned_data["date"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            _add_domain_errors(form, error)
        else:
            messages.success(
                request,
                _("%(study_id)s is now %(status)s.")
                % {"study_id": participant.study_id, "status": participant.get_status_display()},
            )
            return redirect("participant-detail", study_id=participant.study_id)
    return _render_participant_detail(request, participant, status_form=form)
