"""Visits API: lists by status across the user's sites, a participant's visits, and the steps that record
them (done, missed, reopened) or add an unscheduled one. Parse, call one service, answer.

Another site's participant is a 404 (the lists are scoped, as in the trial API); a user who may read but not
record visits there (a monitor) gets a 403 from the service.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crf.selectors import crf_participants
from trial.apis.filtering import SiteCodeField, list_query
from trial.apis.pagination import Pagination
from trial.apis.serializers import ReasonField, StrictInput

from ..models import Visit, VisitKind, VisitState, VisitStatus
from ..selectors.visits import STATUS_FILTERS, participant_visits, visits_for, with_status
from ..services import visits as services

REASON_MAX = services.MAX_REASON


class VisitOut(serializers.Serializer):
    study_id = serializers.CharField(source="participant.study_id")
    site = serializers.CharField(source="participant.site.code")
    code = serializers.CharField()
    label = serializers.DictField(child=serializers.CharField(), help_text='{"en": ..., "zh-hans": ...}')
    kind = serializers.ChoiceField(choices=VisitKind.choices)
    sequence = serializers.IntegerField()
    anchor = serializers.CharField(help_text="The anchor date's name (empty for an unscheduled visit).")
    day = serializers.IntegerField(allow_null=True, help_text="Days after the anchor date.")
    target_date = serializers.DateField()
    window_open = serializers.DateField()
    window_close = serializers.DateField()
    status = serializers.ChoiceField(
        choices=VisitStatus.choices, help_text="The state, with pending split by the site's today."
    )
    state = serializers.ChoiceField(choices=VisitState.choices)
    visit_date = serializers.DateField(allow_null=True)
    reason = serializers.CharField()
    forms = serializers.ListField(child=serializers.CharField())
    questionnaires = serializers.ListField(child=serializers.CharField())
    updated_at = serializers.DateTimeField()


class VisitListQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=STATUS_FILTERS,
        required=False,
        help_text="upcoming, open, overdue (window closed, not done), completed, missed, not_applicable, "
        "on_hold (pending, the participant lost to follow-up: on no other list until reinstated); or due: "
        "pending with the window open on one of the next 7 days.",
    )
    site = SiteCodeField(required=False)


class VisitCompleteIn(StrictInput):
    visit_date = serializers.DateField(help_text="The date of the visit at the site (not in the future).")
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX, help_text="Optional note."
    )


class VisitReasonIn(StrictInput):
    reason = ReasonField(max_length=REASON_MAX)


class UnscheduledVisitIn(StrictInput):
    visit_date = serializers.DateField(help_text="The date the visit took place (not in the future).")
    reason = ReasonField(max_length=REASON_MAX, help_text="Why the visit took place, e.g. new back pain.")


def _participant(request, study_id: str):
    """A participant whose follow-up the user may read, as their CRFs (never a blinded adjudicator)."""
    return get_object_or_404(crf_participants(user=request.user), study_id=study_id)


def _visit(participant, code: str) -> Visit:
    return get_object_or_404(participant_visits(participant), code=code)


def _answer(visit: Visit, *, status_code: int = 200) -> Response:
    return Response(VisitOut(with_status([visit])[0]).data, status=status_code)


class VisitListView(generics.ListAPIView):
    """Visits at the user's sites by status, as of each site's own today, most urgent first."""

    serializer_class = VisitOut
    pagination_class = Pagination
    query_class = VisitListQuery

    def get_queryset(self):
        return visits_for(user=self.request.user, **list_query(self))

    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(VisitOut(with_status(page), many=True).data)


class ParticipantVisitsView(APIView):
    @extend_schema(responses=VisitOut(many=True))
    def get(self, request, study_id):
        """The participant's visits in calendar order."""
        list_query(self)
        participant = _participant(request, study_id)
        return Response(VisitOut(with_status(participant_visits(participant)), many=True).data)

    @extend_schema(request=UnscheduledVisitIn, responses={201: VisitOut})
    def post(self, request, study_id):
        """Add an unscheduled visit that took place (codes U1, U2...); the reason is required."""
        participant = _participant(request, study_id)
        body = UnscheduledVisitIn(data=request.data)
        body.is_valid(raise_exception=True)
        visit = services.visit_unscheduled_create(
            actor=request.user, participant=participant, **body.validated_data
        )
        return _answer(visit, status_code=status.HTTP_201_CREATED)


class VisitDetailView(APIView):
    @extend_schema(responses=VisitOut)
    def get(self, request, study_id, code):
        return _answer(_visit(_participant(request, study_id), code))


class VisitCompleteView(APIView):
    @extend_schema(request=VisitCompleteIn, responses=VisitOut)
    def post(self, request, study_id, code):
        """Record the visit as done on visit_date."""
        visit = _visit(_participant(request, study_id), code)
        body = VisitCompleteIn(data=request.data)
        body.is_valid(raise_exception=True)
        return _answer(services.visit_complete(actor=request.user, visit=visit, **body.validated_data))


class VisitMissedView(APIView):
    @extend_schema(request=VisitReasonIn, responses=VisitOut)
    def post(self, request, study_id, code):
        """Declare the visit missed; the reason is required. A completed visit cannot be missed (409)."""
        visit = _visit(_participant(request, study_id), code)
        body = VisitReasonIn(data=request.data)
        body.is_valid(raise_exception=True)
        return _answer(services.visit_miss(actor=request.user, visit=visit, **body.validated_data))


class VisitReopenView(APIView):
    @extend_schema(request=VisitReasonIn, responses=VisitOut)
    def post(self, request, study_id, code):
        """Undo a completion or a missed declaration; the reason is required."""
        visit = _visit(_participant(request, study_id), code)
        body = VisitReasonIn(data=request.data)
        body.is_valid(raise_exception=True)
        return _answer(services.visit_reopen(actor=request.user, visit=visit, **body.validated_data))


VISIT = "participants/<slug:study_id>/visits/"

urlpatterns = [
    path("visits/", VisitListView.as_view(), name="visit-list"),
    path(VISIT, ParticipantVisitsView.as_view(), name="participant-visits"),
    path(f"{VISIT}<slug:code>/", VisitDetailView.as_view(), name="visit-detail"),
    path(f"{VISIT}<slug:code>/complete/", VisitCompleteView.as_view(), name="visit-complete"),
    path(f"{VISIT}<slug:code>/missed/", VisitMissedView.as_view(), name="visit-missed"),
    path(f"{VISIT}<slug:code>/reopen/", VisitReopenView.as_view(), name="visit-reopen"),
]
