"""Risk-model workbench API: a study's models (develop one: 202 with the job), a model (freeze it with an
e-signature, validate it, its model and result JSON, its report in another language, the calculator) and its
validations. JSON only: an imported cohort is sent as the CSV's text, as the model-output imports are.

Readers (the study's PIs, data managers and monitors, and its investigators): the lists, the details, the JSON
and the calculator. Study-wide PIs and data managers: develop, freeze, validate, report. Others who see the
study get a 403, those who do not (an adjudicator: blind to the predictors) a 404. Imported by reports/apis.py
after its JobOut, which answers the requests here too.
"""

from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crf.services.signing_session import signing_session
from trial.apis.filtering import list_query
from trial.apis.pagination import Pagination
from trial.apis.serializers import ReasonField, StrictInput
from trial.errors import InvalidInput
from trial.i18n import LANGUAGES

from ..apis import ApiError, JobOut
from .access import require_work, risk_study
from .models import CohortSource, RiskModelState
from .selectors import (
    risk_calculate,
    risk_job_get,
    risk_model_get,
    risk_model_list,
    spec_files,
    validation_get,
    validation_list,
)
from .services import (
    BOOTSTRAP_MAX,
    IMPUTATIONS_MAX,
    MAX_IMPORT_BYTES,
    SEED_MAX,
    model_develop_request,
    model_freeze,
    model_report_request,
    model_validate_request,
)


class RiskModelOut(serializers.Serializer):
    id = serializers.IntegerField()
    study = serializers.CharField(source="study.code")
    name = serializers.CharField()
    spec_file = serializers.CharField(help_text="The specification file (trial/protocols/models/).")
    spec_code = serializers.CharField()
    spec_version = serializers.CharField()
    spec_sha256 = serializers.CharField(help_text="The SHA-256 of the specification file's bytes.")
    model_type = serializers.ChoiceField(choices=["logistic", "cox"])
    state = serializers.ChoiceField(choices=RiskModelState.choices)
    cut_sha256 = serializers.CharField(help_text="The SHA-256 of the data cut the model was developed on.")
    cut_at = serializers.DateTimeField(allow_null=True)
    seed = serializers.IntegerField()
    resamples = serializers.IntegerField(help_text="Bootstrap resamples of the internal validation.")
    imputations = serializers.IntegerField()
    analysed = serializers.IntegerField(allow_null=True, help_text="Participants analysed.")
    events = serializers.IntegerField(source="outcome_events", allow_null=True)
    c_apparent = serializers.FloatField(allow_null=True, help_text="The apparent C-statistic.")
    c_corrected = serializers.FloatField(
        allow_null=True, help_text="The C-statistic corrected for optimism (bootstrap, Harrell)."
    )
    developed_at = serializers.DateTimeField()
    developed_by = serializers.CharField(source="developed_by.username")
    frozen_at = serializers.DateTimeField(allow_null=True)
    frozen_by = serializers.CharField(source="frozen_by.username", default=None, allow_null=True)
    frozen_by_name = serializers.CharField(help_text="The signer's printed name (21 CFR 11.50); empty.")
    reason = serializers.CharField(help_text="Why it was frozen; empty until then.")
    links = serializers.SerializerMethodField()

    def get_links(self, risk_model) -> dict[str, str]:
        request = self.context["request"]
        names = {
            "self": "risk-model",
            "model": "risk-model-json",
            "result": "risk-model-result",
            "validations": "risk-model-validations",
            "calculate": "risk-model-calculate",
        }
        return {
            key: request.build_absolute_uri(reverse(f"api:{name}", args=[risk_model.pk]))
            for key, name in names.items()
        }


class ValidationOut(serializers.Serializer):
    id = serializers.IntegerField()
    risk_model = serializers.IntegerField(source="risk_model_id")
    cohort = serializers.ChoiceField(source="source", choices=CohortSource.choices)
    study = serializers.CharField(source="cohort_study.code", default=None, allow_null=True)
    cut_sha256 = serializers.CharField(help_text="The data cut's SHA-256, or the imported file's.")
    cut_at = serializers.DateTimeField(allow_null=True)
    enrolled_after = serializers.DateTimeField(
        allow_null=True,
        help_text="A later cut: only the participants enrolled after this time (the model's cut); null: the "
        "whole study at the cut.",
    )
    file_name = serializers.CharField()
    c = serializers.FloatField(allow_null=True, help_text="The C-statistic on the cohort.")
    slope = serializers.FloatField(allow_null=True, help_text="The calibration slope on the cohort.")
    analysed = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username")


