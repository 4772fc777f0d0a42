"""Paging whose total comes from the counts the database keeps (trial.models.counts) when nothing filters.

Counting 28,000 participants of a site for each page of 50 grows with the data; the per-site counters hold
the same figure, read in one small query. A filtered list is counted as usual.
"""

from collections.abc import Callable, Mapping

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

# Parameters that choose a page, not rows.
PAGING_PARAMETERS = frozenset({"page", "page_size", "format"})
PAGE = "page"
PAGE_SIZE = "page_size"
# No list here has a million pages: a bigger page number is refused (400), not looked for.
MAX_PAGE = 1_000_000


class CountedPaginator(Paginator):
    """A Paginator that is told its count, or counts its rows when told None."""

    def __init__(self, object_list, per_page, *, count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return super().count if self.known_count is None else self.known_count


def filtered(parameters: Mapping[str, str]) -> bool:
    """Whether the query string chooses rows: a parameter other than the page's with a value (a form sent
    with its fields blank, as its Reset leaves it, chooses none)."""
    return any(value.strip() for key, value in parameters.items() if key not in PAGING_PARAMETERS)


def known_total(parameters: Mapping[str, str], total: Callable[[], int]) -> int | None:
    """The list's kept total when nothing filters it, else None (count the rows)."""
    return None if filtered(parameters) else total()


def _whole_number(value: str, *, low: int, high: int) -> int | None:
    """The value as a whole number within [low, high], or None ("1.5", "-1", "abc", "", "1e3" are not)."""
    value = value.strip()
    if not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if low <= number <= high else None


def paging_errors(parameters: Mapping[str, str], *, max_page_size: int | None = None) -> dict[str, list[str]]:
    """The page and page size asked for, checked: the field messages of those that are not whole numbers in
    range (page from 1; page_size from 1 to `max_page_size`, not checked when None: a list of fixed size).
    A page past the end is not judged here: the list answers it (a 404 in the API, the last page on a
    page)."""
    errors: dict[str, list[str]] = {}
    page = parameters.get(PAGE)
    if page is not None and _whole_number(page, low=1, high=MAX_PAGE) is None:
        errors[PAGE] = [_("A page number: a whole number from 1.")]
    size = parameters.get(PAGE_SIZE)
    wrong_size = size is not None and _whole_number(size, low=1, high=max_page_size or 0) is None
    if max_page_size is not None and wrong_size:
        errors[PAGE_SIZE] = [_("A whole number from 1 to %(maximum)s.") % {"maximum": max_page_size}]
    return errors
