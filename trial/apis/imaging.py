"""Imaging exams: a screening's (read with their checks) and a participant's follow-up exams (which a visit
form links), each read and registered from uploaded DICOM files.

The one API view that reads a multipart body (the API is JSON-only, settings: "Request bodies as strict as
the schema"): DICOM files are binary, and a JSON body would carry them base64-encoded, a third larger, in
memory. The upload holds files only, so no value is read as text from a form field.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..errors import InvalidInput
from ..services import imaging_exams_register, participant_exams_register

# A CT or MR series is one file per slice: upload a few hundred at most per request; a whole folder of
# exams is registered with the command (register_exams), which walks it on the server.
MAX_FILES = 100  # Django's own DATA_UPLOAD_MAX_NUMBER_FILES: more is refused before the view runs


class ImagingExamOut(serializers.Serializer):
    id = serializers.IntegerField()
    modality = serializers.CharField(help_text="DICOM Modality, e.g. CT, MR.")
    study_date = serializers.DateField()
    body_parts = serializers.ListField(child=serializers.CharField(), help_text="DICOM BodyPartExamined.")
    slice_thickness = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, allow_null=True, help_text="mm, thinnest."
    )
    manufacturer = serializers.CharField()
    series_count = serializers.IntegerField()
    registered_by = serializers.CharField(source="registered_by.get_username")
    registered_at = serializers.DateTimeField()


class CheckOut(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["wrong_body_part", "duplicate_study", "modality_missing", "interval_too_long"]
    )
    message = serializers.CharField()


class FileProblemOut(serializers.Serializer):
    file = serializers.CharField(help_text="The file's name as uploaded.")
    message = serializers.CharField()


class ExamsOut(serializers.Serializer):
    """The screening's verdict, its exams (oldest first) and what is wrong with them for the protocol."""

    outcome = serializers.CharField()
    failed_criteria = serializers.ListField(child=serializers.CharField())
    missing_criteria = serializers.ListField(child=serializers.CharField())
    exams = ImagingExamOut(many=True)
    checks = CheckOut(many=True)


class RegisteredOut(ExamsOut):
    registered = serializers.ListField(child=serializers.IntegerField(), help_text="The new exams' ids.")
    problems = FileProblemOut(many=True, help_text="Files that made no exam (not DICOM, unreadable).")


@extend_schema_field({"type": "string", "format": "binary"})
class UploadedFile(serializers.FileField):
    """An uploaded file: binary in the schema (drf-spectacular shows a FileField as a URI, its output)."""


class ExamUploadIn(serializers.Serializer):
    files = serializers.ListField(
        child=UploadedFile(allow_empty_file=True), min_length=1, max_length=MAX_FILES
    )

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


def _answer(screening, **extra) -> dict:
    exams = list(selectors.imaging_exams(screening=screening).select_related("registered_by"))
    checks = selectors.imaging_checks(screening=screening, exams=exams)
    return {
        "outcome": screening.outcome,
        "failed_criteria": screening.failed_criteria,
        "missing_criteria": screening.missing_criteria,
        "exams": exams,
        "checks": [{"code": code, "message": message} for code, message in checks],
        **extra,
    }


class ScreeningExams(APIView):
    """GET: a screening's imaging exams and their checks. POST (multipart, `files`): register exams."""

    parser_classes = [MultiPartParser]

    def _screening(self, request, pk: int):
        return get_object_or_404(selectors.screening_list(user=request.user), pk=pk)

    @extend_schema(operation_id="screenings_exams_list", responses=ExamsOut)
    def get(self, request, pk: int):
        return Response(ExamsOut(_answer(self._screening(request, pk))).data)

    @extend_schema(
        operation_id="screenings_exams_register",
        request={"multipart/form-data": ExamUploadIn},
        responses={
            201: RegisteredOut,
            400: OpenApiResponse(
                description="No file makes an exam (each file's message under `files`), a study is already "
                "registered in the study, or an exam is dated in the future."
            ),
        },
        description="Register the exams of DICOM files (one per StudyInstanceUID; headers only, no pixel "
        "data; no patient name, ID or birth date is kept, the UIDs only as keyed hashes). Files that are "
        "not DICOM are listed under `problems`. Site staff of the screening's site and data managers.",
    )
    def post(self, request, pk: int):
        screening = self._screening(request, pk)  # a 404 before the body is read
        data = ExamUploadIn(data=request.data)
        if not data.is_valid():
            raise InvalidInput(_("Upload DICOM files in the field `files`."), field_errors=data.errors)
        uploads = [(upload.name, upload) for upload in data.validated_data["files"]]
        result = imaging_exams_register(actor=request.user, screening=screening, files=uploads)
        answer = _answer(result.screening, registered=[exam.pk for exam in result.exams])
        answer["problems"] = [{"file": p.file, "message": p.message} for p in result.problems]
        return Response(RegisteredOut(answer).data, status=status.HTTP_201_CREATED)


class ParticipantExamsOut(serializers.Serializer):
    """The participant's follow-up exams, oldest first (a visit form links one of them by its id)."""

    exams = ImagingExamOut(many=True)


class ParticipantRegisteredOut(ParticipantExamsOut):
    registered = serializers.ListField(child=serializers.IntegerField(), help_text="The new exams' ids.")
    problems = FileProblemOut(many=True, help_text="Files that made no exam (not DICOM, unreadable).")


def _participant_answer(participant, **extra) -> dict:
    exams = selectors.participant_exams(participant=participant).select_related("registered_by")
    return {"exams": list(exams), **extra}


class ParticipantExams(APIView):
    """GET: a participant's follow-up imaging exams. POST (multipart, `files`): register exams."""

    parser_classes = [MultiPartParser]

    def _participant(self, request, study_id: str):
        return get_object_or_404(selectors.participant_list(user=request.user), study_id=study_id)

    @extend_schema(operation_id="participants_exams_list", responses=ParticipantExamsOut)
    def get(self, request, study_id: str):
        return Response(ParticipantExamsOut(_participant_answer(self._participant(request, study_id))).data)

    @extend_schema(
        operation_id="participants_exams_register",
        request={"multipart/form-data": ExamUploadIn},
        responses={
            201: ParticipantRegisteredOut,
            400: OpenApiResponse(
                description="No file makes an exam (each file's message under `files`), a study is already "
                "registered in the study, or an exam is dated in the future or after the participant's "
                "withdrawal or death."
            ),
        },
        description="Register a participant's follow-up exams from DICOM files (the 12-month MRI...), as "
        "a screening's: one per StudyInstanceUID, headers only, no patient name, ID or birth date kept, the "
        "UIDs only as keyed hashes. A visit form (e.g. the follow-up MRI) then links one by its id or its "
        "StudyInstanceUID. Site staff of the participant's site and data managers.",
    )
    def post(self, request, study_id: str):
        participant = self._participant(request, study_id)  # a 404 before the body is read
        data = ExamUploadIn(data=request.data)
        if not data.is_valid():
            raise InvalidInput(_("Upload DICOM files in the field `files`."), field_errors=data.errors)
        uploads = [(upload.name, upload) for upload in data.validated_data["files"]]
        result = participant_exams_register(actor=request.user, participant=participant, files=uploads)
        answer = _participant_answer(result.participant, registered=[exam.pk for exam in result.exams])
        answer["problems"] = [{"file": p.file, "message": p.message} for p in result.problems]
        return Response(ParticipantRegisteredOut(answer).data, status=status.HTTP_201_CREATED)
