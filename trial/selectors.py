"""Reads that more than one caller needs, with their joins set, so lists run a fixed number of queries."""

from django.db.models import Count, Prefetch, Q, QuerySet
from pghistory.models import MiddlewareEvents

from .access import visible_sites
from .models import Criterion, Participant, ParticipantStatus, Screening, Site, Study


def study_list() -> QuerySet:
    return Study.objects.select_related("current_version").prefetch_related(
        Prefetch("sites", queryset=Site.objects.filter(active=True).order_by("code")),
        Prefetch("current_version__criteria", queryset=Criterion.objects.order_by("order")),
    )


def screening_list(*, user) -> QuerySet:
    return (
        Screening.objects.filter(site__in=visible_sites(user))
        .select_related("study", "site", "protocol_version", "screened_by", "participant")
        .order_by("-screening_date", "-id")
    )


def participant_list(*, user) -> QuerySet:
    return (
        Participant.objects.filter(site__in=visible_sites(user))
        .select_related("site__study")
        .order_by("study_id")
    )


def enrollment_summary(*, study: Study, user) -> dict:
    """Screened, eligible, enrolled and active counts for a study, in total and per visible site."""
    sites = visible_sites(user).filter(study=study).order_by("code")
    rows = sites.annotate(
        screened=Count("screenings", distinct=True),
        eligible=Count("screenings", filter=Q(screenings__outcome="eligible"), distinct=True),
        enrolled=Count("participants", distinct=True),
        active=Count(
            "participants", filter=Q(participants__status=ParticipantStatus.ENROLLED), distinct=True
        ),
    )
    per_site = list(rows)
    total = {
        key: sum(getattr(s, key) for s in per_site) for key in ("screened", "eligible", "enrolled", "active")
    }
    target = study.current_version.target_enrollment
    total["target"] = target
    total["percent"] = round(100 * total["enrolled"] / target, 1) if target else 0.0
    return {"sites": per_site, "total": total}


def screen_failure_reasons(*, study: Study, user) -> list[tuple[str, int]]:
    """How often each criterion failed among ineligible screenings (for the participant-flow diagram)."""
    rows = Screening.objects.filter(
        study=study, site__in=visible_sites(user), outcome="ineligible"
    ).values_list("failed_criteria", flat=True)
    counts: dict[str, int] = {}
    for codes in rows.iterator():
        for code in codes:
            counts[code] = counts.get(code, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def history_for(obj) -> list[dict]:
    """Audit events of one record, oldest first: time, user, reason, label and changed fields."""
    events = MiddlewareEvents.objects.tracks(obj).select_related("user").order_by("pgh_created_at", "pgh_id")
    return [
        {
            "time": event.pgh_created_at,
            "event": event.pgh_label,
            "user": event.user.get_username() if event.user else None,
            "reason": (event.pgh_context or {}).get("reason", ""),
            "changes": [
                {"field": field, "old": values[0], "new": values[1]}
                for field, values in sorted((event.pgh_diff or {}).items())
            ],
        }
        for event in events
    ]
