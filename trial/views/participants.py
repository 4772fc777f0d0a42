"""Participant pages: the list (names only for own-site staff), the detail, and status changes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..access import can_read_identity, can_write_at, identity_sites, roles_at
from ..clock import site_today
from ..filters import ParticipantFilter
from ..forms import ExamUploadForm, ParticipantStatusForm
from ..i18n import localized
from ..models import IdentityChannel, IdentityShown, Participant, ParticipantIdentity
from ..pages import attempt, redraw_status
from ..services.enrollment import STATUS_TRANSITIONS
from ..services.imaging import REGISTERING_ROLES
from .common import filter_sites, history_rows, list_page

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
    another site is never even read from the database. The names shown are logged in one INSERT.
    """
    sites = list(filter_sites(request.user))
    readable = set(identity_sites(request.user).values_list("pk", flat=True))
    filters = ParticipantFilter(
        request.GET, queryset=selectors.participant_list(user=request.user), request=request
    )
    form = filters.form
    queryset = filters.qs
    if readable:
        queryset = queryset.prefetch_related(
            Prefetch("identity", queryset=ParticipantIdentity.objects.filter(participant__site__in=readable))
        )
    listing = list_page(
        request, queryset, form=form, kept_total=lambda: selectors.participant_total(user=request.user)
    )
    page = listing.page
    rows = [
        {
            "participant": p,
            "readable": p.site_id in readable,
            "name": _identity_name(p) if p.site_id in readable else "",
        }
        for p in page.object_list
    ]
    services.identity_read_log(
        actor=request.user,
        participants=[row["participant"] for row in rows if row["name"]],
        shown=IdentityShown.PARTICIPANT_LIST,
        channel=IdentityChannel.PAGE,
    )
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "show_study": len({site.study_id for site in sites}) > 1,
        "show_names": bool(readable),
        "query_errors": listing.errors,
    }
    return render(request, "trial/participant_list.html", context, status=listing.status)


def _participant_for(request: HttpRequest, study_id: str) -> Participant:
    return get_object_or_404(selectors.participant_list(user=request.user), study_id=study_id)


def _imaging_context(request: HttpRequest, participant: Participant, exam_form) -> dict:
    """The participant's follow-up imaging exams, and the upload for those who register them. Shown when the
    protocol follows participants up (a retrospective study's exams are its cases' screening exams) or when
    exams are there. Two queries: the exams, the protocol version."""
    exams = list(selectors.participant_exams(participant=participant))
    may_register = bool(roles_at(request.user, participant.site) & REGISTERING_ROLES)
    follows_up = participant.screening.protocol_version.follow_up_days is not None
    if may_register and exam_form is None:
        exam_form = ExamUploadForm()
    return {
        "shows_exams": bool(exams) or follows_up,
        "exams": exams,
        "exam_form": exam_form if may_register and follows_up else None,
    }


def _render_participant_detail(
    request: HttpRequest, participant: Participant, *, status_form=None, exam_form=None, status: int = 200
) -> HttpResponse:
    identity, opt_outs = None, []
    if can_read_identity(request.user, participant.site):
        identity = ParticipantIdentity.objects.filter(participant=participant).first()
        if identity is not None:
            services.identity_read_log(
                actor=request.user,
                participants=[participant],
                shown=IdentityShown.IDENTITY,
                channel=IdentityChannel.PAGE,
            )
        # Contact data as the identity is: for the participant's own site staff only (as in the API).
        opt_outs = list(selectors.contact_opt_outs(participant=participant).select_related("recorded_by"))
    may_change = bool(STATUS_TRANSITIONS[participant.status]) and can_write_at(request.user, participant.site)
    if may_change and status_form is None:
        status_form = ParticipantStatusForm(
            initial={"date": site_today(participant.site)}, current=participant.status
        )
    group_label = ""
    if participant.group:  # only a study with groups: its protocol version names them (one query)
        groups = participant.screening.protocol_version.groups
        group_label = next((localized(g["label"]) for g in groups if g["code"] == participant.group), "")
    context = {
        "participant": participant,
        "group_label": group_label,
        "identity": identity,
        "opt_outs": opt_outs,
        "history": history_rows(participant),
        "may_change": may_change,
        "status_form": status_form if may_change or (status_form and status_form.errors) else None,
        **_imaging_context(request, participant, exam_form),
    }
    return render(request, "trial/participant_detail.html", context, status=status)


@login_required
def participant_detail(request: HttpRequest, study_id: str) -> HttpResponse:
    return _render_participant_detail(request, _participant_for(request, study_id))


@login_required
@require_POST
def participant_status(request: HttpRequest, study_id: str) -> HttpResponse:
    """Withdraw a participant, mark them lost to follow-up, or reinstate one who was lost."""
    participant = _participant_for(request, study_id)
    form = ParticipantStatusForm(request.POST, current=participant.status)
    changed = (
        attempt(
            services.participant_set_status,
            form=form,
            actor=request.user,
            participant=participant,
            status=form.cleaned_data["status"],
            date=form.cleaned_data["date"],
            reason=form.cleaned_data["reason"],
        )
        if form.is_valid()
        else None
    )
    if changed:
        participant = changed.value
        messages.success(
            request,
            _("%(study_id)s is now %(status)s.")
            % {"study_id": participant.study_id, "status": participant.get_status_display()},
        )
        return redirect("participant-detail", study_id=participant.study_id)
    return _render_participant_detail(request, participant, status_form=form, status=redraw_status(changed))


@login_required
@require_POST
def participant_exams_upload(request: HttpRequest, study_id: str) -> HttpResponse:
    """Register follow-up imaging exams from uploaded DICOM files; the page again, with what was done.

    The flash message counts the files that made no exam but names none: a file's name may be a patient's,
    and messages are kept in the session. Refused uploads are named on the page redrawn, never stored.
    """
    participant = _participant_for(request, study_id)
    form = ExamUploadForm(request.POST, request.FILES)
    done = (
        attempt(
            services.participant_exams_register,
            form=form,
            actor=request.user,
            participant=participant,
            files=[(upload.name, upload) for upload in form.cleaned_data["files"]],
        )
        if form.is_valid()
        else None
    )
    if done:
        result = done.value
        messages.success(
            request,
            ngettext(
                "%(count)s imaging exam registered.", "%(count)s imaging exams registered.", len(result.exams)
            )
            % {"count": len(result.exams)},
        )
        if result.problems:
            messages.warning(
                request,
                ngettext(
                    "%(count)s file made no exam (not DICOM, or unreadable).",
                    "%(count)s files made no exam (not DICOM, or unreadable).",
                    len(result.problems),
                )
                % {"count": len(result.problems)},
            )
        return redirect(reverse("participant-detail", kwargs={"study_id": participant.study_id}) + "#imaging")
    return _render_participant_detail(request, participant, exam_form=form, status=redraw_status(done))
