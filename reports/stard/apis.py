"""POST /api/v1/studies/{code}/accuracy-reports/: ask for the STARD accuracy report (202 with the job).

The same people as the interim report: the study's principal investigators and data managers, study-wide
(others who see the study: 403; those who do not, such as an adjudicator: 404). The job is followed and
downloaded as every job (GET /jobs/{id}/, /jobs/{id}/download/). Imported by reports/apis.py after its
JobOut, which shows the job here too.
"""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from trial.apis.serializers import StrictInput
from trial.i18n import LANGUAGES

from ..access import report_study
from ..apis import ApiError, JobOut
from ..selectors import job_get
from .figures import INTERVALS
from .report import FORMATS, accuracy_report_request


class AccuracyReportIn(StrictInput):
    language = serializers.ChoiceField(
        choices=LANGUAGES, required=False, help_text="Of the PDF's labels. Default: the reader's."
    )
    interval = serializers.ChoiceField(
        choices=list(INTERVALS),
        default="wilson",
        help_text="The interval of sensitivity, specificity, accuracy, PPV and NPV (the AUC's is DeLong's).",
    )
    format = serializers.ChoiceField(
        choices=list(FORMATS),
        default="pdf",
        help_text="The job's file: the PDF, or the JSON of every estimate with its interval, the flow "
        "counts, thresholds, interval methods, data versions and the lock (reports/README.md).",
    )


class AccuracyReportRefused(serializers.Serializer):
    """A 400: the message of each field at fault (a list under the field's name)."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    language = serializers.ListField(child=serializers.CharField(), required=False)
    interval = serializers.ListField(child=serializers.CharField(), required=False)
    format = serializers.ListField(child=serializers.CharField(), required=False)


class AccuracyReportRequestView(APIView):
    """Ask for the study's STARD 2015 accuracy report (a study whose protocol analyses vertebrae): 202 with
    the job (queued, or running when a worker has taken it) and its URL in Location. Follow GET /jobs/{id}/
    until it is done, then download it."""

    @extend_schema(
        request=AccuracyReportIn,
        responses={
            202: OpenApiResponse(JobOut, description="The job; its URL in Location."),
            400: OpenApiResponse(
                AccuracyReportRefused, description="Bad options, each named with its message."
            ),
            403: OpenApiResponse(ApiError, description="Not a study-wide PI or data manager of the study."),
            404: OpenApiResponse(ApiError, description="No such study visible to the user."),
            409: OpenApiResponse(
                ApiError,
                description="The study's protocol does not analyse vertebrae (code not_an_accuracy_study).",
            ),
        },
    )
    def post(self, request, code):
        study = report_study(request.user, code)
        data = AccuracyReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        job = accuracy_report_request(
            study=study,
            actor=request.user,
            language=options.get("language") or request.LANGUAGE_CODE,
            interval=options["interval"],
            format=options["format"],
        )
        body = JobOut(job_get(user=request.user, pk=job.pk), context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["links"]["self"]})


urlpatterns = [
    path(
        "studies/<str:code>/accuracy-reports/",
        AccuracyReportRequestView.as_view(),
        name="accuracy-report-request",
    ),
]
