"""Helpers shared by the coordinator pages: scoping, paging, history."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from .. import selectors
from ..access import visible_sites, writable_sites
from ..filters import form_errors
from ..models import Participant, Screening, Study
from ..paging import PAGE, CountedPaginator, known_total, paging_errors

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
    """The requested page; `kept_total` gives the unfiltered list's count without counting (trial.paging).
    The page number is checked first by `list_page`; a page past the end is the last one."""
    count = known_total(request.GET, kept_total) if kept_total else None
    return CountedPaginator(queryset, PAGE_SIZE, count=count).get_page(request.GET.get("page"))


@dataclass(frozen=True)
class ListPage:
    """A list page's page of rows, with what was wrong in its query (shown by trial/_query_errors.html)."""

    page: Page
    errors: list[dict]

    @property
    def status(self) -> int:
        return 400 if self.errors else 200


def page_query_errors(request: HttpRequest, form=None) -> list[dict]:
    """What is wrong in a list page's query, each as {"name", "label", "messages"}: the page number and the
    filter form's fields (trial.filters: a blank field is "all", a parameter the page does not take is
    ignored). Empty when the query is good."""
    given = {name: value for name, value in request.GET.items() if value.strip()}
    errors = paging_errors(given)
    if form is not None and form.is_bound and not form.is_valid():
        errors = form_errors(form) | errors
    labels = {PAGE: gettext_lazy("Page")}
    if form is not None:
        labels |= {name: field.label or name for name, field in form.fields.items()}
    return [
        {"name": name, "label": labels.get(name, name), "messages": messages}
        for name, messages in errors.items()
    ]


def list_page(
    request: HttpRequest, queryset: QuerySet, *, form=None, kept_total: Callable[[], int] | None = None
) -> ListPage:
    """The page of a list page, its query checked: when a filter or the page number is wrong, nothing is
    listed (not the whole list, as if unfiltered) and the page answers 400 with the messages."""
    errors = page_query_errors(request, form)
    if errors:
        return ListPage(page=CountedPaginator(queryset.none(), PAGE_SIZE, count=0).get_page(1), errors=errors)
    return ListPage(page=paginate(request, queryset, kept_total=kept_total), errors=[])


def filter_sites(user) -> QuerySet:
    return visible_sites(user).select_related("study").order_by("study__code", "code")


def history_rows(obj) -> list[dict]:
    events = selectors.history_for(obj)
    for event in events:
        event["label"] = HISTORY_LABELS.get(event["event"], event["event"])
    return events