class ValidationDetailOut(ValidationOut):
    result = serializers.JSONField(help_text="The validation result (reports/riskmodel/README.md).")


class SpecOut(serializers.Serializer):
    file = serializers.CharField()
    code = serializers.CharField()
    version = serializers.CharField()
    label = serializers.CharField()
    sha256 = serializers.CharField()
    bootstrap = serializers.IntegerField(help_text="The default resamples.")
    imputations = serializers.IntegerField(help_text="The default imputations.")
    seed = serializers.IntegerField(help_text="The default seed.")


class DevelopIn(StrictInput):
    spec = serializers.CharField(max_length=200, help_text="The specification file, one of risk-model-specs.")
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=120, help_text="Default: the spec's."
    )
    bootstrap = serializers.IntegerField(
        required=False, help_text=f"Resamples, 200 to {BOOTSTRAP_MAX}. Default: the spec's."
    )
    imputations = serializers.IntegerField(
        required=False, help_text=f"Multiple imputations, 1 to {IMPUTATIONS_MAX}. Default: the spec's."
    )
    seed = serializers.IntegerField(required=False, help_text=f"0 to {SEED_MAX}. Default: the spec's.")
    cut = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="The data cut, not in the future, with a time zone (default: now). An earlier cut leaves "
        "the participants enrolled after it for a temporal validation.",
    )
    language = serializers.ChoiceField(
        choices=LANGUAGES, required=False, help_text="Of the PDF. Default: the reader's."
    )


def _accepted(request, job) -> Response:
    body = JobOut(risk_job_get(user=request.user, pk=job.pk), context={"request": request}).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["links"]["self"]})


class RiskModelListView(generics.ListAPIView):
    """The study's risk models, newest first. POST asks for a new one to be developed from a specification
    file (202 with the job; the model appears here when the job is done)."""

    serializer_class = RiskModelOut
    pagination_class = Pagination

    def get_queryset(self):
        return risk_model_list(study=risk_study(self.request.user, self.kwargs["code"]))

    @extend_schema(
        request=DevelopIn,
        responses={
            202: OpenApiResponse(JobOut, description="The development job; its URL in Location."),
            400: OpenApiResponse(description="Bad options, each named with its message."),
            403: OpenApiResponse(ApiError, description="Not a study-wide PI or data manager of the study."),
            404: OpenApiResponse(ApiError, description="No such study visible to the user."),
        },
    )
    def post(self, request, code):
        study = risk_study(request.user, code, work=True)
        data = DevelopIn(data=request.data)
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        options["language"] = options.get("language") or request.LANGUAGE_CODE
        return _accepted(request, model_develop_request(study=study, actor=request.user, **options))


class SpecListView(APIView):
    """The study's model specification files, with the defaults a development takes from them."""

    @extend_schema(responses=SpecOut(many=True))
    def get(self, request, code):
        list_query(self)  # it takes no parameter: any is a 400 naming it, as on every list
        study = risk_study(request.user, code)
        rows = [
            {
                "file": s.file,
                "code": s.code,
                "version": s.version,
                "label": s.label,
                "sha256": s.sha256,
                "bootstrap": s.default("bootstrap", 200),
                "imputations": s.default("imputations", 5),
                "seed": s.default("seed", 20240101),
            }
            for s in spec_files(study)
        ]
        return Response(SpecOut(rows, many=True).data)


class RiskModelView(APIView):
    """One risk model: its state, hashes, reproducibility and key figures (the figures in full: /result/)."""

    @extend_schema(responses={200: RiskModelOut, 404: OpenApiResponse(ApiError)})
    def get(self, request, pk: int):
        risk_model = risk_model_get(user=request.user, pk=pk, heavy=False)
        return Response(RiskModelOut(risk_model, context={"request": request}).data)


class FreezeIn(StrictInput):
    password = serializers.CharField(trim_whitespace=False, max_length=256, help_text="Your password again.")
    username = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=150,
        help_text="Your user ID: required at the first signature of a session (21 CFR 11.200).",
    )
    reason = ReasonField(max_length=500, help_text="Why the model is frozen now (kept in the audit trail).")


