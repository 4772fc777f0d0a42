"""Questionnaire API: the instrument registry, scoring on its own, and a participant's responses.

Parse, call one service or selector, answer. Versions in ETag/If-Match and reasons in X-Change-Reason, as for
CRFs. A participant of another site, or any participant for an adjudicator (blinded), is a 404.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crf.apis.views import IF_MATCH, REASON, expected_version
from trial.apis.filtering import list_query
from trial.apis.serializers import StrictInput
from trial.audit import request_reason
from trial.i18n import LANGUAGES, language_code, localized

from ..instruments import INSTRUMENTS, RELATIVE_MCID_PERCENT, instrument_def, score_answers
from ..models import QuestionnaireResponse, ResponseSource, Visit
from ..selectors.questionnaires import (
    participant_questionnaires,
    questionnaire_changes,
    questionnaire_participants,
)
from ..services.questionnaires import questionnaire_instrument, questionnaire_save
from .answer_schemas import AnyAnswersField, OdiAnswersField, VasAnswersField


class StrictBooleanField(serializers.BooleanField):
    """true or false only: "yes", 1 and "true" are refused, not coerced."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def Score(**kwargs):  # a field factory, named like the fields it makes
    return serializers.DecimalField(
        max_digits=4, decimal_places=1, coerce_to_string=False, allow_null=True, **kwargs
    )


# --- the instruments --------------------------------------------------------------------------------------


class InstrumentSectionOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_i18n = serializers.DictField(child=serializers.CharField())


class InstrumentBandOut(serializers.Serializer):
    code = serializers.CharField()
    upper = Score(help_text="The band includes this score; it starts above the previous band's upper.")
    label = serializers.CharField()
    label_i18n = serializers.DictField(child=serializers.CharField())


class InstrumentOut(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.CharField()
    name = serializers.CharField()
    name_i18n = serializers.DictField(child=serializers.CharField())
    unit = serializers.CharField()
    minimum = serializers.IntegerField()
    maximum = serializers.IntegerField()
    mcid = Score()
    mcid_relative_percent = Score()
    sections = InstrumentSectionOut(many=True)
    bands = InstrumentBandOut(many=True)


class InstrumentListView(APIView):
    @extend_schema(responses=InstrumentOut(many=True))
    def get(self, request):
        """The instruments: codes, versions, section names, bands and MCID. Never the licensed wording."""
        list_query(self)
        language = language_code(request.LANGUAGE_CODE)
        rows = [
            {
                "code": d.code,
                "version": d.version,
                "name": localized(d.name, language),
                "name_i18n": d.name,
                "unit": d.unit,
                "minimum": d.minimum,
                "maximum": d.maximum,
                "mcid": d.mcid,
                "mcid_relative_percent": RELATIVE_MCID_PERCENT,
                "sections": [
                    {"code": s.code, "name": localized(s.name, language), "name_i18n": s.name}
                    for s in d.sections
                ],
                "bands": [
                    {
                        "code": b.code,
                        "upper": b.upper,
                        "label": localized(b.label, language),
                        "label_i18n": b.label,
                    }
                    for b in d.bands
                ],
            }
            for d in INSTRUMENTS.values()
        ]
        return Response(InstrumentOut(rows, many=True).data)


class OdiScoreIn(StrictInput):
    answers = OdiAnswersField()


class VasScoreIn(StrictInput):
    answers = VasAnswersField()


class InstrumentScoreOut(serializers.Serializer):
    score = Score(
        help_text="One decimal; null when it cannot be computed (ODI: more than one section missing)."
    )
    band = serializers.CharField(
        allow_null=True, help_text="ODI band code; null without a score, and for VAS."
    )
    answered = serializers.IntegerField()


class ScoreView(APIView):
    """Score answers without storing them (integrations, checks). Malformed answers: 400 per item."""

    body = StrictInput

    def post(self, request, instrument):
        body = self.body(data=request.data)
        body.is_valid(raise_exception=True)
        result = score_answers(instrument, body.validated_data["answers"])
        return Response(
            InstrumentScoreOut({"score": result.score, "band": result.band, "answered": result.answered}).data
        )


# One operation per instrument, each with its own answers' schema (one URL with the instrument as a value
# could not say which answers go with which).
@extend_schema(request=OdiScoreIn, responses=InstrumentScoreOut, summary="Score ODI answers")
class OdiScoreView(ScoreView):
    body = OdiScoreIn


@extend_schema(request=VasScoreIn, responses=InstrumentScoreOut, summary="Score a VAS answer")
class VasScoreView(ScoreView):
    body = VasScoreIn


# --- responses ----------------------------------------------------------------------------------------------


class VisitQuestionnaireOut(serializers.Serializer):
    instrument = serializers.CharField()
    instrument_version = serializers.CharField()
    visit = serializers.CharField()
    status = serializers.CharField(help_text="not_started, draft or final.")
    version = serializers.IntegerField()
    answers = serializers.JSONField(allow_null=True)
    score = Score()
    band = serializers.CharField(allow_null=True)
    band_label = serializers.CharField(allow_blank=True)
    answered = serializers.IntegerField()
    source = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True)
    completed_on = serializers.DateField(allow_null=True)
    entered_by = serializers.CharField(allow_null=True, help_text="Username; null when the patient answered.")
    submitted_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


