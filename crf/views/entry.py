"""Form entry: GET draws the form, POST parses it and calls crf_save; a refusal keeps what was typed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trial.errors import DomainError, Forbidden

from .. import services
from ..forms_ui import ReasonForm, parse_entry, parse_version
from .common import form_or_404, participant_for, refusal
from .page import render_form_page


def form_url(participant, form_code: str, anchor: str = "") -> str:
    url = reverse("crf-form", kwargs={"study_id": participant.study_id, "form_code": form_code})
    return f"{url}#{anchor}" if anchor else url


@login_required
def crf_form(request: HttpRequest, study_id: str, form_code: str) -> HttpResponse:
    """One form of one participant: entry for coordinators and investigators, read-only for the others."""
    participant = participant_for(request, study_id)
    form = form_or_404(participant, form_code)
    if request.method != "POST":
        return render_form_page(request, participant, form)
    values = parse_entry(form, request.POST)
    version = parse_version(request.POST.get("version"))
    reason_form = ReasonForm(request.POST)
    redraw = {"values": values, "version": version, "reason_form": reason_form}
    if not reason_form.is_valid():
        return render_form_page(request, participant, form, **redraw, status=400)
    try:
        record, findings = services.crf_save(
            actor=request.user,
            participant=participant,
            form_code=form.code,
            data=values,
            # 0 for a form not started yet: if someone started it meanwhile, that is a stale version too.
            expected_version=version,
            reason=reason_form.cleaned_data["reason"],
        )
    except Forbidden as error:
        raise refusal("save", error) from None
    except DomainError as error:
        field_errors = dict(error.field_errors)
        for message in field_errors.pop("reason", []):
            reason_form.add_error("reason", message)
        return render_form_page(
            request,
            participant,
            form,
            **redraw,
            error=error,
            field_errors=field_errors,
            status=409 if isinstance(error, services.PreconditionRequired) else error.status_code,
        )
    if version is not None and record.version == version:
        messages.info(request, _("Nothing changed: the form is as it was."))
    elif findings.warnings:
        messages.warning(
            request,
            ngettext(
                "Saved (version %(version)s), with %(count)s warning: it opened a data query.",
                "Saved (version %(version)s), with %(count)s warnings: each opened a data query.",
                len(findings.warnings),
            )
            % {"version": record.version, "count": len(findings.warnings)},
        )
    else:
        messages.success(request, _("Saved (version %(version)s).") % {"version": record.version})
    return redirect(form_url(participant, form.code))
