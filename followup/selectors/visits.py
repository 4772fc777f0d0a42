"""Reads of visits: a participant's visits, and visits across the user's sites by status.

A pending visit's status depends on the site's today, and sites may sit in different time zones: today is
taken per site (one query for the sites), and a status filter is one OR of per-time-zone conditions, so a
list is a fixed number of SQL queries whatever the number of visits or sites.

One meaning for the worklist (/visits/), the API (/api/v1/visits/) and the dashboard's counts: all three
filter with `visits_at`. A pending visit of a participant who is not followed (lost to follow-up; withdrawal
and death make the pending visits not applicable) is on hold: never upcoming, open, due or overdue, until a
reinstatement brings it back by its window (followup.schedule.visit_status says the same for one visit).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from trial.access import visible_sites
from trial.clock import site_today
from trial.errors import InvalidInput
from trial.models import Participant, ParticipantStatus

from ..models import Visit, VisitState, VisitStatus
from ..schedule import participant_followed, visit_status

DUE = "due"  # pending, and the window is open on at least one of the next 7 days (today..today+6)
DUE_OR_OVERDUE = "due_or_overdue"  # the coordinator's worklist: due this week, or overdue
DUE_DAYS = 7
STATUS_FILTERS = (*VisitStatus.values, DUE)


def not_followed(site_ids: Iterable[int]) -> Exists:
    """Whether a visit's participant (at one of these sites) is not followed (followup.schedule's
    participant_followed: only enrolled participants are): an anti-join against the few participants lost,
    withdrawn or dead, read index-only from trial's partial index `participant_not_followed`, whose condition
    this filter repeats word for word; no join to every participant."""
    return Exists(
        Participant.objects.filter(pk=OuterRef("participant_id"), site__in=site_ids).exclude(
            status=ParticipantStatus.ENROLLED
        )
    )


def window_condition(status: str, today: datetime.date) -> Q:
    """The window part of a pending status on `today`, a site-local date (followup.schedule.visit_status)."""
    due_by = today + datetime.timedelta(days=DUE_DAYS - 1)
    return {
        VisitStatus.UPCOMING: Q(window_open__gt=today),
        VisitStatus.OPEN: Q(window_open__lte=today, window_close__gte=today),
        # The window opened before it closed (visit_window_around_target): said again, so that a count reads
        # only the windows opened before today in the (site, window_open) index.
        VisitStatus.OVERDUE: Q(window_open__lt=today, window_close__lt=today),
        DUE: Q(window_open__lte=due_by, window_close__gte=today),
        # Due this week or overdue: the window opens by the seventh day (a window that has closed opened
        # before it), whether it has closed or not.
        DUE_OR_OVERDUE: Q(window_open__lte=due_by),
    }[status]


def status_condition(status: str, today: datetime.date, *, site_ids: Iterable[int]) -> Q:
    """Visits at these sites with this status (or due this week) on `today`, a site-local date; the same rule
    as followup.schedule.visit_status: pending visits are upcoming, open or overdue only while their
    participant is followed, and on hold otherwise."""
    site_ids = list(site_ids)
    if status in (VisitStatus.COMPLETED, VisitStatus.MISSED, VisitStatus.NOT_APPLICABLE):
        return Q(state=status)  # the decisions: the values are shared
    pending = Q(state=VisitState.PENDING)
    if status == VisitStatus.ON_HOLD:
        return pending & Q(not_followed(site_ids))
    return pending & ~Q(not_followed(site_ids)) & window_condition(status, today)


def _by_zone(sites: list, condition) -> Q:
    """OR over the sites' time zones of `condition(today, site ids)`, today being the zone's date."""
    by_zone: dict[str, list] = defaultdict(list)
    for site in sites:
        by_zone[site.time_zone].append(site)
    where = Q(pk__in=[])
    for zone_sites in by_zone.values():
        ids = [site.pk for site in zone_sites]
        where |= Q(site__in=ids) & condition(site_today(zone_sites[0]), ids)
    return where


def participant_visits(participant) -> QuerySet:
    """A participant's visits in calendar order (unscheduled ones among them by date)."""
    return (
        Visit.objects.filter(participant=participant)
        .select_related("participant__site")
        .order_by("target_date", "sequence", "pk")
    )


def visit_sites(*, user) -> list:
    """The sites whose visits the user may read, as for CRFs (blinded adjudicators read none). One query."""
    return list(visible_sites(user).order_by("code"))


def followed_sites(*, user) -> list:
    """The sites of `visit_sites` whose study follows its participants (a protocol with `visits:`): what
    the dashboard's follow-up and messages panels count; a retrospective study has no visit to count. One
    query."""
    followed = visible_sites(user).filter(study__current_version__definition__has_key="visits")
    return list(followed.order_by("code"))


def visits_for(*, user, status: str | None = None, site: str | None = None) -> QuerySet:
    """Visits at the user's sites (or at the site with code `site`), with `status` as of each site's today,
    most urgent first. A site the user cannot see is a 400, as in the trial API's filters."""
    sites = visit_sites(user=user)
    if site:
        sites = [s for s in sites if s.code == site]
        if not sites:
            raise InvalidInput(
                _("Unknown site."), field_errors={"site": [_("Unknown site: %(code)s.") % {"code": site}]}
            )
    return visits_at(sites, status=status)


def visits_at(sites: Iterable, *, status: str | None = None) -> QuerySet:
    """Visits at these sites with `status` (any when None) as of each site's today, most urgent first.

    The one meaning of a status for the worklist, the API and the dashboard. The filter is on the visit's own
    site column (no join for a count), and the pending ones are read through partial indexes on pending
    visits (followup.models.Visit): a count is an index-only scan, a page an ordered one.
    """
    sites = list(sites)
    if status:
        where = _by_zone(sites, lambda today, ids: status_condition(status, today, site_ids=ids))
    else:
        where = Q(site__in=[site.pk for site in sites])
    return (
        Visit.objects.filter(where)
        .select_related("participant__site__study")  # the visits page names the study when there are several
        .order_by("window_close", "participant__study_id", "sequence", "pk")
    )


def with_status(visits: Iterable[Visit]) -> list[Visit]:
    """Set `status` on each visit (participant__site selected), from its own site's today. No query."""
    today: dict[int, datetime.date] = {}
    result = []
    for visit in visits:
        site = visit.participant.site
        if site.pk not in today:
            today[site.pk] = site_today(site)
        visit.status = visit_status(
            visit.state,
            visit.window_open,
            visit.window_close,
            today[site.pk],
            followed=participant_followed(visit.participant.status),
        )
        result.append(visit)
    return result


def dashboard_panel(*, user) -> dict | None:
    """The dashboard's follow-up panel: visits overdue, and due this week or overdue, at the user's sites by
    each site's date; None for a user who reads no visits, or only those of studies without follow-up.

    Two queries (the sites; both counts in one pass over the visits due or overdue, of which the overdue
    are those whose window has closed), each an index-only count of the pending visits due by next week:
    a figure that depends on today, so it is counted, never stored.
    """
    sites = followed_sites(user=user)
    if not sites:
        return None
    counts = visits_at(sites, status=DUE_OR_OVERDUE).aggregate(
        # Counted on window columns (never null), not the id: the index holds no id, and counting the id
        # would read every row of the table instead of the index alone.
        due=Count("window_open"),
        overdue=Count(
            "window_close",
            filter=_by_zone(sites, lambda today, ids: window_condition(VisitStatus.OVERDUE, today)),
        ),
    )
    return {"template": "followup/_dashboard_panel.html", **counts}
