"""Reads that more than one caller needs, with their joins set, so lists run a fixed number of queries."""

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from pghistory.models import MiddlewareEvents

from .access import visible_sites
from .models import Criterion, Outcome, Participant, ParticipantStatus, Screening, Site, Study


def study_list() -> QuerySet:
    return Study.objects.select_related("current_version").prefetch_related(
        Prefetch("sites", queryset=Site.objects.filter(active=True).order_by("code")),
        Prefetch("current_version__criteria", queryset=Criterion.objects.order_by("order")),
    )


def screening_list(*, user) -> QuerySet:
    return (
        Screening.objects.filter(site__in=visible_sites(user))
        .select_related("study", "site", "protocol_version", "screened_by", "participant")
        .defer("protocol_version__definition")  # the whole protocol file, parsed again for every row
        .order_by("-screening_date", "-id")
    )


def participant_list(*, user) -> QuerySet:
    return (
        Participant.objects.filter(site__in=visible_sites(user))
        .select_related("site__study")
        .order_by("study_id")
    )


def enrollment_summary(*, study: Study, user) -> dict:
    """Screened, eligible, enrolled and active counts for a study, in total and per visible site.

    Three grouped queries (sites, screenings by site, participants by site): counting both relations in one
    join would multiply screenings by participants per site.
    """
    sites = list(visible_sites(user).filter(study=study).order_by("code"))
    screened = {
        row["site"]: row
        for row in Screening.objects.filter(site__in=sites)
        .values("site")
        .annotate(screened=Count("id"), eligible=Count("id", filter=Q(outcome=Outcome.ELIGIBLE)))
        .order_by()
    }
    enrolled = {
        row["site"]: row
        for row in Participant.objects.filter(site__in=sites)
        .values("site")
        .annotate(enrolled=Count("id"), active=Count("id", filter=Q(status=ParticipantStatus.ENROLLED)))
        .order_by()
    }
    for site in sites:
        site.screened = screened.get(site.pk, {}).get("screened", 0)
        site.eligible = screened.get(site.pk, {}).get("eligible", 0)
        site.enrolled = enrolled.get(site.pk, {}).get("enrolled", 0)
        site.active_participants = enrolled.get(site.pk, {}).get("active", 0)
    total = {key: sum(getattr(site, key) for site in sites) for key in ("screened", "eligible", "enrolled")}
    total["active"] = sum(site.active_participants for site in sites)
    target = study.current_version.target_enrollment
    total["target"] = target
    total["percent"] = round(100 * total["enrolled"] / target, 1) if target else 0.0
    return {"sites": sites, "total": total}


def screen_failure_reasons(*, study: Study, user) -> list[tuple[str, int]]:
    """How often each criterion failed among ineligible screenings (for the participant-flow diagram).

    Counted in the database (unnest + GROUP BY) so that the answer, not the screening log, crosses the wire.
    """
    scoped = Screening.objects.filter(study=study, site__in=visible_sites(user), outcome=Outcome.INELIGIBLE)
    inner, params = scoped.values("failed_criteria").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT code, COUNT(*) FROM ({inner}) AS s, unnest(s.failed_criteria) AS code "  # noqa: S608
            "GROUP BY code ORDER BY COUNT(*) DESC, code",
            params,
        )
        return [(code, count) for code, count in cursor.fetchall()]


def history_for(obj) -> list[dict]:
    """Audit events of one record, oldest first: time, user, reason, label and changed fields."""
    events = MiddlewareEvents.objects.tracks(obj).select_related("user").order_by("pgh_created_at", "pgh_id")
    return [
        {
            "time": event.pgh_created_at,
            "event": event.pgh_label,
            "user": event.user.get_username() if event.user else None,
            "reason": (event.pgh_context or {}).get("reason", ""),
            "data": event.pgh_data or {},  # the row as it was after the event; callers choose what to show
            "changes": [
                {"field": field, "old": values[0], "new": values[1]}
                for field, values in sorted((event.pgh_diff or {}).items())
            ],
        }
        for event in events
    ]


def participant_flow(*, study: Study, user) -> dict:
    """Counts for a STROBE participant-flow diagram, with the reasons at each stage, in a fixed 3 queries."""
    screenings = Screening.objects.filter(study=study, site__in=visible_sites(user))
    stages = screenings.aggregate(
        screened=Count("id"),
        ineligible=Count("id", filter=Q(outcome=Outcome.INELIGIBLE)),
        incomplete=Count("id", filter=Q(outcome=Outcome.INCOMPLETE)),
        eligible=Count("id", filter=Q(outcome=Outcome.ELIGIBLE)),
        enrolled=Count("participant"),
    )
    not_enrolled = dict(
        screenings.filter(outcome=Outcome.ELIGIBLE, participant__isnull=True)
        .values_list("not_enrolled_reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    statuses = dict(
        Participant.objects.filter(site__study=study, site__in=visible_sites(user))
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        **stages,
        "ineligible_reasons": dict(screen_failure_reasons(study=study, user=user)),
        "not_enrolled": sum(not_enrolled.values()),
        "not_enrolled_reasons": {(reason or "pending"): n for reason, n in sorted(not_enrolled.items())},
        "participants": {status: statuses.get(status, 0) for status in ParticipantStatus.values},
    }
