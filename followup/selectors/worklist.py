"""The coordinator's follow-up worklist: visits due this week and overdue, judged by each site's own date.

Sites may sit in different time zones, so "today" is taken per site and the filter is one OR of per-site
conditions: one SQL query for the sites, then the list itself, whatever the number of visits.
"""

import datetime
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from crf.selectors import NOT_READING_CRFS
from trial.access import visible_sites
from trial.services.screening import site_today

from ..models import Visit, VisitStatus
from .visits import DUE as WEEK
from .visits import status_condition

DUE = "due_or_overdue"  # the worklist's default: due this week (selectors.visits.DUE) or overdue
ALL = "all"


def _condition(status: str, today: datetime.date) -> Q:
    if status == DUE:
        return status_condition(WEEK, today) | status_condition(VisitStatus.OVERDUE, today)
    return Q() if status == ALL else status_condition(status, today)


def worklist_sites(*, user) -> list:
    """The sites whose visits the user may see (as CRFs: blinded adjudicators see none), one query."""
    return list(visible_sites(user, without=NOT_READING_CRFS).select_related("study").order_by("code"))


def visit_worklist(*, sites: Iterable, status: str = DUE) -> QuerySet:
    """Visits at these sites with the given status as of each site's today, most urgent first."""
    condition = Q(pk__in=[])
    for site in sites:
        condition |= Q(participant__site=site) & _condition(status, site_today(site))
    return (
        Visit.objects.filter(condition)
        .select_related("participant__site")
        .order_by("window_close", "target_date", "participant__study_id", "sequence")
    )
