"""Reads that more than one caller needs, with their joins set, so lists run a fixed number of queries."""

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from pghistory.models import MiddlewareEvents

from .access import visible_sites
from .eligibility import ExamFact
from .i18n import localized
from .imaging import imaging_checks as imaging_checks_of
from .imaging import imaging_spec
from .models import (
    ContactChannel,
    ContactOptOut,
    Criterion,
    ImagingExam,
    Outcome,
    Participant,
    ParticipantIdentity,
    ParticipantStatus,
    Screening,
    Site,
    SiteCount,
    Study,
)
from .models import counts as counts_model


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


def participant_total(*, user) -> int:
    """How many participants participant_list(user) holds, from the kept per-site counts (one query)."""
    return _kept_total(user, counts_model.ENROLLED)


def screening_total(*, user) -> int:
    """How many screenings screening_list(user) holds, from the kept per-site counts (one query)."""
    return _kept_total(user, counts_model.SCREENED)


def _kept_total(user, key: str) -> int:
    kept = SiteCount.objects.filter(site__in=visible_sites(user), key=key).aggregate(total=Sum("n"))
    return kept["total"] or 0


def enrollment_summary(*, study: Study, user) -> dict:
    """Screened, eligible, enrolled and active counts for a study, in total and per visible site.

    Two queries whatever the number of screenings: the sites, and their counts (trial.models.counts, kept by
    the database as screenings and participants are written).
    """
    sites = list(visible_sites(user).filter(study=study).order_by("code"))
    counts = site_counts(
        sites, keys=(counts_model.SCREENED, counts_model.ELIGIBLE, counts_model.ENROLLED, counts_model.ACTIVE)
    )
    for site in sites:
        mine = counts.get(site.pk, {})
        site.screened = mine.get(counts_model.SCREENED, 0)
        site.eligible = mine.get(counts_model.ELIGIBLE, 0)
        site.enrolled = mine.get(counts_model.ENROLLED, 0)
        site.active_participants = mine.get(counts_model.ACTIVE, 0)
    total = {key: sum(getattr(site, key) for site in sites) for key in ("screened", "eligible", "enrolled")}
    total["active"] = sum(site.active_participants for site in sites)
    target = study.current_version.target_enrollment
    total["target"] = target
    total["percent"] = round(100 * total["enrolled"] / target, 1) if target else 0.0
    return {"sites": sites, "total": total}


def site_counts(sites, *, keys) -> dict[int, dict[str, int]]:
    """{site id: {key: count}} of these sites (a list or a queryset of sites), in one query."""
    counts: dict[int, dict[str, int]] = {}
    for site_id, key, n in SiteCount.objects.filter(site__in=sites, key__in=keys).values_list(
        "site", "key", "n"
    ):
        counts.setdefault(site_id, {})[key] = n
    return counts


def screen_failure_reasons(*, study: Study, user) -> list[tuple[str, int]]:
    """How often each criterion failed among ineligible screenings (for the dashboard and the participant
    flow), most frequent first. One query on the sites' counts, whatever the size of the screening log."""
    rows = (
        SiteCount.objects.filter(
            site__in=visible_sites(user).filter(study=study), key__startswith=counts_model.FAILED
        )
        .values("key")
        .annotate(total=Sum("n"))
        .filter(total__gt=0)
        .order_by("-total", "key")
    )
    return [(row["key"].removeprefix(counts_model.FAILED), row["total"]) for row in rows]


# The identity's field that holds each channel's address (followup.messaging.dispatch reads the same ones).
CHANNEL_ADDRESS = {ContactChannel.SMS: "phone", ContactChannel.EMAIL: "email"}


def contact_opt_outs(*, participant: Participant) -> QuerySet:
    """The participant's opt-outs of messages, ended ones included, newest first."""
    return ContactOptOut.objects.filter(participant=participant).order_by("-since", "-id")


