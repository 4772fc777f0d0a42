"""The query of every API list, read strictly in one place (the rules: trial.filters).

A list declares what it takes: a django-filter FilterSet (`filterset_class`, read by ListQueryBackend, the
default filter backend) or a serializer of its parameters (`query_class`, whose values `list_query(view)`
hands back); its paginator adds page and page_size; DRF's own `format` is always taken. Anything else, a
blank, a repeated or an unreadable value is one 400 naming every parameter that is wrong.

ListQueryBackendExtension documents the same declaration in the schema, as strict as the server: enums
without the blank, formats, bounds, minLength 1 (a blank is refused). Site and study codes are enums of the
shipped protocols' codes, as in the request bodies (trial/apis/codes.py); which of them the user may ask
for is their role's and sites': one they cannot see is a 403 naming the parameter, as the descriptions say.
"""

from django import forms
from django_filters import rest_framework as filters_drf
from drf_spectacular.extensions import OpenApiFilterExtension
from drf_spectacular.plumbing import build_basic_type, build_parameter_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.settings import api_settings

from .. import filters as strict
from ..access import visible_sites
from ..paging import paging_errors
from .codes import site_codes, study_codes

# A free text of a query: one character at least that is not a space (the query's reading strips it:
# trial.filters.query_errors), and no NUL (Django's and DRF's text fields refuse it: a 400).
QUERY_TEXT = r"^[^\x00]*[^\x00\s][^\x00]*$"

STUDY_DESCRIPTION = (
    "A study code, e.g. NCT06379243: one of the studies you can see (the enum lists the shipped protocols'; "
    "one loaded from another file is taken too). Another study's code is a 403 naming `study`."
)
SITE_DESCRIPTION = (
    "A site code, e.g. 07: one of the sites you can see (the enum lists the shipped protocols'; one of a "
    "protocol loaded from another file is taken too). Another site's code is a 403 naming `site`."
)


def code_schema(codes) -> dict:
    """A protocol code's parameter: the shipped protocols' codes (read when the schema is generated)."""
    return {"type": "string", "enum": list(codes())}


def declared_parameters(view) -> set[str]:
    """The query parameters `view` takes: its filters or query serializer, its paging, DRF's `format`."""
    names = {api_settings.URL_FORMAT_OVERRIDE}
    query_class = getattr(view, "query_class", None)
    if query_class is not None:
        names |= set(query_class().fields)
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None and ListQueryBackend in getattr(view, "filter_backends", ()):
        names |= set(filterset_class.base_filters)
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        names |= {paginator.page_query_param, paginator.page_size_query_param} - {None}
    return names


def _paging_errors(view, parameters) -> dict[str, list[str]]:
    paginator = getattr(view, "paginator", None)
    if paginator is None:
        return {}
    return paging_errors(parameters, max_page_size=paginator.max_page_size)


def list_query(view, *, filterset=None) -> dict:
    """The list's query, validated (the query serializer's values; {} for a FilterSet's, applied by the
    backend); raises InvalidInput naming every wrong parameter. Checked once a request."""
    request = view.request
    checked = getattr(request, "_list_query", None)
    if checked is not None:
        return checked
    parameters = request.query_params
    errors = strict.query_errors(dict(parameters.lists()), declared=declared_parameters(view), strict=True)
    errors = _paging_errors(view, parameters) | errors
    unreadable = set(errors)  # unknown, repeated, blank, or a bad page: whoever asks
    hidden: set[str] = set()
    values: dict = {}
    if filterset is not None and not filterset.is_valid():
        errors = strict.form_errors(filterset.form) | errors
        hidden |= strict.not_visible(filterset.form.errors.as_data())
    query_class = getattr(view, "query_class", None)
    if query_class is not None:
        query = query_class(data=parameters, context={"request": request, "view": view})
        if query.is_valid():
            values = dict(query.validated_data)
        else:
            errors = {name: [str(m) for m in messages] for name, messages in query.errors.items()} | errors
            hidden |= strict.not_visible(query.errors)
    strict.refuse_query(errors, hidden=hidden - unreadable)
    request._list_query = values
    return values


