"""Filters of the screening log and the participant list: one definition for the API and the pages.

The site filter takes a site code (`?site=07`) and offers only the sites the requesting user can see, so
naming another site's code is a 400 in the API and a shown, ignored error on a page.
"""

import django_filters
from django.utils.translation import gettext_lazy as _

from .access import visible_sites
from .forms import DateInput, StudySiteChoiceField
from .models import Outcome, Participant, ParticipantStatus, Screening, Site


def _sites_of(request):
    if request is None:
        return Site.objects.none()
    return visible_sites(request.user).select_related("study").order_by("study__code", "code")


class SiteFilter(django_filters.ModelChoiceFilter):
    field_class = StudySiteChoiceField

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", _sites_of)
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("field_name", "site")
        super().__init__(**kwargs)


class ScreeningFilter(django_filters.FilterSet):
    study = django_filters.CharFilter(field_name="study__code", label=_("Study"))
    site = SiteFilter(label=_("Site"), empty_label=_("All sites"))
    outcome = django_filters.ChoiceFilter(
        choices=Outcome.choices, label=_("Outcome"), empty_label=_("All outcomes")
    )
    date_from = django_filters.DateFilter(
        field_name="screening_date", lookup_expr="gte", label=_("From"), widget=DateInput()
    )
    date_to = django_filters.DateFilter(
        field_name="screening_date", lookup_expr="lte", label=_("To"), widget=DateInput()
    )
    enrolled = django_filters.BooleanFilter(field_name="participant", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Screening
        fields = ["study", "site", "outcome", "date_from", "date_to", "enrolled"]


class ParticipantFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Study ID"),
        max_length=32,
        help_text=_("All or part of a study ID, e.g. 07-0012."),
    )
    study = django_filters.CharFilter(field_name="site__study__code", label=_("Study"))
    site = SiteFilter(label=_("Site"), empty_label=_("All sites"))
    status = django_filters.ChoiceFilter(
        choices=ParticipantStatus.choices, label=_("Status"), empty_label=_("All statuses")
    )

    class Meta:
        model = Participant
        fields = ["q", "study", "site", "status"]

    def search(self, queryset, name, value):
        """A study ID, whole or in part (its number alone, say): the research data's only way to name a
        participant. Identifying data is never searched here: that would leak it through the result."""
        value = value.strip()
        return queryset.filter(study_id__icontains=value) if value else queryset