def contact_channels_open(*, participant: Participant) -> list[str]:
    """The channels (ContactChannel values, in its order) on which the participant has an address and no
    opt-out in force: those a reminder may use. One query; nothing of the addresses leaves here."""
    in_force = ContactOptOut.objects.filter(participant=OuterRef("participant"), ended_on=None)
    opted_out = {f"out_{channel}": Exists(in_force.filter(channel=channel)) for channel in CHANNEL_ADDRESS}
    row = (
        ParticipantIdentity.objects.filter(participant=participant)
        .annotate(**opted_out)
        .values(*CHANNEL_ADDRESS.values(), *opted_out)
        .first()
    )
    if row is None:
        return []
    return [
        str(channel)
        for channel, field in CHANNEL_ADDRESS.items()
        if (row[field] or "").strip() and not row[f"out_{channel}"]
    ]


def opt_out_in_force(*, participant: Participant, channel: str) -> bool:
    """Whether the participant has opted out of `channel` (an opt-out not ended). One query."""
    return ContactOptOut.objects.filter(participant=participant, channel=channel, ended_on=None).exists()


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


def group_accrual(*, study: Study, user, sites: list[Site] | None = None) -> dict | None:
    """Cases registered per group and per centre (with its cohort) against the protocol's group targets, over
    the visible sites; None for a study whose protocol declares no groups.

    Two queries (the sites, the counts), one when the caller passes the visible sites of the study.
    """
    groups = study.current_version.groups
    if not groups:
        return None
    if sites is None:
        sites = list(visible_sites(user).filter(study=study).order_by("code"))
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Participant.objects.filter(site__in=[site.pk for site in sites])
        .values_list("site", "group")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for site_id, group, n in rows:
        counts.setdefault(site_id, {})[group] = n
    per_group = {g["code"]: sum(mine.get(g["code"], 0) for mine in counts.values()) for g in groups}
    return {
        "target": sum(g["target"] for g in groups),
        "registered": sum(n for mine in counts.values() for n in mine.values()),
        "groups": [
            {
                "code": g["code"],
                "label": localized(g["label"]),
                "target": g["target"],
                "registered": per_group[g["code"]],
                "percent": round(100 * per_group[g["code"]] / g["target"], 1),
            }
            for g in groups
        ],
        "centres": [
            {
                "site": site.code,
                "name": site.localized_name,
                "cohort": site.cohort,
                "registered": sum(counts.get(site.pk, {}).values()),
                "groups": {g["code"]: counts.get(site.pk, {}).get(g["code"], 0) for g in groups},
            }
            for site in sites
        ],
    }


def participant_flow(*, study: Study, user) -> dict:
    """Counts for a STROBE participant-flow diagram, with the reasons at each stage, in a fixed 3 queries;
    5 for a study with groups (its accrual per group and centre, group_accrual)."""
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
        "accrual": group_accrual(study=study, user=user),
    }


# --- imaging exams (trial/imaging.py) ------------------------------------------------------------------


def imaging_exams(*, screening: Screening) -> QuerySet:
    """A screening's own imaging exams (those its eligibility judges; never its participant's follow-up
    exams), oldest first: one query."""
    return ImagingExam.objects.filter(screening=screening, participant__isnull=True).order_by(
        "study_date", "modality", "id"
    )


def participant_exams(*, participant: Participant) -> QuerySet:
    """A participant's follow-up imaging exams (the ones a visit form may link), oldest first: one query."""
    return ImagingExam.objects.filter(participant=participant).order_by("study_date", "modality", "id")


def imaging_exam_facts(exams: Iterable[ImagingExam]) -> tuple[ExamFact, ...]:
    """The exams as the eligibility rules see them."""
    return tuple(ExamFact(e.modality, e.study_date, tuple(e.body_parts)) for e in exams)


def imaging_checks(
    *, screening: Screening, exams: Iterable[ImagingExam] | None = None
) -> list[tuple[str, str]]:
    """The imaging checks of a screening as (code, message), against its own protocol version's imaging rule
    (trial/imaging.py). One query for the exams unless given; the criteria are one more unless prefetched."""
    exams = imaging_exams(screening=screening) if exams is None else exams
    spec = imaging_spec(screening.protocol_version.criteria.all())
    return imaging_checks_of(spec, imaging_exam_facts(exams))
