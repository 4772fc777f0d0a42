"""The study's primary endpoint and its readers' agreement: unblinded outcomes, read by the study's principal
investigators and data managers only (at the sites where they hold the role; every site for a study-wide one).

A study the user cannot see at all is a 404, as in the rest of the API (a blinded adjudicator sees none); one
they see without either role (a coordinator, a monitor) is a 403.
"""

import csv
import datetime

from django.http import StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from trial.access import sites_with_role, visible_sites
from trial.apis.filtering import list_query
from trial.apis.pagination import Pagination
from trial.errors import Forbidden, InvalidInput
from trial.models import Participant, Role, Site, Study

from ..agreement import Kappa
from ..endpoint import CENSOR_REASONS
from ..models import AdjudicationCase, FractureLocation
from ..selectors.agreement import study_agreement
from ..selectors.endpoint import (
    NO_INDEX_DATE,
    EndpointRow,
    endpoint_fractures,
    endpoint_participant_ids,
    endpoint_participants,
    endpoint_rows,
    endpoint_settings,
    study_endpoint,
    study_today,
)

ENDPOINT_ROLES = frozenset({Role.PRINCIPAL_INVESTIGATOR, Role.DATA_MANAGER})
CSV_COLUMNS = (
    "study_id",
    "site",
    "index_date",
    "event",
    "event_date",
    "censor_date",
    "days",
    "levels",
    "location",
    "censor_reason",
    "adjudication_pending",
)


def _study_and_sites(request, code: str) -> tuple[Study, list[Site]]:
    """The study and the sites whose outcomes the user reads; 404 for a study they cannot see, 403 without
    the role. Two queries."""
    study = (
        Study.objects.select_related("current_version")
        .filter(code=code, pk__in=visible_sites(request.user).values("study"))
        .first()
    )
    if study is None:
        raise NotFound(_("Unknown study."))
    sites = list(sites_with_role(request.user, study=study, roles=ENDPOINT_ROLES).order_by("code"))
    if not sites:
        raise Forbidden(
            _(
                "Only the principal investigators and data managers of study %(study)s can read its endpoint "
                "and the readers' agreement."
            )
            % {"study": study.code}
        )
    return study, sites


class EndpointQuery(serializers.Serializer):
    data_cut = serializers.DateField(
        required=False,
        help_text="The date the endpoint is judged at (not in the future); if left out, today at the sites "
        "read (the earliest of their time zones). Give it when reading several pages, so that every page has "
        "the same cut.",
    )
    export = serializers.ChoiceField(
        choices=["json", "csv"],
        required=False,
        default="json",
        help_text="csv: every row at once, as a file (not paged).",
    )


class EndpointRowOut(serializers.Serializer):
    study_id = serializers.CharField()
    site = serializers.CharField()
    index_date = serializers.DateField(
        allow_null=True, help_text="The protocol's index date (the procedure's)."
    )
    event = serializers.BooleanField(help_text="An adjudicated new non-operated fracture within the horizon.")
    event_date = serializers.DateField(allow_null=True)
    censor_date = serializers.DateField(allow_null=True, help_text="Without an event: when follow-up stops.")
    days = serializers.IntegerField(
        allow_null=True, help_text="From the index date to the event or censoring."
    )
    levels = serializers.ListField(child=serializers.CharField(), help_text="The event's levels.")
    location = serializers.ChoiceField(choices=FractureLocation.choices, allow_null=True)
    censor_reason = serializers.ChoiceField(
        choices=[*CENSOR_REASONS, NO_INDEX_DATE],
        allow_null=True,
        help_text="null with an event. withdrawn, lost: at the last event-free visit; died: a competing "
        "event, at its date; end_of_follow_up: at the horizon's end; in_follow_up: still followed at the "
        "data cut, at the last event-free visit (the index date if none); no_index_date: not yet treated.",
    )
    adjudication_pending = serializers.BooleanField(
        help_text="A case of this participant is still being read: the row may change."
    )


def _data_cut(view, sites: list[Site]) -> tuple[datetime.date, str]:
    query = list_query(view)
    today = study_today(sites=sites)
    data_cut = query.get("data_cut") or today
    if data_cut > today:
        raise InvalidInput(
            _("The data cut cannot be in the future."),
            field_errors={"data_cut": [_("The data cut cannot be after %(date)s.") % {"date": today}]},
        )
    return data_cut, query["export"]


