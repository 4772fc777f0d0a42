"""CRF API views: parse, call one service, answer. Reasons in X-Change-Reason, versions in ETag/If-Match."""

import csv
import io

import django_filters
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from trial.apis.filtering import ListQueryBackend, list_query
from trial.apis.headers import ETAG, if_match_header, reason_header
from trial.audit import request_reason
from trial.errors import InvalidInput
from trial.filters import SiteFilter, StrictBooleanFilter

from .. import selectors, services
from ..dictionary import dictionary_rows, redcap_rows
from ..engine.definitions import form_definitions
from ..engine.validate import Findings, evaluate
from ..hooks import visit_key, visit_of
from ..models import FormRecord, QueryAction, QueryStatus
from ..services.signing_session import signing_session
from . import serializers as s

IF_MATCH = if_match_header(
    'The ETag you read, e.g. "3". Required to change a form that exists (428 without); stale: 409.'
)
REASON = reason_header(
    required=False,
    description="Why: required to change a completed, verified or signed form, and to unlock (400 "
    "`reason_required` without).",
)


def expected_version(request) -> int | None:
    header = request.META.get("HTTP_IF_MATCH")
    if header is None:
        return None
    match = ETAG.match(header)
    if not match:
        raise InvalidInput(
            _('If-Match must be the ETag you read, e.g. "3".'),
            field_errors={"If-Match": [_("Invalid ETag.")]},
        )
    return int(match.group(1))


def participant_for(request, study_id: str):
    return get_object_or_404(selectors.crf_participants(user=request.user), study_id=study_id)


def participant_and_visit(request, study_id: str, visit_code: str | None):
    """The participant in the user's scope and, for a visit form's URL, their visit (404 if none)."""
    participant = participant_for(request, study_id)
    return participant, selectors.participant_visit(participant, visit_code)


def form_answer(
    record: FormRecord | None, form_code: str, findings: Findings | None = None, *, visit=None, status=200
):
    payload = {
        "form_code": form_code,
        "visit": visit.code if visit else None,
        "form_version": record.form_version if record else "",
        "status": record.status if record else "not_started",
        "version": record.version if record else 0,
        "data": record.data if record else {},
        "updated_at": record.updated_at if record else None,
        "signatures": list(record.signatures.all()) if record else [],
        "warnings": findings.warnings if findings else [],
        "incomplete": findings.incomplete if findings else {},
    }
    response = Response(s.FormOut(payload).data, status=status)
    response["ETag"] = f'"{payload["version"]}"'
    return response


class FormGridView(APIView):
    @extend_schema(responses=s.FormGridOut(many=True))
    def get(self, request, study_id):
        """The participant's forms with their status and live queries, in protocol order."""
        list_query(self)
        participant = participant_for(request, study_id)
        records = selectors.form_grid(participant)
        rows = [
            {
                "form": form.code,
                "title": form.title.get(request.LANGUAGE_CODE) or form.title["en"],
                "status": records[form.code].status if form.code in records else "not_started",
                "version": records[form.code].version if form.code in records else 0,
                "live_queries": records[form.code].live_queries if form.code in records else 0,
            }
            for form in services.enabled_forms(participant)
        ]
        return Response(s.FormGridOut(rows, many=True).data)


class FormView(APIView):
    """One form of a participant; under .../visits/<visit_code>/forms/... the form collected at that visit."""

    # The answers carry the record's version in ETag (trial/apis/schema.py documents it).
    etag_methods = frozenset({"GET", "PUT"})

    @extend_schema(responses=s.FormOut)
    def get(self, request, study_id, form_code, visit_code=None):
        participant, visit = participant_and_visit(request, study_id, visit_code)
        form = services.form_for(participant, form_code, visit)
        record = FormRecord.objects.filter(
            participant=participant, form_code=form.code, visit_code=visit_key(visit)
        ).first()
        findings = None
        if record:
            context = services.check_context(participant, exclude=form.code, visit=visit, data=record.data)
            findings = evaluate(form, record.data, context)
        return form_answer(record, form.code, findings, visit=visit)

    @extend_schema(request=s.FormDataIn, responses=s.FormOut, parameters=[IF_MATCH, REASON])
    def put(self, request, study_id, form_code, visit_code=None):
        participant, visit = participant_and_visit(request, study_id, visit_code)
        body = s.FormDataIn(data=request.data)
        body.is_valid(raise_exception=True)
        record, findings = services.crf_save(
            actor=request.user,
            participant=participant,
            form_code=form_code,
            data=body.validated_data["data"],
            expected_version=expected_version(request),
            reason=request_reason(request),
            visit=visit,
        )
        return form_answer(record, form_code, findings, visit=visit)


