import django_filters

from ..models import Outcome, Participant, ParticipantStatus, Screening


class ScreeningFilter(django_filters.FilterSet):
    study = django_filters.CharFilter(field_name="study__code")
    site = django_filters.CharFilter(field_name="site__code")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    date_from = django_filters.DateFilter(field_name="screening_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="screening_date", lookup_expr="lte")
    enrolled = django_filters.BooleanFilter(field_name="participant", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Screening
        fields = ["study", "site", "outcome", "date_from", "date_to", "enrolled"]


class ParticipantFilter(django_filters.FilterSet):
    study = django_filters.CharFilter(field_name="site__study__code")
    site = django_filters.CharFilter(field_name="site__code")
    status = django_filters.ChoiceFilter(choices=ParticipantStatus.choices)

    class Meta:
        model = Participant
        fields = ["study", "site", "status"]
