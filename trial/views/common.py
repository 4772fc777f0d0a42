"""Helpers shared by the coordinator pages: scoping, paging, history."""

from collections.abc import Callable

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from .. import selectors
from ..access import visible_sites, writable_sites
from ..models import Participant, Screening, Study
from ..paging import CountedPaginator, known_total

PAGE_SIZE = 50
TOP_FAILURE_REASONS = 5
HISTORY_LABELS = {
    "insert": gettext_lazy("created"),
    "update": gettext_lazy("changed"),
    "delete": gettext_lazy("deleted"),
}


def visible_studies(user) -> QuerySet:
    return selectors.study_list().filter(pk__in=visible_sites(user).values("study")).order_by("code")


def writable_sites_for(user, study: Study) -> QuerySet:
    """The study's active sites where the user may screen and enroll."""
    return writable_sites(user).filter(study=study, active=True).order_by("code")


def participant_of(screening: Screening) -> Participant | None:
    try:
        return screening.participant
    except Participant.DoesNotExist:
        return None


def criterion_state(code: str, *, failed, missing) -> str:
    if code in failed:
        return "fail"
    if code in missing:
        return "unknown"
    return "pass"


def paginate(request: HttpRequest, queryset: QuerySet, *, kept_total: Callable[[], int] | None = None):
    """The requested page; `kept_total` gives the unfiltered list's count without counting (trial.paging)."""
    count = known_total(request.GET, kept_total) if kept_total else None
    return CountedPaginator(queryset, PAGE_SIZE, count=count).get_page(request.GET.get("page"))


def filter_sites(user) -> QuerySet:
    return visible_sites(user).select_related("study").order_by("study__code", "code")


def history_rows(obj) -> list[dict]:
    events = selectors.history_for(obj)
    for event in events:
        event["label"] = HISTORY_LABELS.get(event["event"], event["event"])
    return events
