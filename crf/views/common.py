"""Helpers of the CRF pages: the participant in the user's scope, the form and its addresses."""

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from trial.models import Participant
from trial.pages import attempt

from .. import selectors, services
from ..engine.definitions import FormDef


def participant_for(request: HttpRequest, study_id: str) -> Participant:
    """The participant, if the user may read their CRFs: otherwise 404, as if there were none."""
    return get_object_or_404(selectors.crf_participants(user=request.user), study_id=study_id)


def participant_and_visit(request: HttpRequest, study_id: str, visit_code: str | None):
    """The participant (as participant_for) and, on a visit form's page, their visit (404 if none)."""
    participant = participant_for(request, study_id)
    return participant, selectors.participant_visit(participant, visit_code)


def form_or_404(participant: Participant, form_code: str, visit=None) -> FormDef:
    found = attempt(services.form_for, participant=participant, form_code=form_code, visit=visit)
    if not found:
        raise Http404(_("This study does not use that form."))
    return found.value


def form_url(
    participant: Participant, form_code: str, anchor: str = "", visit=None, *, visit_code: str = ""
) -> str:
    """The form's page: /participants/<id>/forms/<form>/, or .../visits/<visit>/forms/<form>/ at a visit
    (given as the visit or its code). One reverse: lists call it for every row."""
    prefix, kwargs = _form_route(participant, form_code, visit, visit_code)
    return reverse(f"{prefix}form", kwargs=kwargs) + (f"#{anchor}" if anchor else "")


def form_urls(
    participant: Participant, form_code: str, visit=None, *, anchor: str = "", visit_code: str = ""
) -> dict[str, str]:
    """Every address of a form's page and its actions, for a participant-level form or a visit's form."""
    prefix, kwargs = _form_route(participant, form_code, visit, visit_code)
    urls = {
        "form": form_url(participant, form_code, anchor, visit, visit_code=visit_code),
        "sign": reverse(f"{prefix}sign", kwargs=kwargs),
        "query_raise": reverse(f"{prefix}query-raise", kwargs=kwargs),
    }
    for step in ("complete", "verify", "lock", "unlock"):
        urls[step] = reverse(f"{prefix}step", kwargs={**kwargs, "step": step})
    return urls


def _form_route(participant: Participant, form_code: str, visit, visit_code: str) -> tuple[str, dict]:
    """The URL names' prefix and the arguments of a form's addresses: at a visit or not."""
    kwargs = {"study_id": participant.study_id, "form_code": form_code}
    visit_code = visit_code or (visit.code if visit is not None else "")
    if visit_code:
        return "crf-visit-", {**kwargs, "visit_code": visit_code}
    return "crf-", kwargs


def query_step_url(participant: Participant, form_code: str, pk: int, visit=None) -> str:
    kwargs = {"study_id": participant.study_id, "form_code": form_code, "pk": pk}
    if visit is not None:
        return reverse("crf-visit-query-step", kwargs={**kwargs, "visit_code": visit.code})
    return reverse("crf-query-step", kwargs=kwargs)