class _Echo:
    """A file that hands back what is written: csv.writer's rows, streamed as they are made."""

    def write(self, value: str) -> str:
        return value


def _csv_value(row: EndpointRow, column: str) -> str:
    value = getattr(row, column)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return " ".join(value)
    return "" if value is None else str(value)


def _csv(study: Study, data_cut: datetime.date, sites: list[Site]) -> StreamingHttpResponse:
    rows = study_endpoint(
        study=study, data_cut=data_cut, sites=sites
    )  # a 409 is raised here, before streaming
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow(CSV_COLUMNS)  # the BOM: spreadsheet programs then read UTF-8
        for row in rows:
            yield writer.writerow([_csv_value(row, column) for column in CSV_COLUMNS])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.code}_endpoint_{data_cut}.csv"'
    return response


class StudyEndpointView(generics.GenericAPIView):
    """The primary endpoint, a row per participant in study ID order (followup/endpoint.py has the rules)."""

    pagination_class = Pagination
    serializer_class = EndpointRowOut
    query_class = EndpointQuery

    @extend_schema(
        responses={
            (200, "application/json"): EndpointRowOut(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            # The study is there, its protocol's state refuses the read: a conflict, not a missing object.
            409: OpenApiResponse(description="The study's protocol declares no endpoint (code no_endpoint)."),
        },
    )
    def get(self, request, code):
        study, sites = _study_and_sites(request, code)
        data_cut, export = _data_cut(self, sites)
        if export == "csv":
            return _csv(study, data_cut, sites)
        settings = endpoint_settings(study=study)
        # The page is cut from the bare ids, then its rows are read: an offset deep into 56,000 participants
        # skips index entries, not rows whose subqueries would each run.
        ids = self.paginate_queryset(endpoint_participant_ids(sites=sites))
        participants = endpoint_participants(
            settings=settings, data_cut=data_cut, participants=Participant.objects.filter(pk__in=ids)
        )
        fractures = endpoint_fractures(AdjudicationCase.objects.filter(participant_id__in=ids))
        rows = endpoint_rows(
            settings=settings, data_cut=data_cut, participants=participants, fractures=fractures
        )
        return self.get_paginated_response(EndpointRowOut(rows, many=True).data)


class KappaOut(serializers.Serializer):
    kappa = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="The 95 % interval (Fleiss, Cohen and Everitt).")
    high = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(help_text="Cases read by both independent readers.")
    observed = serializers.FloatField(allow_null=True, help_text="The proportion of agreement.")
    expected = serializers.FloatField(allow_null=True, help_text="The agreement expected by chance.")
    categories = serializers.ListField(child=serializers.JSONField())
    table = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="table[i][j]: cases the first reader put in categories[i] and the second in categories[j].",
    )
    undefined = serializers.ChoiceField(
        choices=["no_pairs", "no_variation"],
        allow_null=True,
        help_text="Why kappa is null: no case read by both, or one and the same answer to every case.",
    )


class AgreementOut(KappaOut):
    """The main question (a new non-operated vertebral fracture, yes or no: categories [true, false]) at the
    top level, and the Genant grade (0-3, linearly weighted) under `genant`."""

    genant = KappaOut()


def _kappa(kappa: Kappa) -> dict:
    return {
        "kappa": kappa.kappa,
        "low": kappa.low,
        "high": kappa.high,
        "n": kappa.n,
        "observed": kappa.observed,
        "expected": kappa.expected,
        "categories": list(kappa.categories),
        "table": [list(row) for row in kappa.table],
        "undefined": kappa.undefined or None,
    }


class AdjudicationAgreementView(APIView):
    @extend_schema(responses=AgreementOut)
    def get(self, request, code):
        """Agreement of the two independent readers: Cohen's kappa on the main question with its 2x2 table and
        95 % interval, and the weighted kappa on the Genant grade (followup/agreement.py)."""
        study, sites = _study_and_sites(request, code)
        agreement = study_agreement(study=study, sites=sites)
        return Response(AgreementOut({**_kappa(agreement.main), "genant": _kappa(agreement.genant)}).data)


urlpatterns = [
    path("studies/<slug:code>/endpoint/", StudyEndpointView.as_view(), name="study-endpoint"),
    path(
        "studies/<slug:code>/adjudication-agreement/",
        AdjudicationAgreementView.as_view(),
        name="study-adjudication-agreement",
    ),
]
