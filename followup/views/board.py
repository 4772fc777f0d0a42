"""The adjudication case board and case page, as data managers, principal investigators, monitors and site
staff see them (the API's rule: selectors/adjudication.py), and a data manager's steps: assigning and
reassigning readers, reopening a final case, withdrawing findings entered by hand, opening a case by hand.

Each step is one POST that calls one service; a refusal of the input redraws the page with the messages beside
the fields (400, or 409 when the case's state refuses it), a refusal of the user is the 403 page. Adjudicators
read their cases blind in their queue: every page here answers them 404.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from crf.selectors import crf_participants
from trial.access import require_role_at
from trial.errors import Conflict, Forbidden
from trial.models import Role
from trial.pages import Attempt, attempt, redraw_status
from trial.paging import CountedPaginator
from trial.views.common import PAGE_SIZE, page_query_errors

from ..board_forms import BoardFilterForm, ManualCaseForm, ReasonForm, ReassignForm
from ..models import CaseStatus, FractureLocation, ReaderSlot
from ..question import answered
from ..selectors.adjudication import CaseView, case_view, case_views, reader_choices
from ..selectors.board import (
    IN_REVIEW,
    IN_REVIEW_STATUSES,
    board_case,
    board_cases,
    board_for,
    board_rows,
    board_status_filter,
    board_tab_counts,
    case_assignment_rows,
    case_evidence_rows,
    case_lacks_readers,
    reassignable_slots,
)
from ..services import assignment, cases, verdicts

TAB_LABELS = {
    "all": gettext_lazy("All"),
    IN_REVIEW: gettext_lazy("In review"),
    CaseStatus.OPEN: gettext_lazy("Awaiting readers"),
    CaseStatus.DISPUTED: gettext_lazy("Disputed"),
    CaseStatus.FINAL: gettext_lazy("Adjudicated"),
    CaseStatus.CANCELLED: gettext_lazy("Cancelled"),
}


LOCATION_SHORT = {
    FractureLocation.ADJACENT: gettext_lazy("Adjacent"),
    FractureLocation.REMOTE: gettext_lazy("Remote"),
}


def status_key(case, view: str) -> str:
    """The case's status as the view shows it: site staff see "in review" for a case open or disputed."""
    if view == CaseView.SITE and case.status in IN_REVIEW_STATUSES:
        return IN_REVIEW
    return case.status


def status_text(case, view: str, *, short: bool = False) -> str:
    """The status in words: the board's tab name (`short`), or the model's."""
    key = status_key(case, view)
    return str(TAB_LABELS[key]) if short or key == IN_REVIEW else case.get_status_display()


# --- the board ---------------------------------------------------------------------------------------------


@login_required
def board_page(request: HttpRequest) -> HttpResponse:
    """The cases on the user's sites, newest first, with a tab a status (and its count), filtered by site and
    study ID; a bad filter is a 400 naming the field, with nothing listed. Five queries whatever the page,
    besides the session's (six for a data manager: the readers)."""
    board = board_for(user=request.user)
    if not board.sites:
        raise Http404(_("No adjudication cases for you here."))
    form = BoardFilterForm(request.GET or None, sites=board.sites, tabs=board.tabs)
    query_errors = page_query_errors(request, form)
    status, chosen = 200, ""
    if query_errors:
        status, found, counts = 400, None, dict.fromkeys(("all", *board.tabs), 0)
    else:
        data = form.cleaned_data if form.is_bound else {}
        found = board_cases(user=request.user, site=data.get("site", ""), study_id=data.get("study_id", ""))
        counts = board_tab_counts(board, found)
        chosen = data.get("status", "")
        if chosen:
            found = found.filter(**board_status_filter(chosen))
    # The tabs counted the list already: the paginator is told its count rather than counting again.
    rows = board_rows(board, found) if found is not None else []
    page = CountedPaginator(rows, PAGE_SIZE, count=counts[chosen or "all"]).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "rows": [_board_row(board, case) for case in page.object_list],
        "tabs": [
            {
                "key": key if key != "all" else None,
                "label": TAB_LABELS[key],
                "count": n,
                "current": key == (chosen or "all"),
            }
            for key, n in counts.items()
        ],
        "columns": board.best,
        "show_site": len(board.sites) > 1,
        "may_open": board.manages,
        "query_errors": query_errors,
    }
    return render(request, "followup/adjudication_board.html", context, status=status)


