"""Reports API: ask for a study's interim report or an export (202 with the job), follow the job, download its
file (every download logged), list the study's jobs and, for data managers, its download log.

Only the study's principal investigators and data managers (study-wide): others who see the study get a 403,
those who do not (a blinded adjudicator) a 404. Texts (status, error) are in the reader's language.
"""

from django.http import FileResponse
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from trial.apis.filtering import list_query
from trial.apis.pagination import Pagination
from trial.apis.serializers import StrictInput
from trial.i18n import LANGUAGES

from .access import DOWNLOAD_LOG_ROLES, report_study
from .exports.formats import ANALYSIS, BOM_FORMATS, DATASETS, FORMATS, TABULAR
from .indextests.apis import urlpatterns as index_test_urls
from .jobs import job_state
from .models import JobKind, JobStatus, JobTrigger
from .selectors import download_list, job_get, job_list
from .services import export_request, interim_report_request, job_download
from .steps import step_text


class JobLinks(serializers.Serializer):
    self = serializers.URLField()
    download = serializers.URLField(allow_null=True, help_text="null until the job is done.")


class ExportOptionsOut(serializers.Serializer):
    """What an export job was asked for (its language is the job's `language`). The salt of a de-identified
    export stays with the job: it is never shown."""

    format = serializers.ChoiceField(choices=list(FORMATS))
    format_label = serializers.CharField(help_text="The format's name in the reader's language.")
    dataset = serializers.ChoiceField(
        choices=list(DATASETS), allow_null=True, help_text="null for REDCap and ODM (their own layout)."
    )
    deidentify = serializers.BooleanField()
    bom = serializers.BooleanField()


class AccuracyOptionsOut(serializers.Serializer):
    """What an accuracy report job was asked for (its language is the job's `language`)."""

    interval = serializers.ChoiceField(choices=["wilson", "clopper-pearson"])
    format = serializers.ChoiceField(choices=["pdf", "json"], help_text="The job's file.")


class JobOut(serializers.Serializer):
    id = serializers.IntegerField()
    study = serializers.CharField(source="study.code")
    kind = serializers.ChoiceField(choices=JobKind.choices)
    trigger = serializers.ChoiceField(choices=JobTrigger.choices)
    language = serializers.CharField(
        source="params.language",
        default=None,
        allow_null=True,
        help_text="The language of the report, or of an export's labels and manifest.",
    )
    cut = serializers.CharField(
        source="params.cut",
        default=None,
        allow_null=True,
        help_text="The data cut asked for (null: the request's time).",
    )
    data_cut = serializers.DateTimeField(
        source="cut.cut_at",
        default=None,
        allow_null=True,
        help_text="The stored data cut (null until built).",
    )
    dataset_sha256 = serializers.CharField(
        source="cut.sha256",
        default=None,
        allow_null=True,
        help_text="The SHA-256 of the data cut's dataset, printed on every page (null until built).",
    )
    status = serializers.SerializerMethodField()
    status_text = serializers.SerializerMethodField(help_text="The status in the reader's language.")
    step = serializers.CharField(help_text="The step the job is at (a code).")
    step_text = serializers.SerializerMethodField(help_text="The step in the reader's language.")
    steps_done = serializers.IntegerField()
    steps_total = serializers.IntegerField()
    error_code = serializers.SerializerMethodField(help_text="Why it failed, as a code; empty unless failed.")
    error = serializers.SerializerMethodField(
        help_text="Why it failed, in the reader's language; empty unless failed. Never a traceback."
    )
    requested_by = serializers.CharField(
        source="requested_by.username", default=None, allow_null=True, help_text="null: the monthly schedule."
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    file_name = serializers.CharField()
    file_size = serializers.IntegerField(allow_null=True)
    file_sha256 = serializers.CharField()
    export = serializers.SerializerMethodField(help_text="An export's options; null for other jobs.")
    accuracy_report = serializers.SerializerMethodField(
        help_text="An accuracy report's options; null for other jobs."
    )
    links = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=JobStatus.choices))
    def get_status(self, job) -> str:
        return job_state(job).status

    def get_status_text(self, job) -> str:
        return job_state(job).status_text

    def get_step_text(self, job) -> str:
        return step_text(job.kind, job.step)

    def get_error_code(self, job) -> str:
        return job_state(job).error_code if job_state(job).status == JobStatus.FAILED else ""

    def get_error(self, job) -> str:
        return job_state(job).error

    @extend_schema_field(ExportOptionsOut(allow_null=True))
    def get_export(self, job) -> dict | None:
        if job.kind != JobKind.EXPORT:
            return None
        params = job.params
        # Named one by one: whatever else the params hold (the salt) is never copied out.
        return {
            "format": params.get("format"),
            "format_label": str(FORMATS.get(params.get("format"), params.get("format") or "")),
            "dataset": params.get("dataset"),
            "deidentify": bool(params.get("deidentify")),
            "bom": bool(params.get("bom")),
        }

    @extend_schema_field(AccuracyOptionsOut(allow_null=True))
    def get_accuracy_report(self, job) -> dict | None:
        if job.kind != JobKind.ACCURACY_REPORT:
            return None
        return {"interval": job.params.get("interval"), "format": job.params.get("format")}

    @extend_schema_field(JobLinks)
    def get_links(self, job) -> dict:
        request = self.context["request"]
        done = job_state(job).status == JobStatus.DONE
        return {
            "self": request.build_absolute_uri(reverse("api:job-detail", args=[job.pk])),
            "download": request.build_absolute_uri(reverse("api:job-download", args=[job.pk]))
            if done
            else None,
        }