TRANSITIONS = {
    "complete": services.crf_complete,
    "verify": services.crf_verify,
    "lock": services.crf_lock,
}


# The step as an enum (a generated client gets a typed choice): drf-spectacular read the URL's alternation as
# the pattern "^complete|verify|lock|unlock$", which also matches "completed" or "unverify".
STEP = OpenApiParameter("step", location=OpenApiParameter.PATH, enum=["complete", "verify", "lock", "unlock"])


@extend_schema_view(post=extend_schema(parameters=[STEP]))
class FormTransitionView(APIView):
    # The answers carry the record's version in ETag (trial/apis/schema.py documents it).
    etag_methods = frozenset({"POST"})

    @extend_schema(request=None, responses=s.FormOut, parameters=[IF_MATCH, REASON])
    def post(self, request, study_id, form_code, step, visit_code=None):
        """complete (coordinator), verify (monitor), lock and unlock (data manager; unlock needs a reason)."""
        participant, visit = participant_and_visit(request, study_id, visit_code)
        kwargs = {
            "actor": request.user,
            "participant": participant,
            "form_code": form_code,
            "expected_version": expected_version(request),
            "visit": visit,
        }
        if step == "unlock":
            record = services.crf_unlock(**kwargs, reason=request_reason(request))
        else:
            record = TRANSITIONS[step](**kwargs)
        return form_answer(record, form_code, visit=visit)


class FormSignView(APIView):
    @extend_schema(
        request=s.SignIn,
        responses={201: s.SignatureOut, 403: s.SigningRefused},
        parameters=[IF_MATCH],
        description=s.SIGNING_ERRORS,
    )
    def post(self, request, study_id, form_code, visit_code=None):
        """The investigator's e-signature: user ID (first signing of the session) and password again, and the
        meaning of the signature."""
        participant, visit = participant_and_visit(request, study_id, visit_code)
        body = s.SignIn(data=request.data)
        body.is_valid(raise_exception=True)
        signature = services.crf_sign(
            actor=request.user,
            participant=participant,
            form_code=form_code,
            username=body.validated_data["username"],
            password=body.validated_data["password"],
            meaning=body.validated_data["meaning"],
            session=signing_session(request),
            expected_version=expected_version(request),
            visit=visit,
        )
        return Response(s.SignatureOut(signature).data, status=201)


class FormHistoryQuery(serializers.Serializer):
    field = serializers.CharField(
        required=False, max_length=200, help_text="Only this value's changes, e.g. levels[L1].cement_volume"
    )


class FormHistoryView(APIView):
    query_class = FormHistoryQuery
    filter_backends = [ListQueryBackend]  # documents query_class

    @extend_schema(responses=s.FormHistoryOut(many=True))
    def get(self, request, study_id, form_code, visit_code=None):
        query = list_query(self)
        participant, visit = participant_and_visit(request, study_id, visit_code)
        record = get_object_or_404(
            FormRecord, participant=participant, form_code=form_code, visit_code=visit_key(visit)
        )
        events = selectors.form_history(record, field=query.get("field", ""))
        return Response(s.FormHistoryOut(events, many=True).data)


def _form_codes():
    return [(code, code) for code in form_definitions()]


