"""Helpers of the CRF pages: the participant in the user's scope, the form, refusals as friendly 403 pages."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from trial.errors import DomainError, Forbidden
from trial.models import Participant

from .. import selectors, services
from ..engine.definitions import FormDef

# The services' role refusals name the action in English for the API log; the pages say it in the user's
# language, and say who may do it.
REFUSALS = {
    "save": lambda: _("Only a coordinator or an investigator of this site can enter data in this form."),
    "complete": lambda: _("Only a coordinator or an investigator of this site can mark a form complete."),
    "verify": lambda: _("Only a monitor can verify a form (source data verification)."),
    "sign": lambda: _("Only an investigator of this site or the principal investigator can sign a form."),
    "lock": lambda: _("Only a data manager can lock or unlock a form."),
    "unlock": lambda: _("Only a data manager can lock or unlock a form."),
    "raise": lambda: _("Only a monitor or a data manager can raise a data query."),
    "answer": lambda: _("Only a coordinator or an investigator of this site can answer a data query."),
    "close": lambda: _("Only a monitor or a data manager can close or reopen a data query."),
    "reopen": lambda: _("Only a monitor or a data manager can close or reopen a data query."),
}


def participant_for(request: HttpRequest, study_id: str) -> Participant:
    """The participant, if the user may read their CRFs: otherwise 404, as if there were none."""
    return get_object_or_404(selectors.crf_participants(user=request.user), study_id=study_id)


def participant_and_visit(request: HttpRequest, study_id: str, visit_code: str | None):
    """The participant (as participant_for) and, on a visit form's page, their visit (404 if none)."""
    participant = participant_for(request, study_id)
    return participant, selectors.participant_visit(participant, visit_code)


def form_or_404(participant: Participant, form_code: str, visit=None) -> FormDef:
    try:
        return services.form_for(participant, form_code, visit)
    except DomainError:
        raise Http404(_("This study does not use that form.")) from None


def form_url(
    participant: Participant, form_code: str, anchor: str = "", visit=None, *, visit_code: str = ""
) -> str:
    """The form's page: /participants/<id>/forms/<form>/, or .../visits/<visit>/forms/<form>/ at a visit
    (given as the visit or its code)."""
    return form_urls(participant, form_code, visit, anchor=anchor, visit_code=visit_code)["form"]


def form_urls(
    participant: Participant, form_code: str, visit=None, *, anchor: str = "", visit_code: str = ""
) -> dict[str, str]:
    """Every address of a form's page and its actions, for a participant-level form or a visit's form."""
    kwargs = {"study_id": participant.study_id, "form_code": form_code}
    prefix = "crf-"
    visit_code = visit_code or (visit.code if visit is not None else "")
    if visit_code:
        kwargs["visit_code"] = visit_code
        prefix = "crf-visit-"
    urls = {
        "form": reverse(f"{prefix}form", kwargs=kwargs) + (f"#{anchor}" if anchor else ""),
        "sign": reverse(f"{prefix}sign", kwargs=kwargs),
        "query_raise": reverse(f"{prefix}query-raise", kwargs=kwargs),
    }
    for step in ("complete", "verify", "lock", "unlock"):
        urls[step] = reverse(f"{prefix}step", kwargs={**kwargs, "step": step})
    return urls


def query_step_url(participant: Participant, form_code: str, pk: int, visit=None) -> str:
    kwargs = {"study_id": participant.study_id, "form_code": form_code, "pk": pk}
    if visit is not None:
        return reverse("crf-visit-query-step", kwargs={**kwargs, "visit_code": visit.code})
    return reverse("crf-query-step", kwargs=kwargs)


def refusal(action: str, error: Forbidden) -> PermissionDenied:
    """A refusal as the 403 page, in the page's language.

    A refusal with its own code (own_entry: no verifying one's own entry) already says why, translated; the
    generic role check of trial.access speaks English for the API log, so the page says who may do it instead.
    """
    if error.code != Forbidden.code:
        return PermissionDenied(error.message)
    return PermissionDenied(REFUSALS[action]())
