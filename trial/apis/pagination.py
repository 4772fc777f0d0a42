from functools import partial

from rest_framework.pagination import PageNumberPagination

from ..paging import MAX_PAGE, CountedPaginator, known_total
from .filtering import list_query


class Pagination(PageNumberPagination):
    """50 a page (1 to 500 with page_size; anything else is a 400, as is a page that is not a whole number
    from 1: trial.apis.filtering). A view with a `kept_total()` (the database's per-site counts) is not
    counted row by row when nothing filters it (trial.paging)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        # Checked already (list_query): present means a whole number in range.
        size = request.query_params.get(self.page_size_query_param)
        return int(size) if size else self.page_size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1, "maximum": MAX_PAGE},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"] |= bounds.get(parameter["name"], {})
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        # Every paged list's query is checked, whether its view filtered through the backend or not.
        if view is not None:
            list_query(view)
        # A view that already knows how many rows its filtered list has (`counted_total()`) says so.
        counted_total = getattr(view, "counted_total", None)
        kept_total = getattr(view, "kept_total", None)
        if counted_total is not None:
            count = counted_total()
        else:
            count = known_total(request.query_params, kept_total) if kept_total else None
        self.django_paginator_class = partial(CountedPaginator, count=count)
        return super().paginate_queryset(queryset, request, view)