class FreezeView(APIView):
    """Freeze a developed model, signing as for a form (user ID at the first signature of the session, the
    password again) with a reason. From then on the database refuses any change of it."""

    @extend_schema(
        request=FreezeIn,
        responses={
            200: RiskModelOut,
            400: OpenApiResponse(description="No reason, or an account without a full name."),
            403: OpenApiResponse(description="Not a study-wide PI or data manager, or a wrong password."),
            409: OpenApiResponse(ApiError, description="Frozen already (already_frozen)."),
        },
    )
    def post(self, request, pk: int):
        risk_model = risk_model_get(user=request.user, pk=pk, heavy=False)
        require_work(request.user, risk_model.study)  # the role before the body
        data = FreezeIn(data=request.data)
        data.is_valid(raise_exception=True)
        model_freeze(
            risk_model=risk_model, actor=request.user, session=signing_session(request), **data.validated_data
        )
        risk_model = risk_model_get(user=request.user, pk=pk, heavy=False)
        return Response(RiskModelOut(risk_model, context={"request": request}).data)


class ValidateIn(StrictInput):
    cohort = serializers.ChoiceField(
        choices=CohortSource.choices,
        help_text="study: another study of this installation; later_cut: this study at a later data cut "
        "(temporal); import: a CSV in the analysis export's format.",
    )
    study = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="cohort study: the other study's code."
    )
    cut = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="cohort later_cut: the data cut, after the model's, with a time zone (default: now).",
    )
    csv = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=MAX_IMPORT_BYTES,
        help_text="cohort import: the text of a CSV in the analysis export's format, at most 5 MB. Every "
        "problem is a 400 under `file` and nothing is stored.",
    )
    file_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    language = serializers.ChoiceField(choices=LANGUAGES, required=False, help_text="Of the PDF.")


class ValidationListView(generics.ListAPIView):
    """A model's validations, newest first. POST validates a frozen model on a cohort (202 with the job)."""

    serializer_class = ValidationOut
    pagination_class = Pagination

    def get_queryset(self):
        return validation_list(
            risk_model=risk_model_get(user=self.request.user, pk=self.kwargs["pk"], heavy=False)
        )

    @extend_schema(
        request=ValidateIn,
        responses={
            202: OpenApiResponse(JobOut, description="The validation job; its URL in Location."),
            400: OpenApiResponse(
                description="Bad options or a bad file (under `file`), each with its message."
            ),
            403: OpenApiResponse(
                ApiError, description="Not a study-wide PI or data manager (of both studies)."
            ),
            409: OpenApiResponse(ApiError, description="The model is not frozen (not_frozen)."),
        },
    )
    def post(self, request, pk: int):
        risk_model = risk_model_get(user=request.user, pk=pk)
        require_work(request.user, risk_model.study)  # the role before the body
        data = ValidateIn(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        csv = options.get("csv")
        job = model_validate_request(
            risk_model=risk_model,
            actor=request.user,
            source=options["cohort"],
            language=options.get("language") or request.LANGUAGE_CODE,
            study=options.get("study", ""),
            cut=options.get("cut"),
            content=csv.encode("utf-8") if csv else None,
            file_name=options["file_name"],
        )
        return _accepted(request, job)


class ValidationView(APIView):
    """One validation with its result in full."""

    @extend_schema(responses={200: ValidationDetailOut, 404: OpenApiResponse(ApiError)})
    def get(self, request, pk: int):
        return Response(ValidationDetailOut(validation_get(user=request.user, pk=pk)).data)


def _json_download(body: dict, name: str) -> JsonResponse:
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "sort_keys": True})
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class ModelJsonView(APIView):
    """The model itself (coefficients, transformations, hashes: what freezing keeps), as a JSON file."""

    @extend_schema(responses={(200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT)})
    def get(self, request, pk: int):
        risk_model = risk_model_get(user=request.user, pk=pk)
        return _json_download(risk_model.model, f"risk-model-{risk_model.pk}-model.json")


