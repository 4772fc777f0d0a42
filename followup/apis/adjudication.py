"""Re-fracture adjudication API: the case board (site staff, oversight, data managers) with the data
manager's steps (the blinded reader's queue, packets and verdicts: apis/queue.py). Parse, call one service,
answer.

- `/adjudication-cases/`: what each user sees of a case depends on their role where it is
  (selectors/adjudication.py): `view` says which (site, oversight, manage). Data managers open cases by hand
  (POST), assign, reassign, reopen and withdraw findings entered by hand.
- `/adjudication/queue/`: an adjudicator's own cases, blind (selectors/packet.py): the reader's own reading
  code and the level, never the case number, its opening date, the study ID, site or location; the packet;
  the e-signed verdict. A data manager sees each assignment's reading code, to find a case a reader names.
"""

from typing import Literal

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crf.selectors import crf_participants
from trial.apis.filtering import SiteCodeField, list_query
from trial.apis.pagination import Pagination
from trial.apis.serializers import StrictInput
from trial.filters import refuse_query
from trial.levels import LEVELS

from ..models import CaseEvidence, CaseStatus, Confidence, FractureLocation, Modality, ReaderSlot
from ..selectors.adjudication import CaseView, adjudication_case_list, case_view, case_views, reader_choices
from ..services import assignment, cases, verdicts

REASON_MAX = 2000
_IN_REVIEW = gettext_lazy("in review")
IN_REVIEW = "in_review"  # open or disputed: what site staff may ask for (a dispute is a review in progress)


# --- output ----------------------------------------------------------------------------------------------


class CaseSiteOut(serializers.Serializer):
    """What site staff see: the case exists, in review or not, and its final result."""

    # Which of the three shapes this is: one value each, so that the schema's oneOf matches exactly one.
    view = serializers.SerializerMethodField()
    id = serializers.IntegerField()
    study_id = serializers.CharField(source="participant.study_id")
    site = serializers.CharField(source="participant.site.code")
    visit = serializers.CharField(source="visit.code", allow_null=True, default=None)
    level = serializers.CharField()
    location = serializers.ChoiceField(
        choices=FractureLocation.choices, help_text="The site's classification."
    )
    location_text = serializers.CharField(source="get_location_display")
    exam_date = serializers.DateField(allow_null=True, help_text="The earliest supporting exam.")
    origin = serializers.CharField()
    status = serializers.SerializerMethodField(help_text="in_review, final or cancelled (site staff).")
    status_text = serializers.SerializerMethodField()
    final_fracture = serializers.BooleanField(allow_null=True)
    final_levels = serializers.ListField(child=serializers.CharField())
    final_event_date = serializers.DateField(allow_null=True)
    finalized_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_view(self, case) -> Literal["site"]:
        return CaseView.SITE

    def get_status(self, case) -> str:
        return "in_review" if case.status in (CaseStatus.OPEN, CaseStatus.DISPUTED) else case.status

    def get_status_text(self, case) -> str:
        if case.status in (CaseStatus.OPEN, CaseStatus.DISPUTED):
            return str(_IN_REVIEW)
        return case.get_status_display()


class CaseBoardOut(CaseSiteOut):
    """The board (principal investigator, monitors): each case's state, never its readers' identities."""

    status = serializers.ChoiceField(choices=CaseStatus.choices)
    status_text = serializers.CharField(source="get_status_display")
    round = serializers.IntegerField()
    readers_assigned = serializers.IntegerField()
    verdicts_in = serializers.IntegerField(help_text="Verdicts given in this round.")

    def get_view(self, case) -> Literal["oversight"]:
        return CaseView.OVERSIGHT


class AssignmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    slot = serializers.ChoiceField(choices=ReaderSlot.choices)
    reader_id = serializers.IntegerField()
    reader = serializers.CharField(source="reader.get_full_name")
    reading_code = serializers.CharField(
        help_text="The code this reader knows the case by (in their queue, instead of its number)."
    )
    active = serializers.BooleanField()
    assigned_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class EvidenceOut(serializers.Serializer):
    id = serializers.IntegerField()
    form = serializers.CharField(source="record.form_code", allow_null=True, default=None)
    visit = serializers.CharField(source="record.visit_code", allow_null=True, default=None)
    modality = serializers.ChoiceField(choices=Modality.choices)
    exam_date = serializers.DateField(allow_null=True)
    location = serializers.CharField()
    findings = serializers.CharField()
    symptom_onset = serializers.DateField(allow_null=True)
    active = serializers.BooleanField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)