class InterimReportIn(StrictInput):
    language = serializers.ChoiceField(choices=LANGUAGES, required=False, help_text="Default: the reader's.")
    cut = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="ISO 8601 with a time zone, not in the future; default: the time the report is built.",
    )


class InterimReportRequestView(APIView):
    """Ask for the study's interim report: 202 with the job as it stands (queued, or running when a worker has
    taken it already) and its URL in Location. The worker builds it; follow GET /jobs/{id}/ until it is done,
    then download it."""

    @extend_schema(request=InterimReportIn, responses={202: JobOut})
    def post(self, request, code):
        study = report_study(request.user, code)
        data = InterimReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        job = interim_report_request(
            study=study,
            actor=request.user,
            language=data.validated_data.get("language") or request.LANGUAGE_CODE,
            cut=data.validated_data.get("cut"),
        )
        job = job_get(user=request.user, pk=job.pk)
        body = JobOut(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["links"]["self"]})


class ExportIn(StrictInput):
    format = serializers.ChoiceField(choices=list(FORMATS))
    dataset = serializers.ChoiceField(
        choices=list(DATASETS),
        default=ANALYSIS,
        help_text="For csv, csv-labels, xlsx, dta and sav; REDCap and ODM have their own layout (only the "
        "default is accepted with them).",
    )
    deidentify = serializers.BooleanField(
        default=False,
        help_text="Hashed study IDs (salted per export), dates shifted per participant by 0-364 days "
        "(intervals kept), free text removed.",
    )
    bom = serializers.BooleanField(
        default=False, help_text="A UTF-8 byte-order mark, for Excel: csv, csv-labels and redcap only."
    )
    language = serializers.ChoiceField(
        choices=LANGUAGES, required=False, help_text="Of the labels and the manifest. Default: the reader's."
    )


def _export_variant(name: str, formats: tuple[str, ...]) -> type[ExportIn]:
    """ExportIn for `formats` that share their rules: the dataset only where they are tabular, the
    byte-order mark only where they take one (reports.services.export_request's checks)."""
    fields = {"format": serializers.ChoiceField(choices=list(formats))}
    if formats[0] not in TABULAR:
        fields["dataset"] = serializers.ChoiceField(choices=[ANALYSIS], default=ANALYSIS)
    if formats[0] not in BOM_FORMATS:
        fields["bom"] = serializers.ChoiceField(choices=[False], default=False)
    return type(f"Export{name}In", (ExportIn,), fields)


# The body of an export request, one variant per group of formats with the same rules, so that the schema
# says which options go with which format (a byte-order mark on a Stata file is a 400 naming `bom`).
EXPORT_REQUEST = PolymorphicProxySerializer(
    component_name="ExportRequest",
    serializers=[
        _export_variant(name, tuple(f for f in FORMATS if (f in TABULAR, f in BOM_FORMATS) == rules))
        for name, rules in (
            ("TabularBom", (True, True)),
            ("Tabular", (True, False)),
            ("LayoutBom", (False, True)),
            ("Layout", (False, False)),
        )
    ],
    resource_type_field_name=None,
)


