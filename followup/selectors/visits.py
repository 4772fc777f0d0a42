"""Reads of visits: a participant's visits, and visits across the user's sites by status.

A pending visit's status depends on the site's today, and sites may sit in different time zones: today is
taken per site (one query for the sites), and a status filter is one OR of per-time-zone conditions, so a
list is a fixed number of SQL queries whatever the number of visits or sites.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from crf.selectors import NOT_READING_CRFS
from trial.access import visible_sites
from trial.clock import site_today
from trial.errors import InvalidInput

from ..models import Visit, VisitState, VisitStatus
from ..schedule import visit_status

DUE = "due"  # pending, and the window is open on at least one of the next 7 days (today..today+6)
DUE_OR_OVERDUE = "due_or_overdue"  # the coordinator's worklist: due this week, or overdue
DUE_DAYS = 7
STATUS_FILTERS = (*VisitStatus.values, DUE)


def status_condition(status: str, today: datetime.date) -> Q:
    """Visits with this status (or due this week) on `today`, a site-local date; the same rule as
    followup.schedule.visit_status."""
    pending = Q(state=VisitState.PENDING)
    if status == DUE_OR_OVERDUE:
        return status_condition(DUE, today) | status_condition(VisitStatus.OVERDUE, today)
    return {
        VisitStatus.UPCOMING: pending & Q(window_open__gt=today),
        VisitStatus.OPEN: pending & Q(window_open__lte=today, window_close__gte=today),
        VisitStatus.OVERDUE: pending & Q(window_close__lt=today),
        DUE: pending
        & Q(window_open__lte=today + datetime.timedelta(days=DUE_DAYS - 1), window_close__gte=today),
        VisitStatus.COMPLETED: Q(state=VisitState.COMPLETED),
        VisitStatus.MISSED: Q(state=VisitState.MISSED),
        VisitStatus.NOT_APPLICABLE: Q(state=VisitState.NOT_APPLICABLE),
    }[status]


def participant_visits(participant) -> QuerySet:
    """A participant's visits in calendar order (unscheduled ones among them by date)."""
    return (
        Visit.objects.filter(participant=participant)
        .select_related("participant__site")
        .order_by("target_date", "sequence", "pk")
    )


def visit_sites(*, user) -> list:
    """The sites whose visits the user may read, as for CRFs (blinded adjudicators read none). One query."""
    return list(visible_sites(user, without=NOT_READING_CRFS).order_by("code"))


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
    """Visits at these sites with `status` (any when None) as of each site's today, most urgent first."""
    sites = list(sites)
    by_zone: dict[str, list[int]] = defaultdict(list)
    for s in sites:
        by_zone[s.time_zone].append(s.pk)
    condition = Q(pk__in=[])
    for zone_sites in by_zone.values():
        today = site_today(next(s for s in sites if s.pk == zone_sites[0]))
        where = Q(participant__site__in=zone_sites)
        condition |= where & status_condition(status, today) if status else where
    return (
        Visit.objects.filter(condition)
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
        visit.status = visit_status(visit.state, visit.window_open, visit.window_close, today[site.pk])
        result.append(visit)
    return result


def dashboard_panel(*, user) -> dict | None:
    """The dashboard's follow-up panel: visits overdue, and due this week or overdue, at the user's sites by
    each site's date (three queries); None for a user who reads no visits."""
    sites = visit_sites(user=user)
    if not sites:
        return None
    return {
        "template": "followup/_dashboard_panel.html",
        "overdue": visits_at(sites, status=VisitStatus.OVERDUE).count(),
        "due": visits_at(sites, status=DUE_OR_OVERDUE).count(),
    }
