"""The dashboard: enrollment against target, per site, and the top screen-failure reasons."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import selectors
from .common import TOP_FAILURE_REASONS, visible_studies

# --- dashboard -----------------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Enrollment against target, per site, and the commonest screen-failure reasons, per visible study."""
    studies = []
    for study in visible_studies(request.user):
        summary = selectors.enrollment_summary(study=study, user=request.user)
        texts = {c.code: c.localized_text for c in study.current_version.criteria.all()}
        reasons = selectors.screen_failure_reasons(study=study, user=request.user)[:TOP_FAILURE_REASONS]
        studies.append(
            {
                "study": study,
                "summary": summary,
                "bar_percent": min(summary["total"]["percent"], 100),
                "reasons": [
                    {"code": code, "text": texts.get(code, ""), "count": count} for code, count in reasons
                ],
            }
        )
    return render(request, "trial/dashboard.html", {"studies": studies, "followup": _followup(request.user)})


def _followup(user) -> dict | None:
    """Visits overdue and due this week at the user's sites, by each site's date (three queries)."""
    from followup.selectors.visits import DUE_OR_OVERDUE, visit_sites, visits_at  # followup builds on trial

    sites = visit_sites(user=user)
    if not sites:
        return None
    return {
        "overdue": visits_at(sites, status="overdue").count(),
        "due": visits_at(sites, status=DUE_OR_OVERDUE).count(),
    }