class ResultJsonView(APIView):
    """The development result (every figure and table of the report), as a JSON file."""

    @extend_schema(responses={(200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT)})
    def get(self, request, pk: int):
        risk_model = risk_model_get(user=request.user, pk=pk)
        return _json_download(risk_model.result, f"risk-model-{risk_model.pk}-result.json")


class ReportIn(StrictInput):
    language = serializers.ChoiceField(choices=LANGUAGES)
    validation = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A validation of the model: its report (default: the model's).",
    )


class ReportView(APIView):
    """Draw a stored development's (or validation's) PDF again in a language, from the stored result: no
    refit (202 with the job)."""

    @extend_schema(
        request=ReportIn,
        responses={202: OpenApiResponse(JobOut), 400: OpenApiResponse(description="Bad options.")},
    )
    def post(self, request, pk: int):
        risk_model = risk_model_get(user=request.user, pk=pk, heavy=False)
        require_work(request.user, risk_model.study)  # the role before the body
        data = ReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        validation = None
        if data.validated_data.get("validation"):
            validation = risk_model.validations.filter(pk=data.validated_data["validation"]).first()
            if validation is None:
                raise InvalidInput(
                    _("The request is not valid."),
                    field_errors={"validation": [_("Not a validation of this model.")]},
                )
        job = model_report_request(
            risk_model=risk_model,
            actor=request.user,
            language=data.validated_data["language"],
            validation=validation,
        )
        return _accepted(request, job)


class CalculateIn(StrictInput):
    values = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="One value per predictor, by its code (the model's design): a number in its unit and "
        "range, 0 or 1 for a binary one.",
    )


class CalculateOut(serializers.Serializer):
    risk = serializers.FloatField(help_text="The predicted risk at the horizon, 0-1.")
    low = serializers.FloatField(
        allow_null=True, help_text="Its 95 % interval's lower end (delta method); null for a penalised model."
    )
    high = serializers.FloatField(allow_null=True)
    horizon_days = serializers.IntegerField(allow_null=True)
    points = serializers.FloatField(help_text="The nomogram's total points for these values.")
    points_each = serializers.DictField(
        child=serializers.FloatField(), help_text="Each predictor's points on the nomogram, by its code."
    )
    values = serializers.DictField(child=serializers.FloatField())
    note = serializers.CharField(help_text="For research use only; not for clinical decisions.")


class CalculateView(APIView):
    """The calculator of a frozen model: the predicted risk at the horizon for one set of predictor values,
    its 95 % interval and the nomogram's points. For research use only; not for clinical decisions."""

    @extend_schema(
        request=CalculateIn,
        responses={
            200: CalculateOut,
            400: OpenApiResponse(
                description="A value missing, not a number or out of range, under `values`."
            ),
            409: OpenApiResponse(ApiError, description="The model is not frozen (not_frozen)."),
        },
    )
    def post(self, request, pk: int):
        risk_model = risk_model_get(user=request.user, pk=pk)
        data = CalculateIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            found = risk_calculate(
                risk_model=risk_model, user=request.user, values=data.validated_data["values"]
            )
        except InvalidInput as wrong:
            raise InvalidInput(wrong.message, field_errors={"values": wrong.field_errors}) from wrong
        found["note"] = _("For research use only; not for clinical decisions.")
        return Response(CalculateOut(found).data)


MODEL = "risk-models/<int:pk>/"
urlpatterns = [
    path("studies/<str:code>/risk-models/", RiskModelListView.as_view(), name="risk-models"),
    path("studies/<str:code>/risk-model-specs/", SpecListView.as_view(), name="risk-model-specs"),
    path(MODEL, RiskModelView.as_view(), name="risk-model"),
    path(f"{MODEL}freeze/", FreezeView.as_view(), name="risk-model-freeze"),
    path(f"{MODEL}validations/", ValidationListView.as_view(), name="risk-model-validations"),
    path(f"{MODEL}model/", ModelJsonView.as_view(), name="risk-model-json"),
    path(f"{MODEL}result/", ResultJsonView.as_view(), name="risk-model-result"),
    path(f"{MODEL}reports/", ReportView.as_view(), name="risk-model-reports"),
    path(f"{MODEL}calculate/", CalculateView.as_view(), name="risk-model-calculate"),
    path("risk-validations/<int:pk>/", ValidationView.as_view(), name="risk-validation"),
]
