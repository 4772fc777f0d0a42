from functools import partial

from rest_framework.pagination import PageNumberPagination

from ..paging import CountedPaginator, known_total


class Pagination(PageNumberPagination):
    """50 a page (up to 500 with page_size). A view with a `kept_total()` (the database's per-site counts)
    is not counted row by row when nothing filters it (trial.paging)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        # A view that already knows how many rows its filtered list has (`counted_total()`) says so.
        counted_total = getattr(view, "counted_total", None)
        kept_total = getattr(view, "kept_total", None)
        if counted_total is not None:
            count = counted_total()
        else:
            count = known_total(request.query_params, kept_total) if kept_total else None
        self.django_paginator_class = partial(CountedPaginator, count=count)
        return super().paginate_queryset(queryset, request, view)