def response_payload(
    response: QuestionnaireResponse | None, *, visit: Visit, instrument: str, language
) -> dict:
    definition = instrument_def(instrument)
    if response is None:
        return {
            "instrument": instrument,
            "instrument_version": definition.version,
            "visit": visit.code,
            "status": "not_started",
            "version": 0,
            "answers": None,
            "score": None,
            "band": None,
            "band_label": "",
            "answered": 0,
            "source": None,
            "language": None,
            "completed_on": None,
            "entered_by": None,
            "submitted_at": None,
            "updated_at": None,
        }
    return {
        "instrument": response.instrument,
        "instrument_version": response.instrument_version,
        "visit": visit.code,
        "status": response.status,
        "version": response.version,
        "answers": response.answers,
        "score": response.score,
        "band": response.band or None,
        "band_label": definition.band_label(response.band, language),
        "answered": response.answered,
        "source": response.source,
        "language": response.language,
        "completed_on": response.completed_on,
        "entered_by": response.entered_by.get_username() if response.entered_by else None,
        "submitted_at": response.submitted_at,
        "updated_at": response.updated_at,
    }


def response_answer(response, *, visit, instrument, language) -> Response:
    payload = response_payload(response, visit=visit, instrument=instrument, language=language)
    answer = Response(VisitQuestionnaireOut(payload).data)
    answer["ETag"] = f'"{payload["version"]}"'
    return answer


class QuestionnairePointOut(serializers.Serializer):
    visit = serializers.CharField()
    visit_label = serializers.DictField(child=serializers.CharField())
    score = Score()
    band = serializers.CharField(allow_null=True)
    completed_on = serializers.DateField(allow_null=True)


class QuestionnaireFollowupOut(QuestionnairePointOut):
    change = Score(help_text="value - baseline: negative is better.")
    improvement = Score(help_text="baseline - value.")
    relative_improvement = Score(help_text="Percent of the baseline.")
    mcid = serializers.BooleanField(allow_null=True, help_text="Improvement of at least the MCID.")
    mcid_relative = serializers.BooleanField(allow_null=True, help_text="Improvement of at least 30 %.")


class QuestionnaireChangesOut(serializers.Serializer):
    instrument = serializers.CharField()
    version = serializers.CharField()
    unit = serializers.CharField()
    mcid = Score()
    mcid_relative_percent = Score()
    baseline = QuestionnairePointOut(allow_null=True)
    followups = QuestionnaireFollowupOut(many=True)


class ParticipantQuestionnairesView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "ParticipantQuestionnaires",
            {"responses": VisitQuestionnaireOut(many=True), "changes": QuestionnaireChangesOut(many=True)},
        )
    )
    def get(self, request, study_id):
        """The participant's responses in visit order, and per instrument the change from baseline with
        MCID flags (ODI 10 points, VAS 15 mm, or 30 % of the baseline). A fixed number of queries."""
        participant = get_object_or_404(questionnaire_participants(user=request.user), study_id=study_id)
        responses = list(participant_questionnaires(participant))
        language = language_code(request.LANGUAGE_CODE)
        payload = {
            "responses": [
                response_payload(r, visit=r.visit, instrument=r.instrument, language=language)
                for r in responses
                if r.visit_id is not None
            ],
            "changes": questionnaire_changes(participant, responses=responses),
        }
        return Response(
            {
                "responses": VisitQuestionnaireOut(payload["responses"], many=True).data,
                "changes": QuestionnaireChangesOut(payload["changes"], many=True).data,
            }
        )


