"""Re-fracture adjudication cases: list and detail, read-only (the adjudication workflow is another issue)."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from ..models import AdjudicationCase, CaseStatus, FractureLocation
from ..selectors.adjudication import adjudication_case_list


class AdjudicationCaseOut(serializers.ModelSerializer):
    """What a case says: who, which level, where, when and its state. Never the CRF data (adjudicators are
    blinded to the predictors)."""

    study_id = serializers.CharField(source="participant.study_id")
    site = serializers.CharField(source="participant.site.code")
    visit = serializers.CharField(source="visit.code", allow_null=True, default=None)
    location_text = serializers.CharField(source="get_location_display")
    status_text = serializers.CharField(source="get_status_display")

    class Meta:
        model = AdjudicationCase
        fields = [
            "id",
            "study_id",
            "site",
            "visit",
            "level",
            "location",
            "location_text",
            "exam_date",
            "status",
            "status_text",
            "created_at",
            "updated_at",
        ]


class AdjudicationCaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    location = django_filters.ChoiceFilter(choices=FractureLocation.choices)
    site = django_filters.CharFilter(field_name="site__code")
    study_id = django_filters.CharFilter(field_name="participant__study_id")


@extend_schema_view(
    list=extend_schema(summary="Re-fracture adjudication cases on your sites, newest first"),
    retrieve=extend_schema(summary="One adjudication case"),
)
class AdjudicationCaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Cases opened by follow-up MRIs reporting a new fracture at a non-operated level."""

    serializer_class = AdjudicationCaseOut
    filterset_class = AdjudicationCaseFilter

    def get_queryset(self):
        return adjudication_case_list(user=self.request.user)


router = SimpleRouter()
router.register("adjudication-cases", AdjudicationCaseViewSet, basename="adjudication-case")

urlpatterns = router.urls
