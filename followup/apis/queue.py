"""The blinded reader's API: their queue (tabs and counts), a case's packet, and the e-signed verdict.

A reader sees the case by their own reading code and its level only, never by its number or the date it was
opened; the URLs name it by the code too (selectors/packet.py says what the packet shows and hides). Parse,
call one service, answer.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crf.apis.serializers import SIGNING_ERRORS, USERNAME_HELP, SigningRefused
from crf.services.signing_session import signing_session
from trial.apis.filtering import list_query
from trial.apis.pagination import Pagination
from trial.apis.serializers import StrictInput
from trial.levels import LEVELS

from ..models import Confidence, ReaderSlot
from ..question import Part, case_question
from ..selectors.packet import Bucket, case_packet, reader_bucket, reader_case, reader_cases, reader_counts
from ..services import verdicts


def _texts(help_text: str = "") -> serializers.DictField:
    return serializers.DictField(
        child=serializers.CharField(), help_text=f'{{"en": ..., "zh-hans": ...}}{help_text}'
    )


class QuestionOut(serializers.Serializer):
    """The protocol's question (its `adjudication:` section, trial/protocols/FORMAT.md), in both languages."""

    code = serializers.CharField()
    label = _texts()
    positive = _texts(": the answer given as `fracture: true`.")
    negative = _texts(": the answer given as `fracture: false`.")
    asks = serializers.ListField(
        child=serializers.ChoiceField(choices=Part.ALL),
        help_text="The parts asked beside the answer (with the positive answer); the others stay empty.",
    )
    cases = serializers.CharField(help_text="follow_up_mri or registered_levels.")


class AdjudicationVerdictOut(serializers.Serializer):
    slot = serializers.ChoiceField(choices=ReaderSlot.choices)
    round = serializers.IntegerField()
    fracture = serializers.BooleanField()
    levels = serializers.ListField(child=serializers.CharField())
    locations = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        help_text="Each level's position to the treated levels (treated, adjacent, remote), derived.",
    )
    acute_signal = serializers.BooleanField(allow_null=True)
    genant_grade = serializers.IntegerField(allow_null=True)
    event_date = serializers.DateField(allow_null=True)
    confidence = serializers.ChoiceField(choices=Confidence.choices)
    comment = serializers.CharField()
    signed_at = serializers.DateTimeField()


