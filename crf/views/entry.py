"""Form entry: GET draws the form, POST parses it and calls crf_save; a refusal keeps what was typed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trial.errors import PreconditionRequired
from trial.pages import attempt

from .. import services
from ..forms_ui import ReasonForm, parse_entry, parse_version
from .common import form_or_404, form_url, participant_and_visit
from .page import render_form_page


@login_required
def crf_form(
    request: HttpRequest, study_id: str, form_code: str, visit_code: str | None = None
) -> HttpResponse:
    """One form of one participant (or of one of their visits): entry for coordinators and investigators,
    read-only for the others."""
    participant, visit = participant_and_visit(request, study_id, visit_code)
    form = form_or_404(participant, form_code, visit)
    if request.method != "POST":
        return render_form_page(request, participant, form, visit=visit)
    values = parse_entry(form, request.POST)
    version = parse_version(request.POST.get("version"))
    reason_form = ReasonForm(request.POST)
    redraw = {"values": values, "version": version, "reason_form": reason_form, "visit": visit}
    if not reason_form.is_valid():
        return render_form_page(request, participant, form, **redraw, status=400)
    saved = attempt(
        services.crf_save,
        actor=request.user,
        participant=participant,
        form_code=form.code,
        data=values,
        # 0 for a form not started yet: if someone started it meanwhile, that is a stale version too.
        expected_version=version,
        reason=reason_form.cleaned_data["reason"],
        visit=visit,
    )
    if not saved:
        error = saved.error
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
            # The page always sends the version it drew: a missing one means the form changed under it.
            status=409 if isinstance(error, PreconditionRequired) else saved.status,
        )
    record, findings = saved.value
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
    return redirect(form_url(participant, form.code, visit=visit))
