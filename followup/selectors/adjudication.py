"""Reads of re-fracture adjudication cases, scoped to the sites the user may see."""

from django.db.models import QuerySet

from trial.access import visible_sites

from ..models import AdjudicationCase


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