class VerdictIn(StrictInput):
    """A verdict and its e-signature (21 CFR 11.200): the user ID on the session's first signing, the
    password every time."""

    username = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text=USERNAME_HELP,
    )
    password = serializers.CharField(
        max_length=256, trim_whitespace=False, help_text="Your password again: the e-signature."
    )
    fracture = serializers.BooleanField(
        help_text="The answer to the case's question: true for its positive answer (a new non-operative "
        "vertebral fracture; an acute vertebra), false for its negative one."
    )
    levels = serializers.ListField(
        child=serializers.ChoiceField(choices=LEVELS), required=False, default=list
    )
    acute_signal = serializers.BooleanField(required=False, allow_null=True, default=None)
    genant_grade = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=3
    )
    event_date = serializers.DateField(required=False, allow_null=True, default=None)
    confidence = serializers.ChoiceField(choices=Confidence.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class QueueQuery(serializers.Serializer):
    bucket = serializers.ChoiceField(choices=Bucket.ALL, required=False)


READING_CODE_HELP = (
    "Your reading code for the case: random, yours alone (the other reader knows the case by another). "
    "The case's number and opening date are not shown to readers."
)


class QueueCaseOut(serializers.Serializer):
    code = serializers.CharField(source="reading_code", help_text=READING_CODE_HELP)
    level = serializers.CharField()
    round = serializers.IntegerField()
    slot = serializers.ChoiceField(choices=ReaderSlot.choices, source="my_slot")
    bucket = serializers.ChoiceField(choices=Bucket.ALL)
    question = serializers.SerializerMethodField()

    @extend_schema_field(QuestionOut)
    def get_question(self, case) -> dict:
        return QuestionOut(case_question(case).as_data()).data


class QueueCountsOut(serializers.Serializer):
    awaiting_me = serializers.IntegerField()
    awaiting_other = serializers.IntegerField()
    awaiting_tiebreak = serializers.IntegerField()
    final = serializers.IntegerField()


class ShownOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField()


class ExamOut(serializers.Serializer):
    form = serializers.CharField()
    title = serializers.CharField()
    visit = serializers.CharField()
    exam_date = serializers.CharField(allow_null=True)
    draft = serializers.BooleanField(help_text="The form is still a draft at the site.")
    fields = ShownOut(many=True)
    rows = serializers.ListField(child=ShownOut(many=True))


class FindingsOut(serializers.Serializer):
    modality = serializers.CharField()
    exam_date = serializers.DateField(allow_null=True)
    symptom_onset = serializers.DateField(allow_null=True)
    findings = serializers.CharField()


class PacketCaseOut(serializers.Serializer):
    code = serializers.CharField(help_text=READING_CODE_HELP)
    level = serializers.CharField()
    round = serializers.IntegerField()
    bucket = serializers.ChoiceField(choices=Bucket.ALL)
    slot = serializers.ChoiceField(choices=ReaderSlot.choices)
    mine_given = serializers.BooleanField()


class PacketExamOut(serializers.Serializer):
    modality = serializers.CharField(help_text="The DICOM modality: CT, MR...")
    study_date = serializers.DateField()
    body_parts = serializers.ListField(child=serializers.CharField())
    series_count = serializers.IntegerField()


class PacketOut(serializers.Serializer):
    case = PacketCaseOut()
    question = QuestionOut()
    imaging_exams = PacketExamOut(
        many=True, help_text="The exams registered from DICOM headers (no UID, no identity)."
    )
    treated_levels = serializers.ListField(child=serializers.CharField())
    procedure_date = serializers.CharField(allow_null=True)
    event_date_rule = serializers.CharField(
        help_text="The protocol's rule: confirming_mri or symptom_onset_when_recorded."
    )
    event_date_suggested = serializers.DateField(allow_null=True, help_text="The date the rule gives.")
    exams = ExamOut(many=True)
    findings = FindingsOut(many=True)
    verdicts = AdjudicationVerdictOut(
        many=True, help_text="Yours; the others' once both independent verdicts are in."
    )


def _reader_case(request, reading_code: str):
    return get_object_or_404(reader_case(user=request.user, code=reading_code))


class QueueView(generics.GenericAPIView):
    """Your adjudication cases (adjudicators), blind: your reading code, level, slot and standing, in the
    order of your codes (random)."""

    pagination_class = Pagination
    query_class = QueueQuery

    @extend_schema(summary="Your cases to read", responses=QueueCaseOut(many=True))
    def get(self, request):
        bucket = list_query(self).get("bucket")
        found = reader_bucket(user=request.user, bucket=bucket) if bucket else reader_cases(user=request.user)
        if bucket:
            # The tab's size is one of the queue's counts: no count of its rows.
            self.counted_total = lambda: reader_counts(user=request.user)[bucket]
        page = self.paginate_queryset(found)
        return self.get_paginated_response(QueueCaseOut(page, many=True).data)


class QueueCountsView(APIView):
    @extend_schema(summary="Your queue's counts", responses=QueueCountsOut)
    def get(self, request):
        return Response(QueueCountsOut(reader_counts(user=request.user)).data)


class PacketView(APIView):
    @extend_schema(summary="A case's packet, blind", responses=PacketOut)
    def get(self, request, reading_code):
        case = _reader_case(request, reading_code)
        return Response(PacketOut(case_packet(case=case, user=request.user)).data)


class VerdictView(APIView):
    @extend_schema(
        summary="Give your e-signed verdict",
        description=SIGNING_ERRORS,
        request=VerdictIn,
        responses={201: PacketOut, 403: SigningRefused},
    )
    def post(self, request, reading_code):
        case = _reader_case(request, reading_code)
        body = VerdictIn(data=request.data)
        body.is_valid(raise_exception=True)
        verdicts.verdict_submit(
            actor=request.user, case=case, session=signing_session(request), **body.validated_data
        )
        case = _reader_case(request, reading_code)
        return Response(
            PacketOut(case_packet(case=case, user=request.user)).data, status=status.HTTP_201_CREATED
        )


urlpatterns = [
    path("adjudication/queue/", QueueView.as_view(), name="adjudication-queue"),
    path("adjudication/queue/counts/", QueueCountsView.as_view(), name="adjudication-queue-counts"),
    path("adjudication/queue/<str:reading_code>/", PacketView.as_view(), name="adjudication-packet"),
    path(
        "adjudication/queue/<str:reading_code>/verdict/", VerdictView.as_view(), name="adjudication-verdict"
    ),
]