class VisitQuestionnaireIn(StrictInput):
    answers = AnyAnswersField(help_text="The answers of the instrument in the URL (400 if not).")
    source = serializers.ChoiceField(choices=ResponseSource.choices)
    language = serializers.ChoiceField(
        choices=LANGUAGES, required=False, help_text="Default: the request's language."
    )
    submit = StrictBooleanField(required=False, default=False, help_text="true: submit (final).")
    completed_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Date answered; on submit, default today."
    )


def visit_for(request, study_id: str, visit_code: str) -> Visit:
    participant = get_object_or_404(questionnaire_participants(user=request.user), study_id=study_id)
    visit = get_object_or_404(Visit, participant=participant, code=visit_code)
    visit.participant = participant  # the one already read, with its site
    return visit


class QuestionnaireView(APIView):
    # The answers carry the record's version in ETag (trial/apis/schema.py documents it).
    etag_methods = frozenset({"GET", "PUT"})

    @extend_schema(
        responses=VisitQuestionnaireOut,
        parameters=[OpenApiParameter("instrument", enum=list(INSTRUMENTS), location=OpenApiParameter.PATH)],
    )
    def get(self, request, study_id, visit_code, instrument):
        """One questionnaire of a visit (status not_started when there is none yet); ETag: its version."""
        visit = visit_for(request, study_id, visit_code)
        questionnaire_instrument(participant=visit.participant, visit=visit, instrument=instrument)
        response = (
            QuestionnaireResponse.objects.select_related("entered_by")
            .filter(participant=visit.participant, visit=visit, instrument=instrument)
            .first()
        )
        return response_answer(
            response, visit=visit, instrument=instrument, language=language_code(request.LANGUAGE_CODE)
        )

    @extend_schema(
        request=VisitQuestionnaireIn,
        responses=VisitQuestionnaireOut,
        parameters=[
            IF_MATCH,
            REASON,
            OpenApiParameter("instrument", enum=list(INSTRUMENTS), location=OpenApiParameter.PATH),
        ],
    )
    def put(self, request, study_id, visit_code, instrument):
        """Save answers (a draft), or submit them with "submit": true. Changing a submitted questionnaire
        needs X-Change-Reason; every change after the first save needs If-Match."""
        visit = visit_for(request, study_id, visit_code)
        body = VisitQuestionnaireIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        response = questionnaire_save(
            actor=request.user,
            participant=visit.participant,
            visit=visit,
            instrument=instrument,
            answers=data["answers"],
            source=data["source"],
            language=data.get("language") or language_code(request.LANGUAGE_CODE),
            submit=data["submit"],
            expected_version=expected_version(request),
            reason=request_reason(request),
            completed_on=data["completed_on"],
        )
        return response_answer(
            response, visit=visit, instrument=instrument, language=language_code(request.LANGUAGE_CODE)
        )


PARTICIPANT = "participants/<slug:study_id>/"

urlpatterns = [
    path("instruments/", InstrumentListView.as_view(), name="instrument-list"),
    # One name for both: the permission matrix and reverse() know one scoring endpoint.
    path("instruments/odi/score/", OdiScoreView.as_view(), {"instrument": "odi"}, name="instrument-score"),
    path("instruments/vas/score/", VasScoreView.as_view(), {"instrument": "vas"}, name="instrument-score"),
    path(
        f"{PARTICIPANT}questionnaires/",
        ParticipantQuestionnairesView.as_view(),
        name="participant-questionnaires",
    ),
    path(
        f"{PARTICIPANT}visits/<slug:visit_code>/questionnaires/<slug:instrument>/",
        QuestionnaireView.as_view(),
        name="visit-questionnaire",
    ),
]
