"""Reads of re-fracture adjudication cases, scoped to the sites the user may see."""

from django.db.models import QuerySet

from trial.access import visible_sites
from trial.models import Role, StaffRole

from ..models import AdjudicationCase, CaseStatus


def adjudication_case_list(*, user) -> QuerySet:
    """Cases on the user's sites, newest first, with participant, site and visit joined (one query a page).

    Every trial role may read them: monitors, data managers and the principal investigator study-wide,
    adjudicators (who will judge them: a case names the participant's study ID, the level, adjacent or remote,
    the MRI date and the visit, never the CRF data, so their blinding to the predictors holds), and the site's
    own coordinators and investigators for their site's participants.
    """
    return (
        # The case's own site column (no join), and adjudicators included: these cases are theirs to judge.
        AdjudicationCase.objects.filter(site__in=visible_sites(user, adjudication=True))
        .select_related("participant__site", "visit")
        .only(
            "id",
            "level",
            "location",
            "exam_date",
            "status",
            "created_at",
            "updated_at",
            "participant__study_id",
            "participant__site__code",
            "visit__code",
        )
        .order_by("-created_at", "-id")
    )


def adjudication_panel(*, user) -> dict | None:
    """The dashboard's panel for an adjudicator: the cases awaiting adjudication at the sites they judge (two
    queries); None for anyone else, whose dashboard already shows the study (and the cases on the timelines).

    Without it an adjudicator, to whom every study figure is hidden (blinding), would see an empty dashboard.
    """
    if not StaffRole.objects.filter(user=user, active=True, role=Role.ADJUDICATOR).exists():
        return None
    open_cases = adjudication_case_list(user=user).filter(status=CaseStatus.OPEN).count()
    return {"template": "followup/_adjudication_panel.html", "open": open_cases}