class ManagedVerdictOut(serializers.Serializer):
    """A verdict as the data manager sees it: with the name the reader signed with."""

    slot = serializers.ChoiceField(choices=ReaderSlot.choices, source="assignment.slot")
    round = serializers.IntegerField()
    reader = serializers.CharField(
        source="printed_name", help_text="The printed name the reader signed with."
    )
    fracture = serializers.BooleanField()
    levels = serializers.ListField(child=serializers.CharField())
    acute_signal = serializers.BooleanField(allow_null=True)
    genant_grade = serializers.IntegerField(allow_null=True)
    event_date = serializers.DateField(allow_null=True)
    confidence = serializers.ChoiceField(choices=Confidence.choices)
    comment = serializers.CharField()
    signed_at = serializers.DateTimeField()


class CaseManageOut(CaseBoardOut):
    """A data manager's view: readers, evidence and verdicts too."""

    assignments = AssignmentOut(many=True, source="assignments.all")
    evidence = EvidenceOut(many=True, source="evidence.all")
    verdicts = ManagedVerdictOut(many=True, source="verdicts.all")

    def get_view(self, case) -> Literal["manage"]:
        return CaseView.MANAGE


CASE_OUT = PolymorphicProxySerializer(
    component_name="AdjudicationCase",
    serializers={
        CaseView.SITE: CaseSiteOut,
        CaseView.OVERSIGHT: CaseBoardOut,
        CaseView.MANAGE: CaseManageOut,
    },
    resource_type_field_name="view",
)


def case_out(case, view: str) -> dict:
    """The case as `view` shows it (the case list was read with `manage` for a data manager's)."""
    serializer = {
        CaseView.SITE: CaseSiteOut,
        CaseView.OVERSIGHT: CaseBoardOut,
        CaseView.MANAGE: CaseManageOut,
    }
    return {"view": view} | serializer[view](case).data


# --- input -----------------------------------------------------------------------------------------------


class CaseListQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[*CaseStatus.values, IN_REVIEW],
        required=False,
        help_text="in_review: open or disputed. Open and disputed alone only for the cases the user oversees "
        "study-wide (principal investigator, monitor, data manager): 403 naming `status` for site staff.",
    )
    location = serializers.ChoiceField(choices=FractureLocation.choices, required=False)
    site = SiteCodeField(required=False)
    study_id = serializers.CharField(required=False, max_length=32)


class ManualCaseIn(StrictInput):
    study_id = serializers.CharField(max_length=32)
    level = serializers.ChoiceField(
        choices=LEVELS, help_text="Not a level the participant had treated (400 naming `level`)."
    )
    exam_date = serializers.DateField(
        help_text="Not before the participant's enrollment, not in the future (400 naming `exam_date`)."
    )
    modality = serializers.ChoiceField(choices=Modality.choices)
    findings = serializers.CharField(max_length=cases.FINDINGS_MAX)
    symptom_onset = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=REASON_MAX)


class ReasonIn(StrictInput):
    reason = serializers.CharField(max_length=REASON_MAX)


class ReassignIn(StrictInput):
    slot = serializers.ChoiceField(choices=ReaderSlot.choices)
    reader = serializers.IntegerField(
        help_text="The user id of an eligible adjudicator (see eligible-readers)."
    )
    reason = serializers.CharField(max_length=REASON_MAX)


class ReaderOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    load = serializers.IntegerField(help_text="Cases the reader is assigned to now.")


# --- the board ---------------------------------------------------------------------------------------------


def _board_case(request, pk: int, *, manage: bool = False):
    return get_object_or_404(adjudication_case_list(user=request.user, manage=manage), pk=pk)