def _board_row(board, case) -> dict:
    answered(case)
    view = board.row_view(case)
    return {
        "case": case,
        "view": view,
        "status_key": status_key(case, view),
        "status_text": status_text(case, view, short=True),
        "location": LOCATION_SHORT.get(case.location, case.location),
        "readers": getattr(case, "active_readers", []) if view == CaseView.MANAGE else [],
    }


# --- the case page -----------------------------------------------------------------------------------------


def _case(request: HttpRequest, pk: int):
    """(case, view) of a case the user reads on the board; 404 otherwise (adjudicators included)."""
    views = case_views(user=request.user)
    case = board_case(user=request.user, pk=pk, manage=CaseView.MANAGE in views[0].values())
    if case is None:
        raise Http404(_("No such adjudication case."))
    return case, case_view(views, case, superuser=request.user.is_superuser)


def _render_case(
    request: HttpRequest, case, view: str, *, forms=None, failed: str = "", error=None, status: int = 200
) -> HttpResponse:
    """The case page; a data manager's with the evidence, readers, verdicts and the steps, `failed` naming the
    step whose form (in `forms`) or `error` is shown."""
    forms = forms or {}
    # What refused the step as a whole (a 409, a rule beyond one field) above the page; field messages stay
    # beside their fields.
    step_errors = (
        [error.message] if error else list(forms[failed].non_field_errors()) if failed in forms else []
    )
    verdict_rows = list(case.verdicts.all()) if view == CaseView.MANAGE else []
    answered(case, verdict_rows)
    context = {
        "case": case,
        "view": view,
        "status_key": status_key(case, view),
        "status_text": status_text(case, view),
        "site": case.participant.site,
        "failed": failed,
        "step_errors": step_errors,
    }
    if view == CaseView.MANAGE:
        slots = reassignable_slots(case)
        readers = reader_choices(actor=request.user, case=case) if slots else []
        evidence = case_evidence_rows(case)
        for row in evidence:
            key = f"withdraw-{row['evidence'].pk}"
            row["form"] = forms.get(key) or ReasonForm(prefix=key)
            row["failed"] = failed == key
        context |= {
            "evidence": evidence,
            "assignments": case_assignment_rows(case),
            "verdicts": verdict_rows,
            "lacks_readers": case_lacks_readers(case),
            "reassign_form": forms.get("reassign")
            or ReassignForm(prefix="reassign", slots=slots, readers=readers),
            "may_reassign": bool(slots),
            "no_reader_left": bool(slots) and not readers,
            "reopen_form": forms.get("reopen") or ReasonForm(prefix="reopen"),
            "may_reopen": case.status == CaseStatus.FINAL,
        }
    return render(request, "followup/adjudication_case.html", context, status=status)


