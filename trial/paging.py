"""Paging whose total comes from the counts the database keeps (trial.models.counts) when nothing filters.

Counting 28,000 participants of a site for each page of 50 grows with the data; the per-site counters hold
the same figure, read in one small query. A filtered list is counted as usual.
"""

from collections.abc import Callable, Mapping

from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Parameters that choose a page, not rows.
PAGING_PARAMETERS = frozenset({"page", "page_size", "format"})


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