class ApiError(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in the reader's language.")
    code = serializers.CharField(required=False)


class ExportRefused(serializers.Serializer):
    """A 400: the message of each field at fault (a list under the field's name)."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    format = serializers.ListField(child=serializers.CharField(), required=False)
    dataset = serializers.ListField(child=serializers.CharField(), required=False)
    deidentify = serializers.ListField(child=serializers.CharField(), required=False)
    bom = serializers.ListField(child=serializers.CharField(), required=False)
    language = serializers.ListField(child=serializers.CharField(), required=False)


class ExportRequestView(APIView):
    """Ask for an export of the study's data: 202 with the job (queued) and its URL in Location. The worker
    builds it; follow GET /jobs/{id}/ until it is done, then download it (a ZIP with its manifest)."""

    @extend_schema(
        request=EXPORT_REQUEST,
        responses={
            202: OpenApiResponse(JobOut, description="The job, queued; its URL in Location."),
            400: OpenApiResponse(ExportRefused, description="Bad options, each named with its message."),
            403: OpenApiResponse(ApiError, description="Not a study-wide PI or data manager of the study."),
            404: OpenApiResponse(ApiError, description="No such study visible to the user."),
        },
    )
    def post(self, request, code):
        study = report_study(request.user, code)
        data = ExportIn(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        job = export_request(
            study=study,
            actor=request.user,
            format=options["format"],
            dataset=options["dataset"],
            deidentify=options["deidentify"],
            bom=options["bom"],
            language=options.get("language") or request.LANGUAGE_CODE,
        )
        job = job_get(user=request.user, pk=job.pk)
        body = JobOut(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["links"]["self"]})


class JobListQuery(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=JobKind.choices, required=False, help_text="Only jobs of this kind."
    )


class JobListView(generics.ListAPIView):
    """The study's jobs (reports and exports), newest first."""

    serializer_class = JobOut
    pagination_class = Pagination
    query_class = JobListQuery

    def get_queryset(self):
        study = report_study(self.request.user, self.kwargs["code"])
        return job_list(study=study, kind=list_query(self).get("kind"))


class JobDetailView(APIView):
    """One job: its status, progress step by step, why it failed, and its download link once done."""

    @extend_schema(responses=JobOut)
    def get(self, request, pk):
        return Response(JobOut(job_get(user=request.user, pk=pk), context={"request": request}).data)


class JobDownloadView(APIView):
    """The job's file (409 until it is done). Every download is logged: who, which, when."""

    @extend_schema(
        responses={
            # An export is a zip, an interim report a PDF, an accuracy report a PDF or its JSON.
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.BINARY, description="An accuracy report's JSON (reports/README.md)."
            ),
            409: OpenApiResponse(description="The job is not done."),
        }
    )
    def get(self, request, pk):
        job = job_get(user=request.user, pk=pk)
        opened = job_download(job=job, user=request.user, via="api")
        return FileResponse(opened, as_attachment=True, filename=job.file_name, content_type=job.content_type)


class DownloadOut(serializers.Serializer):
    id = serializers.IntegerField()
    job = serializers.IntegerField(source="job_id")
    kind = serializers.ChoiceField(source="job.kind", choices=JobKind.choices)
    file_name = serializers.CharField(source="job.file_name")
    file_sha256 = serializers.CharField(source="job.file_sha256")
    user = serializers.CharField(source="user.username")
    user_name = serializers.CharField(source="user.get_full_name")
    at = serializers.DateTimeField()
    via = serializers.ChoiceField(choices=["api", "page"])


class DownloadListView(generics.ListAPIView):
    """The study's download log, newest first: data managers only."""

    serializer_class = DownloadOut
    pagination_class = Pagination

    def get_queryset(self):
        return download_list(
            study=report_study(self.request.user, self.kwargs["code"], roles=DOWNLOAD_LOG_ROLES)
        )


STUDY = "studies/<str:code>/"
urlpatterns = [
    path(f"{STUDY}interim-reports/", InterimReportRequestView.as_view(), name="interim-report-request"),
    path(f"{STUDY}exports/", ExportRequestView.as_view(), name="export-request"),
    path(f"{STUDY}jobs/", JobListView.as_view(), name="study-jobs"),
    path(f"{STUDY}downloads/", DownloadListView.as_view(), name="study-downloads"),
    path("jobs/<int:pk>/", JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:pk>/download/", JobDownloadView.as_view(), name="job-download"),
]
urlpatterns += index_test_urls  # model outputs and the analysis lock (reports/indextests/apis.py)

# The accuracy report's request (reports/stard/apis.py): imported here, below JobOut, which it answers with.
from .stard.apis import urlpatterns as accuracy_report_urls  # noqa: E402

urlpatterns += accuracy_report_urls

# The risk-model workbench (reports/riskmodel/apis.py), also answering with JobOut.
from .riskmodel.apis import urlpatterns as risk_model_urls  # noqa: E402

urlpatterns += risk_model_urls
