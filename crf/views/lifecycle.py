"""Life-cycle steps from the form page: complete, verify, sign, lock, unlock. One service call each."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trial.pages import attempt

from .. import services
from ..forms_ui import SignForm, UnlockForm, parse_version
from ..services.signing_session import signing_session
from .common import form_or_404, form_url, participant_and_visit
from .page import render_form_page

STEPS = {
    "complete": (services.crf_complete, lambda: _("The form is complete.")),
    "verify": (services.crf_verify, lambda: _("The form is verified.")),
    "lock": (services.crf_lock, lambda: _("The form is locked.")),
}


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
    if step == "unlock":
        unlock_form = UnlockForm(request.POST)
        if not unlock_form.is_valid():
            return render_form_page(
                request, participant, form, visit=visit, unlock_form=unlock_form, status=400
            )
        done = attempt(
            services.crf_unlock, form=unlock_form, **kwargs, reason=unlock_form.cleaned_data["reason"]
        )
        if not done:
            return render_form_page(
                request,
                participant,
                form,
                visit=visit,
                error=done.error,
                unlock_form=unlock_form,
                status=done.status,
            )
        messages.success(request, _("The form is unlocked: it is signed again until someone edits it."))
        return redirect(form_url(participant, form.code, visit=visit))
    service, done_message = STEPS[step]
    done = attempt(service, **kwargs)
    if not done:
        return render_form_page(
            request,
            participant,
            form,
            visit=visit,
            error=done.error,
            field_errors=done.error.field_errors,
            status=done.status,
        )
    messages.success(request, done_message())
    return redirect(form_url(participant, form.code, visit=visit))


@login_required
@require_POST
def crf_sign(
    request: HttpRequest, study_id: str, form_code: str, visit_code: str | None = None
) -> HttpResponse:
    """The investigator's e-signature: user ID (first signing of the session) and password again, meaning
    chosen, printed name shown (21 CFR 11.50, 11.200)."""
    participant, visit = participant_and_visit(request, study_id, visit_code)
    form = form_or_404(participant, form_code, visit)
    session = signing_session(request)
    sign_form = SignForm(request.POST, ask_user_id=not session.has_signed(request.user))
    if not sign_form.is_valid():
        return render_form_page(request, participant, form, visit=visit, sign_form=sign_form, status=400)
    signed = attempt(
        services.crf_sign,
        form=sign_form,
        actor=request.user,
        participant=participant,
        form_code=form.code,
        username=sign_form.cleaned_data.get("username", ""),
        password=sign_form.cleaned_data["password"],
        meaning=sign_form.cleaned_data["meaning"],
        session=session,
        expected_version=parse_version(request.POST.get("version")),
        visit=visit,
    )
    if not signed:
        # A wrong password or user ID is shown beside its field (on the sign form), the rest above the form.
        error = None if signed.error.field_errors else signed.error
        return render_form_page(
            request, participant, form, visit=visit, error=error, sign_form=sign_form, status=signed.status
        )
    signature = signed.value
    messages.success(
        request,
        _("Signed by %(name)s: %(meaning)s.")
        % {"name": signature.printed_name, "meaning": signature.get_meaning_display()},
    )
    return redirect(form_url(participant, form.code, visit=visit))