class QueryFilter(django_filters.FilterSet):
    site = SiteFilter(field_name="site")  # the query's own site: no join to records
    # Every status unless one is asked, unlike the page (which opens on the live ones): an API client counts
    # or exports the whole list, and a default that hid closed queries would change what existing clients get.
    status = django_filters.ChoiceFilter(
        choices=QueryStatus.choices, help_text="open, answered or closed; every status when not given."
    )
    form = django_filters.ChoiceFilter(
        field_name="record__form_code", choices=_form_codes, help_text="A form code of the protocol."
    )
    visit = django_filters.CharFilter(
        field_name="record__visit_code", max_length=16, help_text="A visit code of the protocol, e.g. M12."
    )
    study_id = django_filters.CharFilter(field_name="record__participant__study_id", max_length=32)
    auto = StrictBooleanFilter(help_text="true: raised by an edit check; false: by a person.")


class QueryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Data queries on the sites the user can see: raise, answer, close, reopen; ages in days."""

    serializer_class = s.QueryOut
    filterset_class = QueryFilter

    def get_queryset(self):
        return selectors.query_list(user=self.request.user)

    def get_serializer_context(self):
        today = timezone.localdate()
        return {
            **super().get_serializer_context(),
            "ages": lambda query: services.query_age_days(query, today),
        }

    @extend_schema(request=s.QueryRaiseIn, responses={201: s.QueryOut})
    def create(self, request):
        body = s.QueryRaiseIn(data=request.data)
        body.is_valid(raise_exception=True)
        participant = participant_for(request, body.validated_data["study_id"])
        visit = None
        if body.validated_data.get("visit"):
            visit = visit_of(participant=participant, code=body.validated_data["visit"])
            if visit is None:
                raise InvalidInput(_("Unknown visit."), field_errors={"visit": [_("No such visit.")]})
        record = FormRecord.objects.filter(
            participant=participant, form_code=body.validated_data["form"], visit_code=visit_key(visit)
        ).first()
        if record is None:
            raise InvalidInput(_("That form has no data yet."), field_errors={"form": [_("Not started.")]})
        query = services.query_raise(
            actor=request.user,
            record=record,
            field_path=body.validated_data["field"],
            text=body.validated_data["text"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=query.pk)).data, status=201)

    def _step(self, request, step):
        # The query first: one on a site the user cannot see is a 404 whatever the body (it was a 400 for an
        # empty body, before the lookup).
        query = self.get_object()
        body = s.QueryStepIn(data=request.data)
        body.is_valid(raise_exception=True)
        query = services.query_step(
            actor=request.user, query=query, action=step, text=body.validated_data["text"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=query.pk)).data)

    @extend_schema(request=s.QueryStepIn, responses=s.QueryOut)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        return self._step(request, QueryAction.ANSWER)

    @extend_schema(request=s.QueryStepIn, responses=s.QueryOut)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._step(request, QueryAction.CLOSE)

    @extend_schema(request=s.QueryStepIn, responses=s.QueryOut)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._step(request, QueryAction.REOPEN)


class DictionaryQuery(serializers.Serializer):
    export = serializers.ChoiceField(
        choices=["json", "csv", "redcap"],
        required=False,
        default="json",
        help_text="csv: our dictionary; redcap: a REDCap data dictionary",
    )


class DataDictionaryView(APIView):
    query_class = DictionaryQuery
    filter_backends = [ListQueryBackend]  # documents query_class

    @extend_schema(
        # Said here: drf-spectacular does not take a list of plain objects for a list (no filter backends).
        parameters=[
            OpenApiParameter(
                "export",
                enum=["json", "csv", "redcap"],
                description="csv: our dictionary; redcap: a REDCap data dictionary",
            )
        ],
        responses={
            (200, "application/json"): {"type": "array", "items": {"type": "object"}},
            (200, "text/csv"): {"type": "string", "description": "export=csv or redcap: the file."},
        },
    )
    def get(self, request):
        """Every field of every form: form, field, labels (en, zh-hans), type, unit, range, choices."""
        kind = list_query(self)["export"]
        if kind == "json":
            return Response(dictionary_rows())
        rows = redcap_rows() if kind == "redcap" else dictionary_rows()
        if kind not in ("csv", "redcap") or not rows:
            raise InvalidInput(_("export is json, csv or redcap."), field_errors={"export": [_("Invalid.")]})
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        name = "redcap_data_dictionary.csv" if kind == "redcap" else "data_dictionary.csv"
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
