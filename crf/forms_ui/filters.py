"""The filters of the query list page."""

import django_filters
from django.utils.translation import gettext_lazy

from trial.filters import SiteFilter
from trial.i18n import localized

from ..engine.definitions import form_definitions
from ..models import DataQuery, QueryStatus


def _form_choices():
    return [(form.code, localized(form.title)) for form in form_definitions().values()]


LIVE = "live"  # open or answered: what still needs someone; the list opens on these
ALL = "all"


class QueryPageFilter(django_filters.FilterSet):
    """Filters of the query list page; sites offered are those the user can see. The status is live (open or
    answered) unless another is chosen, "all" included; the API's list keeps all statuses by default."""

    site = SiteFilter(
        field_name="site",  # the query's own site column: no join to records
        label=gettext_lazy("Site"),
        empty_label=gettext_lazy("All sites"),
    )
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"),
        choices=[
            (LIVE, gettext_lazy("open or answered")),
            *QueryStatus.choices,
            (ALL, gettext_lazy("All statuses")),
        ],
        empty_label=None,
        method="filter_status",
    )
    form = django_filters.ChoiceFilter(
        field_name="record__form_code",
        label=gettext_lazy("Form"),
        choices=_form_choices,
        empty_label=gettext_lazy("All forms"),
    )
    study_id = django_filters.CharFilter(
        field_name="record__participant__study_id", label=gettext_lazy("Study ID"), max_length=32
    )

    class Meta:
        model = DataQuery
        fields = ["site", "status", "form", "study_id"]

    def __init__(self, data=None, *args, **kwargs):
        # No status asked (the menu's link, Reset, a blank value): the live ones, shown as chosen in the form.
        if data is not None and not data.get("status"):
            data = data.copy()
            data["status"] = LIVE
        super().__init__(data, *args, **kwargs)

    def filter_status(self, queryset, name, value):
        if value == ALL:
            return queryset
        if value == LIVE:
            return queryset.exclude(status=QueryStatus.CLOSED)
        return queryset.filter(status=value)
