"""Patient-link API: the questionnaire behind a link, for a patient app (the token is the only credential),
and the staff endpoints that issue and revoke a link.

GET/PUT /api/v1/patient/{token}/ take no session and no API token: the signed link token in the path is the
credential, so they need no CSRF token either. A dead link answers 404 (never existed, or altered) or 410
(used, expired, replaced) with a reason code, and changes nothing. Every answer is no-store and never logged
with its path (which holds the token). Rate-limited per client as the pages are (views/link_limits.py): 429.
"""

import datetime

from django.urls import path
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from crf.apis.views import expected_version
from trial.apis.headers import if_match_header, reason_header
from trial.apis.renderers import JSONRenderer
from trial.apis.serializers import StrictInput
from trial.audit import request_reason
from trial.i18n import language_code

from ..selectors.links import link_state, questionnaire_definition, questionnaire_visit, visit_link
from ..services.links import (
    MAX_LINK_DAYS,
    LinkRefused,
    patient_link_issue,
    patient_link_open,
    patient_link_revoke,
    patient_link_save,
)
from ..views.answers import patient_url, questionnaire_view
from ..views.link_limits import note_failure, seconds_limited
from .answer_schemas import AnyAnswersField
from .questionnaires import StrictBooleanField

IF_MATCH = if_match_header(
    'The ETag you read, e.g. "2": if the answers changed since, 409 and nothing is saved.'
)


def _language(request, default: str) -> str:
    wanted = request.query_params.get("lang", "")
    return language_code(wanted) if wanted else default


class OptionOut(serializers.Serializer):
    value = serializers.IntegerField()
    text = serializers.CharField()


class ItemOut(serializers.Serializer):
    index = serializers.IntegerField(help_text="answers[index]")
    code = serializers.CharField()
    name = serializers.CharField()
    options = OptionOut(many=True)


class ScaleOut(serializers.Serializer):
    minimum = serializers.IntegerField()
    maximum = serializers.IntegerField()
    unit = serializers.CharField()
    low = serializers.CharField()
    high = serializers.CharField()


class QuestionnaireOut(serializers.Serializer):
    instrument = serializers.CharField()
    version = serializers.CharField()
    language = serializers.CharField()
    title = serializers.CharField()
    instructions = serializers.CharField(allow_blank=True)
    licensed = serializers.BooleanField(help_text="false: neutral placeholders, not the licensed wording.")
    demonstration = serializers.BooleanField(
        help_text="true: the demo's wording, loaded to try the system; not the licensed wording."
    )
    items = ItemOut(many=True, required=False, help_text="ODI: the ten sections, in order.")
    scale = ScaleOut(
        required=False,
        help_text='VAS: answers are {"pain": mm}; no value until the patient marks. Draw the line with its '
        "two anchors only: no numbers, ticks or readout (a number in sight biases the mark).",
    )


class PatientLinkOut(serializers.Serializer):
    status = serializers.CharField(help_text="draft: answers may still be saved and submitted.")
    version = serializers.IntegerField(help_text="Also the ETag; send it back in If-Match.")
    language = serializers.CharField()
    expires_at = serializers.DateTimeField()
    visit_label = serializers.CharField(allow_blank=True)
    answered = serializers.IntegerField()
    total = serializers.IntegerField()
    answers = serializers.JSONField()
    questionnaire = QuestionnaireOut()


class PatientAnswersIn(StrictInput):
    answers = AnyAnswersField(help_text="The answers of the link's instrument (400 if not).")
    submit = StrictBooleanField(
        required=False, default=False, help_text="true: submit; the answers are final."
    )
    language = serializers.ChoiceField(
        choices=["en", "zh-hans"], required=False, help_text="The language answered in; default the link's."
    )


class LinkRefusedOut(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["unknown", "expired", "used", "revoked", "superseded"])


class LimitedOut(serializers.Serializer):
    detail = serializers.CharField(help_text="Too many requests from this client; see Retry-After.")


def private(response):
    """The path holds the credential and the body health data: not cached, no Referer, not logged by Django
    (which prints the path of every 4xx)."""
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response._has_been_logged = True
    return response


def link_payload(link, language: str) -> dict:
    response = link.response
    definition = questionnaire_definition(response.instrument, response.instrument_version, language)
    view = questionnaire_view(definition, response.answers)
    visit = response.visit
    return {
        "status": response.status,
        "version": response.version,
        "language": link.language,
        "expires_at": link.expires_at,
        "visit_label": (visit.label.get(language) or visit.label.get("en", "")) if visit else "",
        "answered": view["answered"],
        "total": view["total"],
        "answers": response.answers,
        "questionnaire": definition,
    }