class ListQueryBackend(filters_drf.DjangoFilterBackend):
    """django-filter's backend, strict: the whole query is checked (list_query) before the filters apply."""

    def filter_queryset(self, request, queryset, view):
        if (view.lookup_url_kwarg or view.lookup_field) in view.kwargs:
            # One object looked up (get_object, a detail or its actions): the list's filters do not apply.
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        list_query(view, filterset=filterset)
        return filterset.qs if filterset is not None else queryset


class SiteCodeField(serializers.CharField):
    """A site code among the sites the requesting user can see (a query serializer's `site`): one that is not
    a site code is `invalid` (400), one of no site the user can see NOT_VISIBLE (403), as SiteFilter's."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 8)
        kwargs.setdefault("help_text", SITE_DESCRIPTION)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data)
        if not strict.SITE_CODE.fullmatch(code):
            raise serializers.ValidationError(str(strict.NOT_A_SITE_CODE), code="invalid")
        request = self.context["request"]
        if not visible_sites(request.user).filter(code=code).exists():
            message = str(strict.UNKNOWN_SITE) % {"value": code}
            raise serializers.ValidationError(message, code=strict.NOT_VISIBLE)
        return code


# --- the schema --------------------------------------------------------------------------------------------


def _strict_schema(schema: dict) -> dict:
    """A blank is refused: no "" in an enum, at least one character in a free string (QUERY_TEXT)."""
    if "enum" in schema:
        schema["enum"] = [value for value in schema["enum"] if value not in ("", None)]
    elif schema.get("type") == "string" and "format" not in schema:
        schema.setdefault("minLength", 1)
        schema.setdefault("pattern", QUERY_TEXT)
    schema.pop("nullable", None)
    return schema


def _filter_schema(filter_) -> tuple[dict, str]:
    """The schema and description of a FilterSet's filter, from the form field that reads it."""
    description = str(filter_.extra.get("help_text") or "")
    if isinstance(filter_, strict.SiteFilter):
        # Its field lists the user's sites: no request here; the schema lists the shipped protocols'.
        return code_schema(site_codes), SITE_DESCRIPTION
    if isinstance(filter_, strict.StudyFilter):
        return code_schema(study_codes), STUDY_DESCRIPTION
    field = filter_.field
    if isinstance(field, strict.StrictBooleanField):
        return build_basic_type(OpenApiTypes.BOOL), description
    if isinstance(field, forms.DateField):
        return build_basic_type(OpenApiTypes.DATE), description
    if isinstance(field, forms.ChoiceField):
        values = [str(value) for value, _label in field.choices if value not in ("", None)]
        return {"type": "string", "enum": values}, description
    schema = {"type": "string", "minLength": 1}
    if getattr(field, "max_length", None):
        schema["maxLength"] = field.max_length
    return schema, description


class ListQueryBackendExtension(OpenApiFilterExtension):
    target_class = "trial.apis.filtering.ListQueryBackend"
    priority = 1  # before drf-spectacular's own extension for django-filter, which this backend subclasses

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        view = auto_schema.view
        parameters = []
        query_class = getattr(view, "query_class", None)
        if query_class is not None:
            for name, field in query_class().fields.items():
                if isinstance(field, SiteCodeField):
                    schema = code_schema(site_codes)
                else:
                    schema = auto_schema._map_serializer_field(field, "request")
                    auto_schema._insert_field_validators(field, schema)
                schema.pop("description", None)  # said once, on the parameter
                schema = _strict_schema(schema)
                parameters.append(
                    build_parameter_type(
                        name=name,
                        schema=schema,
                        location=OpenApiParameter.QUERY,
                        description=str(field.help_text or ""),
                    )
                )
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None:
            for name, filter_ in filterset_class.base_filters.items():
                schema, description = _filter_schema(filter_)
                parameters.append(
                    build_parameter_type(
                        name=name,
                        schema=_strict_schema(schema),
                        location=OpenApiParameter.QUERY,
                        description=description,
                    )
                )
        return parameters