class CaseListView(generics.GenericAPIView):
    """Adjudication cases on your sites, newest first; what each shows depends on your role there."""

    pagination_class = Pagination
    query_class = CaseListQuery
    # What an OPTIONS answer describes for POST (without one, OPTIONS was a 500).
    serializer_class = ManualCaseIn

    def get_queryset(self):
        filters = list_query(self)
        views = case_views(user=self.request.user)
        manage = CaseView.MANAGE in views[0].values()
        found = adjudication_case_list(user=self.request.user, manage=manage)
        status = filters.get("status")
        if status == IN_REVIEW:
            found = found.filter(status__in=(CaseStatus.OPEN, CaseStatus.DISPUTED))
        elif status in (CaseStatus.OPEN, CaseStatus.DISPUTED) and not self.request.user.is_superuser:
            # Open or disputed tells how far a review is: only of the cases the user oversees study-wide.
            if not views[0]:
                message = _("Site staff see whether a case is in review, not how far: ask for in_review.")
                refuse_query({"status": [message]}, hidden={"status"})  # well-formed, not theirs: a 403
            found = found.filter(status=status, site__study_id__in=list(views[0]))
        elif status:
            found = found.filter(status=status)
        for name, lookup in (
            ("location", "location"),
            ("site", "site__code"),
            ("study_id", "participant__study_id"),
        ):
            if name in filters:
                found = found.filter(**{lookup: filters[name]})
        return found, views

    @extend_schema(
        summary="Re-fracture adjudication cases on your sites",
        # A page of cases (count, next, previous, results), not one case.
        responses=PolymorphicProxySerializer(
            component_name="AdjudicationCase",
            serializers=CASE_OUT.serializers,
            resource_type_field_name="view",
            many=True,
        ),
    )
    def get(self, request):
        found, views = self.get_queryset()
        page = self.paginate_queryset(found)
        superuser = request.user.is_superuser
        return self.get_paginated_response(
            [case_out(c, case_view(views, c, superuser=superuser)) for c in page]
        )

    @extend_schema(
        summary="Open a case by hand (data managers)", request=ManualCaseIn, responses={201: CASE_OUT}
    )
    def post(self, request):
        body = ManualCaseIn(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        participant = get_object_or_404(crf_participants(user=request.user), study_id=values.pop("study_id"))
        case = cases.case_open_manual(actor=request.user, participant=participant, **values)
        return _case_answer(request, case.pk, status_code=status.HTTP_201_CREATED)


def _case_answer(request, pk: int, *, status_code: int = 200) -> Response:
    views = case_views(user=request.user)
    case = _board_case(request, pk, manage=CaseView.MANAGE in views[0].values())
    view = case_view(views, case, superuser=request.user.is_superuser)
    return Response(case_out(case, view), status=status_code)


class CaseDetailView(APIView):
    @extend_schema(summary="One adjudication case", responses=CASE_OUT, operation_id="v1_adjudication_case")
    def get(self, request, pk):
        return _case_answer(request, pk)


class CaseAssignView(APIView):
    @extend_schema(
        summary="Assign the two readers a case lacks (data managers)", request=None, responses=CASE_OUT
    )
    def post(self, request, pk):
        assignment.case_readers_assign(case=_board_case(request, pk), actor=request.user)
        return _case_answer(request, pk)


class CaseReassignView(APIView):
    @extend_schema(
        summary="Give a slot to another reader (data managers)", request=ReassignIn, responses=CASE_OUT
    )
    def post(self, request, pk):
        case = _board_case(request, pk)
        body = ReassignIn(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        reader = get_user_model().objects.filter(pk=values["reader"]).first()
        if reader is None:
            raise serializers.ValidationError({"reader": [str(gettext_lazy("Unknown user."))]})
        assignment.case_reader_reassign(
            actor=request.user, case=case, slot=values["slot"], reader=reader, reason=values["reason"]
        )
        return _case_answer(request, pk)


class CaseEligibleReadersView(APIView):
    @extend_schema(
        summary="Adjudicators who may read this case (data managers)", responses=ReaderOut(many=True)
    )
    def get(self, request, pk):
        list_query(self)
        case = _board_case(request, pk)
        return Response(ReaderOut(reader_choices(actor=request.user, case=case), many=True).data)


class CaseReopenView(APIView):
    @extend_schema(
        summary="Send a final case back to review (data managers)", request=ReasonIn, responses=CASE_OUT
    )
    def post(self, request, pk):
        case = _board_case(request, pk)
        body = ReasonIn(data=request.data)
        body.is_valid(raise_exception=True)
        verdicts.case_reopen(actor=request.user, case=case, reason=body.validated_data["reason"])
        return _case_answer(request, pk)


class EvidenceWithdrawView(APIView):
    @extend_schema(
        summary="Withdraw findings entered by hand (data managers)", request=ReasonIn, responses=CASE_OUT
    )
    def post(self, request, pk, evidence_id):
        case = _board_case(request, pk)
        evidence = get_object_or_404(CaseEvidence.objects.select_related("case"), pk=evidence_id, case=case)
        body = ReasonIn(data=request.data)
        body.is_valid(raise_exception=True)
        cases.evidence_withdraw(actor=request.user, evidence=evidence, reason=body.validated_data["reason"])
        return _case_answer(request, pk)


urlpatterns = [
    path("adjudication-cases/", CaseListView.as_view(), name="adjudication-case-list"),
    path("adjudication-cases/<int:pk>/", CaseDetailView.as_view(), name="adjudication-case-detail"),
    path("adjudication-cases/<int:pk>/assign/", CaseAssignView.as_view(), name="adjudication-case-assign"),
    path(
        "adjudication-cases/<int:pk>/reassign/", CaseReassignView.as_view(), name="adjudication-case-reassign"
    ),
    path(
        "adjudication-cases/<int:pk>/eligible-readers/",
        CaseEligibleReadersView.as_view(),
        name="adjudication-case-readers",
    ),
    path("adjudication-cases/<int:pk>/reopen/", CaseReopenView.as_view(), name="adjudication-case-reopen"),
    path(
        "adjudication-cases/<int:pk>/evidence/<int:evidence_id>/withdraw/",
        EvidenceWithdrawView.as_view(),
        name="adjudication-evidence-withdraw",
    ),
]
