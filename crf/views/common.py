"""Helpers of the CRF pages: the participant in the user's scope, the form, refusals as friendly 403 pages."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
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


def form_or_404(participant: Participant, form_code: str) -> FormDef:
    try:
        return services.form_for(participant, form_code)
    except DomainError:
        raise Http404(_("This study does not use that form.")) from None


def refusal(action: str, error: Forbidden) -> PermissionDenied:
    """A refusal as the 403 page, in the page's language.

    A refusal with its own code (own_entry: no verifying one's own entry) already says why, translated; the
    generic role check of trial.access speaks English for the API log, so the page says who may do it instead.
    """
    if error.code != Forbidden.code:
        return PermissionDenied(error.message)
    return PermissionDenied(REFUSALS[action]())