@login_required
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One case as the user's role shows it (the board's fields; a data manager's everything). Three queries
    for site staff and oversight, besides the session's; nine for a data manager whatever the evidence,
    readers and verdicts (two fewer when no slot can change hands, one when no form supports the case)."""
    case, view = _case(request, pk)
    return _render_case(request, case, view)


def _managed_case(request: HttpRequest, pk: int, action):
    """The case for a data manager's step: 404 when the user does not read it, the 403 page unless they are a
    data manager of its study (the services' own check, made before the input is judged)."""
    case, view = _case(request, pk)
    require_role_at(request.user, case.participant.site, {Role.DATA_MANAGER}, action)
    return case, view


def _case_url(case, anchor: str = "") -> str:
    return reverse("adjudication-case", kwargs={"pk": case.pk}) + (f"#{anchor}" if anchor else "")


@login_required
@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case, view = _managed_case(request, pk, gettext_lazy("assign adjudication readers"))
    done = attempt(assignment.case_readers_assign, case=case, actor=request.user)
    if done:
        added = len(done.value)
        if added:
            messages.success(
                request,
                ngettext("%(count)d reader is assigned.", "%(count)d readers are assigned.", added)
                % {"count": added},
            )
        else:
            messages.info(request, _("The case has its two readers already."))
        return redirect(_case_url(case, "readers"))
    return _render_case(request, case, view, failed="assign", error=done.error, status=done.status)


@login_required
@require_POST
def case_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    case, view = _managed_case(request, pk, gettext_lazy("reassign an adjudication case"))
    slots = reassignable_slots(case)
    if not slots:
        error = Conflict(
            _("No slot of this case can change hands now: its readers have given their verdicts.")
        )
        return _render_case(request, case, view, failed="reassign", error=error, status=error.status_code)
    form = ReassignForm(
        request.POST, prefix="reassign", slots=slots, readers=reader_choices(actor=request.user, case=case)
    )
    done = None
    if form.is_valid():
        values = form.cleaned_data
        reader = get_user_model().objects.filter(pk=values["reader"]).first()
        if reader is None:
            form.add_error("reader", _("No such adjudicator."))
        else:
            done = attempt(
                assignment.case_reader_reassign,
                form=form,
                actor=request.user,
                case=case,
                slot=values["slot"],
                reader=reader,
                reason=values["reason"],
            )
    if done:
        name = reader.get_full_name() or reader.get_username()
        slot = capfirst(ReaderSlot(values["slot"]).label)
        messages.success(request, _("%(slot)s: %(name)s now reads this case.") % {"slot": slot, "name": name})
        return redirect(_case_url(case, "readers"))
    return _render_case(
        request, case, view, forms={"reassign": form}, failed="reassign", status=redraw_status(done)
    )


@login_required
@require_POST
def case_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    case, view = _managed_case(request, pk, gettext_lazy("reopen an adjudicated case"))
    form = ReasonForm(request.POST, prefix="reopen")
    done = None
    if form.is_valid():
        done = attempt(
            verdicts.case_reopen, form=form, actor=request.user, case=case, reason=form.cleaned_data["reason"]
        )
    if done:
        reopened = done.value
        messages.success(
            request, _("The case is back in review: round %(round)d.") % {"round": reopened.round}
        )
        return redirect(_case_url(case))
    return _render_case(
        request, case, view, forms={"reopen": form}, failed="reopen", status=redraw_status(done)
    )


@login_required
@require_POST
def evidence_withdraw(request: HttpRequest, pk: int, evidence_id: int) -> HttpResponse:
    case, view = _managed_case(request, pk, gettext_lazy("withdraw an adjudication finding"))
    evidence = next((e for e in case.evidence.all() if e.pk == evidence_id), None)
    if evidence is None:
        raise Http404(_("No such finding on this case."))
    key = f"withdraw-{evidence.pk}"
    form = ReasonForm(request.POST, prefix=key)
    done = None
    if form.is_valid():
        done = attempt(
            cases.evidence_withdraw,
            form=form,
            actor=request.user,
            evidence=evidence,
            reason=form.cleaned_data["reason"],
        )
    if done:
        messages.success(request, _("The findings are withdrawn."))
        case.refresh_from_db(fields=["status"])
        if case.status == CaseStatus.CANCELLED:
            messages.info(
                request, _("No imaging supports the case any longer: it is cancelled, its history kept.")
            )
        return redirect(_case_url(case, "evidence"))
    return _render_case(request, case, view, forms={key: form}, failed=key, status=redraw_status(done))


# --- a case opened by hand ---------------------------------------------------------------------------------


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    """A data manager opens a case by hand (or adds findings to the case already at that level). The 403 page
    for anyone else."""
    if CaseView.MANAGE not in case_views(user=request.user)[0].values():
        raise Forbidden(_("Only a data manager of the study opens an adjudication case by hand."))
    form = ManualCaseForm(request.POST or None, initial={"study_id": request.GET.get("study_id", "")})
    done: Attempt | None = None
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        participant = (
            crf_participants(user=request.user)
            .select_related("site")
            .filter(study_id=values.pop("study_id"))
            .first()
        )
        if participant is None:
            form.add_error("study_id", _("No participant has this study ID on your sites."))
        else:
            done = attempt(
                cases.case_open_manual, form=form, actor=request.user, participant=participant, **values
            )
            if done:
                case = done.value
                messages.success(
                    request,
                    _("The findings are recorded on case %(id)d (%(level)s).")
                    % {"id": case.pk, "level": case.level},
                )
                return redirect(_case_url(case))
    status = redraw_status(done) if request.method == "POST" else 200
    return render(request, "followup/adjudication_case_new.html", {"form": form}, status=status)


urlpatterns = [
    path("adjudication/cases/", board_page, name="adjudication-board"),
    path("adjudication/cases/new/", case_new, name="adjudication-case-new"),
    path("adjudication/cases/<int:pk>/", case_page, name="adjudication-case"),
    path("adjudication/cases/<int:pk>/assign/", case_assign, name="adjudication-case-assign"),
    path("adjudication/cases/<int:pk>/reassign/", case_reassign, name="adjudication-case-reassign"),
    path("adjudication/cases/<int:pk>/reopen/", case_reopen, name="adjudication-case-reopen"),
    path(
        "adjudication/cases/<int:pk>/evidence/<int:evidence_id>/withdraw/",
        evidence_withdraw,
        name="adjudication-evidence-withdraw",
    ),
]
