"""The participant's forms: each enabled form with its status, version, live queries and last update."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from trial.i18n import localized

from .. import selectors, services
from ..forms_ui import NOT_STARTED, status_label
from .common import participant_for


@login_required
def participant_forms(request: HttpRequest, study_id: str) -> HttpResponse:
    """The grid of forms, in protocol order: two queries (participant, records with live-query counts)."""
    participant = participant_for(request, study_id)
    records = selectors.form_grid(participant)
    rows = []
    for form in services.enabled_forms(participant):
        record = records.get(form.code)
        state = record.status if record else NOT_STARTED
        rows.append(
            {
                "code": form.code,
                "title": localized(form.title),
                "state": state,
                "state_label": status_label(state),
                "version": record.version if record else None,
                "live_queries": record.live_queries if record else 0,
                "updated_at": record.updated_at if record else None,
            }
        )
    context = {
        "participant": participant,
        "rows": rows,
        "live_queries": sum(row["live_queries"] for row in rows),
        "time_zone": participant.site.time_zone,
    }
    return render(request, "crf/participant_forms.html", context)
