"""Life-cycle steps from the form page: complete, verify, sign, lock, unlock. One service call each."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trial.errors import Conflict, DomainError, Forbidden

from .. import services
from ..forms_ui import SignForm, UnlockForm, parse_version, status_label
from ..hooks import visit_key
from ..models import FormRecord
from .common import form_or_404, form_url, participant_and_visit, refusal
from .page import render_form_page

STEPS = {
    "complete": (services.crf_complete, lambda: _("The form is complete.")),
    "verify": (services.crf_verify, lambda: _("The form is verified.")),
    "lock": (services.crf_lock, lambda: _("The form is locked.")),
}


def _friendly(error: DomainError, participant, form_code: str, visit=None) -> DomainError:
    """A refused transition said in the page's language, with the form's current status."""
    if error.code != "bad_transition":
        return error
    record = (
        FormRecord.objects.filter(participant=participant, form_code=form_code, visit_code=visit_key(visit))
        .only("status")
        .first()
    )
    current = status_label(record.status) if record else ""
    return Conflict(
        _("This step is not possible now: the form is %(status)s. The page shows its current state.")
        % {"status": current},
        code=error.code,
    )


@login_required
@require_POST
def crf_step(
    request: HttpRequest, study_id: str, form_code: str, step: str, visit_code: str | None = None
) -> HttpResponse:
    participant, visit = participant_and_visit(request, study_id, visit_code)
    form = form_or_404(participant, form_code, visit)
    kwargs = {
        "actor": request.user,
        "participant": participant,
        "form_code": form.code,
        "expected_version": parse_version(request.POST.get("version")),
        "visit": visit,
    }
    unlock_form = UnlockForm(request.POST) if step == "unlock" else None
    try:
        if unlock_form is not None:
            if not unlock_form.is_valid():
                return render_form_page(
                    request, participant, form, visit=visit, unlock_form=unlock_form, status=400
                )
            services.crf_unlock(**kwargs, reason=unlock_form.cleaned_data["reason"])
            done = _("The form is unlocked: it is signed again until someone edits it.")
        else:
            service, done_message = STEPS[step]
            service(**kwargs)
            done = done_message()
    except Forbidden as error:
        raise refusal(step, error) from None
    except DomainError as error:
        if unlock_form is not None:
            for message in error.field_errors.get("reason", []):
                unlock_form.add_error("reason", message)
        return render_form_page(
            request,
            participant,
            form,
            visit=visit,
            error=_friendly(error, participant, form.code, visit),
            field_errors=None if unlock_form is not None else error.field_errors,
            unlock_form=unlock_form,
            status=error.status_code,
        )
    messages.success(request, done)
    return redirect(form_url(participant, form.code, visit=visit))


@login_required
@require_POST
def crf_sign(
    request: HttpRequest, study_id: str, form_code: str, visit_code: str | None = None
) -> HttpResponse:
    """The investigator's e-signature: password again, meaning chosen, printed name shown (21 CFR 11.50)."""
    participant, visit = participant_and_visit(request, study_id, visit_code)
    form = form_or_404(participant, form_code, visit)
    sign_form = SignForm(request.POST)
    if not sign_form.is_valid():
        return render_form_page(request, participant, form, visit=visit, sign_form=sign_form, status=400)
    try:
        signature = services.crf_sign(
            actor=request.user,
            participant=participant,
            form_code=form.code,
            password=sign_form.cleaned_data["password"],
            meaning=sign_form.cleaned_data["meaning"],
            expected_version=parse_version(request.POST.get("version")),
            visit=visit,
        )
    except Forbidden as error:
        if error.code != "bad_password":
            raise refusal("sign", error) from None
        sign_form.add_error("password", error.message)
        return render_form_page(request, participant, form, visit=visit, sign_form=sign_form, status=403)
    except DomainError as error:
        for field, field_messages in error.field_errors.items():
            for message in field_messages:
                sign_form.add_error(field if field in sign_form.fields else None, message)
        return render_form_page(
            request,
            participant,
            form,
            visit=visit,
            error=_friendly(error, participant, form.code, visit),
            sign_form=sign_form,
            status=error.status_code,
        )
    messages.success(
        request,
        _("Signed by %(name)s: %(meaning)s.")
        % {"name": signature.printed_name, "meaning": signature.get_meaning_display()},
    )
    return redirect(form_url(participant, form.code, visit=visit))
