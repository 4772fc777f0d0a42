"""Model outputs API: import a CSV of model outputs (JSON body with the CSV text), list a study's imports and
an import's rows per vertebra, attach and read a vertebra's Grad-CAM heatmap, read and set the analysis lock.

Readers: the study's principal investigators, monitors and data managers (study-wide); importers: data
managers; the lock: data managers and principal investigators. Others who see the study get a 403; those who
do not (a blinded adjudicator) a 404 (access.py).
"""

from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from trial.apis.filtering import list_query
from trial.apis.imaging import UploadedFile
from trial.apis.pagination import Pagination
from trial.apis.serializers import ReasonField, StrictInput
from trial.errors import InvalidInput

from .access import IMPORT_ROLES, LOCK_ROLES, outputs_study
from .images import MAX_HEATMAP_BYTES, heatmap_response
from .models import DatasetSplit, OutputKind
from .selectors import (
    analysis_lock_get,
    model_import_get,
    model_import_list,
    model_output_get,
    model_output_list,
)
from .services import MAX_CSV_BYTES, analysis_lock, heatmap_attach, model_outputs_import


class ModelImportOut(serializers.Serializer):
    id = serializers.IntegerField()
    study = serializers.CharField(source="study.code")
    model = serializers.CharField(source="model_name")
    model_version = serializers.CharField()
    kind = serializers.ChoiceField(choices=OutputKind.choices)
    version = serializers.IntegerField(
        help_text="1, 2, ... per (study, model, model version): each re-import."
    )
    current = serializers.BooleanField(help_text="The newest import of this model and version.")
    analysed = serializers.SerializerMethodField(help_text="The import the locked analysis uses.")
    file_name = serializers.CharField()
    sha256 = serializers.CharField(help_text="The SHA-256 of the imported file's bytes.")
    row_count = serializers.IntegerField()
    imported_by = serializers.CharField(source="imported_by.username")
    imported_at = serializers.DateTimeField()
    outputs = serializers.SerializerMethodField()

    def get_analysed(self, made) -> bool:
        return hasattr(made, "analysed")

    def get_outputs(self, made) -> str:
        url = reverse("api:model-import-outputs", args=[made.study.code, made.pk])
        return self.context["request"].build_absolute_uri(url)


class ModelOutputOut(serializers.Serializer):
    id = serializers.IntegerField()
    line = serializers.IntegerField(help_text="The row's line in the file (the header is line 1).")
    study_id = serializers.CharField(source="participant.study_id")
    level = serializers.CharField()
    split = serializers.ChoiceField(choices=DatasetSplit.choices)
    probability = serializers.FloatField(allow_null=True, help_text="Of acute (classification), 0-1.")
    dice = serializers.FloatField(allow_null=True, help_text="Segmentation Dice, 0-1.")
    heatmap = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField(allow_null=True, help_text="The Grad-CAM image, if attached."))
    def get_heatmap(self, output) -> str | None:
        if not output.heatmap:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("api:model-output-heatmap", args=[output.pk])
        )


class ModelImportIn(StrictInput):
    csv = serializers.CharField(
        trim_whitespace=False,
        max_length=MAX_CSV_BYTES,
        help_text='The CSV file\'s text (reports/README.md, "Model outputs"): a header row with study_id, '
        "level, model, version, split and probability and/or dice. Whether each row's vertebra is one of the "
        "study's registered ones, and each value in range, is judged against the study: every problem is a "
        "400 under `csv`, each with its line number, and nothing is saved.",
    )
    file_name = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)


class ModelImportsOut(serializers.Serializer):
    imports = ModelImportOut(many=True, help_text="One per (model, model version) in the file.")


