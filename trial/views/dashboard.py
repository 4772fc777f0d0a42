"""The dashboard: enrollment against target, per site, and the top screen-failure reasons."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import hooks, selectors
from ..navigation import can_screen_in
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
        target = summary["total"]["target"]
        for site in summary["sites"]:
            # Each site against the study's target: a site's count is its share, never the study's progress.
            site.target_percent = round(100 * site.enrolled / target, 1) if target else 0.0
        accrual = selectors.group_accrual(study=study, user=request.user, sites=summary["sites"])
        for centre in (accrual or {}).get("centres", []):  # in the groups' order, for the table's columns
            centre["group_counts"] = [centre["groups"][group["code"]] for group in accrual["groups"]]
        studies.append(
            {
                "study": study,
                "summary": summary,
                "accrual": accrual,
                # A user who sees only some sites sees their sites' share, labelled as such, not the study's
                # progress (study_list prefetches the study's active sites: no query).
                "whole_study": len(summary["sites"]) >= len(study.sites.all()),
                "bar_percent": min(summary["total"]["percent"], 100),
                "can_screen": can_screen_in(request.user, study),
                "reasons": [
                    {"code": code, "text": texts.get(code, ""), "count": count} for code, count in reasons
                ],
            }
        )
    # Panels of the apps built on trial (follow-up counts...), each drawn by its own template.
    panels = [panel for panel in hooks.dashboard_panels(user=request.user) if panel]
    return render(request, "trial/dashboard.html", {"studies": studies, "panels": panels})