class PatientLinkView(APIView):
    # The answers carry the record's version in ETag (trial/apis/schema.py documents it).
    etag_methods = frozenset({"GET", "PUT"})
    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        seconds = seconds_limited(request)
        if seconds:
            raise Throttled(wait=seconds)

    def handle_exception(self, exc):
        if isinstance(exc, LinkRefused) and exc.code == "unknown":
            note_failure(self.request)  # a token that opens nothing: counted against the client
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        return private(super().finalize_response(request, response, *args, **kwargs))

    @extend_schema(
        auth=[],
        parameters=[
            OpenApiParameter("lang", enum=["en", "zh-hans"], description="Default: the link's language.")
        ],
        responses={200: PatientLinkOut, 404: LinkRefusedOut, 410: LinkRefusedOut, 429: LimitedOut},
    )
    def get(self, request, token):
        """The questionnaire of a patient link, in its language, with the answers saved so far."""
        link = patient_link_open(token)
        answer = Response(PatientLinkOut(link_payload(link, _language(request, link.language))).data)
        answer["ETag"] = f'"{link.response.version}"'
        return answer

    @extend_schema(
        auth=[],
        request=PatientAnswersIn,
        parameters=[IF_MATCH],
        responses={
            200: PatientLinkOut,
            404: LinkRefusedOut,
            409: LinkRefusedOut,
            410: LinkRefusedOut,
            429: LimitedOut,
        },
    )
    def put(self, request, token):
        """Save answers (partial answers are kept), or submit them ("submit": true): then they are final and
        the link is used. Without If-Match the save applies to the version current when it arrives."""
        link = patient_link_open(token)
        body = PatientAnswersIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        version = expected_version(request)
        saved = patient_link_save(
            token,
            data["answers"],
            data["submit"],
            language=data.get("language") or link.language,
            expected_version=link.response.version if version is None else version,
        )
        link.response = saved
        answer = Response(PatientLinkOut(link_payload(link, data.get("language") or link.language)).data)
        answer["ETag"] = f'"{saved.version}"'
        return answer


class LinkIssueIn(StrictInput):
    language = serializers.ChoiceField(
        choices=["en", "zh-hans"], help_text="The language of the patient's page."
    )
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LINK_DAYS,
        required=False,
        help_text="Default: settings.EPRO_LINK_DAYS (14).",
    )


class LinkIssueView(APIView):
    @extend_schema(
        request=LinkIssueIn,
        responses={
            201: inline_serializer(
                "PatientLinkIssued",
                {
                    "id": serializers.IntegerField(),
                    "url": serializers.URLField(help_text="Shown once: only a hash of its key is stored."),
                    "token": serializers.CharField(),
                    "language": serializers.CharField(),
                    "expires_at": serializers.DateTimeField(),
                },
            ),
            409: inline_serializer(
                "PatientLinkNotIssued",
                {"detail": serializers.CharField(), "code": serializers.CharField()},
            ),
        },
    )
    def post(self, request, study_id, visit_code, instrument):
        """Issue a patient link for one questionnaire of a visit (coordinators and investigators of the site).
        Older live links of the same questionnaire stop working. An ODI link needs the wording loaded in the
        link's language (`manage.py load_instrument_text`): until then 409 `wording_not_loaded`."""
        visit = questionnaire_visit(user=request.user, study_id=study_id, visit_code=visit_code)
        body = LinkIssueIn(data=request.data)
        body.is_valid(raise_exception=True)
        days = body.validated_data.get("expires_in_days")
        link, token = patient_link_issue(
            actor=request.user,
            visit=visit,
            instrument=instrument,
            language=body.validated_data["language"],
            expires_in=datetime.timedelta(days=days) if days else None,
        )
        payload = {
            "id": link.pk,
            "url": request.build_absolute_uri(patient_url(token)),
            "token": token,
            "language": link.language,
            "expires_at": link.expires_at,
        }
        return private(Response(payload, status=201))


class LinkOut(serializers.Serializer):
    """A link as staff see it: never its token or URL (only a hash of its key is stored)."""

    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["live", "used", "revoked", "expired"])
    language = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField(allow_null=True)
    used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class LinkRevokeView(APIView):
    @extend_schema(
        request=None,
        parameters=[
            reason_header(required=False, description="Why (optional), kept in the audit trail."),
        ],
        responses={200: LinkOut, 409: LinkRefusedOut},
    )
    def post(self, request, study_id, visit_code, instrument, link_id):
        """Revoke a patient link at once (coordinators and investigators of the site): it no longer opens the
        questionnaire. Revoking a revoked or expired link changes nothing; a used link is a 409."""
        visit = questionnaire_visit(user=request.user, study_id=study_id, visit_code=visit_code)
        link = visit_link(visit=visit, instrument=instrument, link_id=link_id)
        link = patient_link_revoke(actor=request.user, link=link, reason=request_reason(request))
        link.state = link_state(link)
        return Response(LinkOut(link).data)


urlpatterns = [
    path("patient/<str:token>/", PatientLinkView.as_view(), name="patient-link"),
    path(
        "participants/<slug:study_id>/visits/<slug:visit_code>/questionnaires/<slug:instrument>/link/",
        LinkIssueView.as_view(),
        name="questionnaire-link-issue",
    ),
    path(
        "participants/<slug:study_id>/visits/<slug:visit_code>/questionnaires/<slug:instrument>/links/"
        "<int:link_id>/revoke/",
        LinkRevokeView.as_view(),
        name="questionnaire-link-revoke",
    ),
]