class ImportRefused(serializers.Serializer):
    """A 400: the file's problems under `csv`, or the body's fields at fault, each a list of messages."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    csv = serializers.ListField(child=serializers.CharField(), required=False, help_text='"line 7: ..."')
    file_name = serializers.ListField(child=serializers.CharField(), required=False)


class ModelImportListView(generics.ListAPIView):
    """The study's imports of model outputs (every version, the current one marked); POST a CSV to import."""

    serializer_class = ModelImportOut
    pagination_class = Pagination

    def get_queryset(self):
        return model_import_list(study=outputs_study(self.request.user, self.kwargs["code"]))

    @extend_schema(
        request=ModelImportIn,
        responses={
            201: ModelImportsOut,
            400: OpenApiResponse(ImportRefused, description="Every problem of the file, each with its line."),
            403: OpenApiResponse(description="Not a study-wide data manager of the study."),
            404: OpenApiResponse(description="No such study visible to the user."),
            409: OpenApiResponse(description="The study's analysis is locked."),
        },
    )
    def post(self, request, code):
        study = outputs_study(request.user, code, roles=IMPORT_ROLES)
        data = ModelImportIn(data=request.data)
        data.is_valid(raise_exception=True)
        made = model_outputs_import(
            study=study,
            actor=request.user,
            content=data.validated_data["csv"].encode("utf-8"),
            file_name=data.validated_data["file_name"],
        )
        imports = model_import_list(study=study).filter(pk__in=[m.pk for m in made])
        body = ModelImportsOut({"imports": imports}, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ModelOutputListView(generics.ListAPIView):
    """One import's rows, one per vertebra, in the file's order."""

    serializer_class = ModelOutputOut
    pagination_class = Pagination

    def get_queryset(self):
        list_query(self)  # a bad parameter is a 400 whether or not the import exists (as every list)
        study = outputs_study(self.request.user, self.kwargs["code"])
        return model_output_list(model_import=model_import_get(study=study, pk=self.kwargs["pk"]))


class AnalysedOut(serializers.Serializer):
    model = serializers.CharField(source="model_import.model_name")
    model_version = serializers.CharField(source="model_import.model_version")
    version = serializers.IntegerField(source="model_import.version")
    import_id = serializers.IntegerField(source="model_import.pk")
    sha256 = serializers.CharField(source="model_import.sha256")


class AnalysisLockOut(serializers.Serializer):
    locked = serializers.BooleanField()
    locked_at = serializers.DateTimeField(allow_null=True)
    locked_by = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    analysed = AnalysedOut(many=True, help_text="The import of each model the analysis uses.")


class AnalysisLockIn(StrictInput):
    reason = ReasonField(
        max_length=500, help_text="Why the analysis is locked now (kept in the audit trail)."
    )


def _lock_body(study) -> dict:
    lock = analysis_lock_get(study=study)
    if lock is None:
        return {"locked": False, "locked_at": None, "locked_by": None, "reason": None, "analysed": []}
    analysed = lock.analysed.select_related("model_import").order_by("model_import__model_name", "pk")
    return {
        "locked": True,
        "locked_at": lock.locked_at,
        "locked_by": lock.locked_by.username,
        "reason": lock.reason,
        "analysed": analysed,
    }


class AnalysisLockView(APIView):
    """The study's analysis lock. POST locks it (data managers and principal investigators, with a reason):
    model outputs are frozen from then on (an import is a 409) and the current import of each model is
    recorded as the analysed one. There is no unlock."""

    @extend_schema(responses=AnalysisLockOut)
    def get(self, request, code):
        study = outputs_study(request.user, code)
        return Response(AnalysisLockOut(_lock_body(study)).data)

    @extend_schema(
        request=AnalysisLockIn,
        responses={
            201: AnalysisLockOut,
            403: OpenApiResponse(description="Not a study-wide data manager or PI of the study."),
            404: OpenApiResponse(description="No such study visible to the user."),
            409: OpenApiResponse(description="Already locked."),
        },
    )
    def post(self, request, code):
        study = outputs_study(request.user, code, roles=LOCK_ROLES)
        data = AnalysisLockIn(data=request.data)
        data.is_valid(raise_exception=True)
        analysis_lock(study=study, actor=request.user, reason=data.validated_data["reason"])
        return Response(AnalysisLockOut(_lock_body(study)).data, status=status.HTTP_201_CREATED)


class HeatmapIn(serializers.Serializer):
    heatmap = UploadedFile(allow_empty_file=True, help_text="A PNG or JPEG image of at most 5 MB.")

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class HeatmapView(APIView):
    """A vertebra's Grad-CAM heatmap, shown beside the case. GET: the image (the study's readers; 404 if none
    is attached). POST (multipart, `heatmap`): attach one, replacing any before (data managers; 409 once
    the analysis is locked)."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="model_outputs_heatmap_read",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            404: OpenApiResponse(description="No such output visible to the user, or no heatmap attached."),
        },
    )
    def get(self, request, pk: int):
        output = model_output_get(user=request.user, pk=pk)
        return heatmap_response(output)

    @extend_schema(
        operation_id="model_outputs_heatmap_attach",
        request={"multipart/form-data": HeatmapIn},
        responses={
            200: ModelOutputOut,
            400: OpenApiResponse(
                description="Not a PNG or JPEG image, or larger than 5 MB (under `heatmap`)."
            ),
            403: OpenApiResponse(description="Not a study-wide data manager of the study."),
            409: OpenApiResponse(description="The analysis is locked: model outputs are frozen."),
        },
    )
    def post(self, request, pk: int):
        output = model_output_get(user=request.user, pk=pk)  # a 404 before the body is read
        data = HeatmapIn(data=request.data)
        if not data.is_valid():
            raise InvalidInput(
                _("Upload a PNG or JPEG image in the field `heatmap`."), field_errors=data.errors
            )
        content = data.validated_data["heatmap"].read(MAX_HEATMAP_BYTES + 1)
        output = heatmap_attach(output=output, actor=request.user, content=content)
        return Response(ModelOutputOut(output, context={"request": request}).data)


STUDY = "studies/<str:code>/"
urlpatterns = [
    path(f"{STUDY}model-imports/", ModelImportListView.as_view(), name="model-imports"),
    path(
        f"{STUDY}model-imports/<int:pk>/outputs/", ModelOutputListView.as_view(), name="model-import-outputs"
    ),
    path(f"{STUDY}analysis-lock/", AnalysisLockView.as_view(), name="analysis-lock"),
    path("model-outputs/<int:pk>/heatmap/", HeatmapView.as_view(), name="model-output-heatmap"),
]
