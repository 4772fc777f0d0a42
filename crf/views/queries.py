"""Data queries: the list over the user's sites, and raise / answer / close / reopen from the form page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trial.clock import site_today
from trial.i18n import localized
from trial.pages import attempt
from trial.views.common import list_page

from .. import selectors, services
from ..engine.definitions import form_definition
from ..forms_ui import QueryPageFilter, QueryRaiseForm, QueryStepForm, path_label
from ..hooks import visit_key
from ..models import FormRecord
from .common import form_or_404, form_url, participant_and_visit
from .page import render_form_page


@login_required
def query_list(request: HttpRequest) -> HttpResponse:
    """Queries on the user's sites, newest first, 50 a page, with their age in days where the site is."""
    filters = QueryPageFilter(request.GET, queryset=selectors.query_list(user=request.user), request=request)
    listing = list_page(request, filters.qs, form=filters.form)
    page = listing.page
    rows = []
    for query in page.object_list:
        participant = query.record.participant
        form = form_definition(query.record.form_code)
        with timezone.override(participant.site.time_zone):
            age = services.query_age_days(query, site_today(participant.site))
        thread = list(query.messages.all())
        rows.append(
            {
                "query": query,
                "participant": participant,
                "form_title": localized(form.title) if form else query.record.form_code,
                "field_label": path_label(form, query.field_path),
                "age": age,
                "last": thread[-1] if thread else None,
                "visit_code": query.record.visit_code,
                "url": form_url(
                    participant, query.record.form_code, f"q-{query.pk}", visit_code=query.record.visit_code
                ),
            }
        )
    context = {"form": filters.form, "page": page, "rows": rows, "query_errors": listing.errors}
    return render(request, "crf/query_list.html", context, status=listing.status)


def _record_for(participant, form, visit) -> FormRecord:
    record = FormRecord.objects.filter(
        participant=participant, form_code=form.code, visit_code=visit_key(visit)
    ).first()
    if record is None:
        raise Http404(_("This form has no data yet."))
    return record


@login_required
@require_POST
def query_raise(
    request: HttpRequest, study_id: str, form_code: str, visit_code: str | None = None
) -> HttpResponse:
    """A monitor or data manager asks about one value of the form."""
    participant, visit = participant_and_visit(request, study_id, visit_code)
    form = form_or_404(participant, form_code, visit)
    record = _record_for(participant, form, visit)
    raise_form = QueryRaiseForm(request.POST)
    if not raise_form.is_valid():
        return render_form_page(request, participant, form, visit=visit, raise_form=raise_form, status=400)
    raised = attempt(
        services.query_raise,
        actor=request.user,
        record=record,
        field_path=raise_form.cleaned_data["field_path"],
        text=raise_form.cleaned_data["text"],
    )
    if not raised:
        # Said above the form too: a path that names no field has no box beside a field to show it in.
        for message in raised.error.field_errors.get("text", []):
            raise_form.add_error("text", message)
        return render_form_page(
            request,
            participant,
            form,
            visit=visit,
            error=raised.error,
            raise_form=raise_form,
            status=raised.status,
        )
    query = raised.value
    messages.success(request, _("Query raised on %(field)s.") % {"field": path_label(form, query.field_path)})
    return redirect(form_url(participant, form.code, f"q-{query.pk}", visit=visit))


@login_required
@require_POST
def query_step(
    request: HttpRequest, study_id: str, form_code: str, pk: int, visit_code: str | None = None
) -> HttpResponse:
    """Answer (coordinator, investigator), close or reopen (monitor, data manager), with a message."""
    participant, visit = participant_and_visit(request, study_id, visit_code)
    form = form_or_404(participant, form_code, visit)
    query = selectors.query_list(user=request.user).filter(record__participant=participant, pk=pk).first()
    if query is None or query.record.form_code != form.code or query.record.visit_code != visit_key(visit):
        raise Http404(_("No such query on this form."))
    step_form = QueryStepForm(request.POST)
    if not step_form.is_valid():
        return render_form_page(
            request, participant, form, visit=visit, step_form=step_form, step_query=query.pk, status=400
        )
    action = step_form.cleaned_data["action"]
    stepped = attempt(
        services.query_step,
        actor=request.user,
        query=query,
        action=action,
        text=step_form.cleaned_data["text"],
    )
    if not stepped:
        for message in stepped.error.field_errors.get("text", []):
            step_form.add_error("text", message)
        return render_form_page(
            request,
            participant,
            form,
            visit=visit,
            error=stepped.error,
            step_form=step_form,
            step_query=query.pk,
            status=stepped.status,
        )
    messages.success(request, _("The query thread is updated."))
    return redirect(form_url(participant, form.code, f"q-{query.pk}", visit=visit))
