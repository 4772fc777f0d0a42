"""The filters of every list, API and pages: one strict reading of a query string, and the filters of the
screening log and the participant list (one definition for the API and the pages).

Every list reads its query the same way (trial.apis.filtering for the API, trial.views.common for pages):
- a value it cannot read (`enrolled=yes`, `page_size=abc`, a date that is not one, a status not in the list,
  another site's code) is a 400 naming the parameter: never a list that quietly ignores the filter;
- on the API, a parameter left blank (`status=`), given twice, or that the list does not take is a 400 too
  (a client that sends it means something the server would not do);
- on a page, a blank field means "all" (the filter form sends its empty fields) and a parameter the page does
  not take is ignored (links from elsewhere may carry one).

The site filter takes a site code (`?site=07`) and offers only the sites the requesting user can see (the
study filter likewise its studies). A code that is not one (`?site=a b`) is a value it cannot read: a 400. A
code that is one, but not of a site the user can see (another site's, or of no site: the answer does not
tell them apart), is refused for who asks: a 403 naming the parameter in the API (NOT_VISIBLE, below), and a
page that shows the message and lists nothing.
"""

import re
from collections.abc import Iterable, Mapping

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import protocol_schema
from .access import visible_sites
from .errors import Forbidden, InvalidInput
from .forms import DateInput, StudySiteChoiceField
from .models import Outcome, Participant, ParticipantStatus, Screening, Site, Study

BLANK_REFUSED = _("Give a value, or leave the parameter out.")
UNKNOWN_PARAMETER = _("Unknown parameter: this list does not take it.")
REPEATED_PARAMETER = _("Give this parameter once.")
NOT_A_BOOLEAN = _("true or false.")
UNKNOWN_STUDY = _(
    "No study “%(value)s” among the studies you can see (the protocol's code, e.g. NCT06379243)."
)
UNKNOWN_SITE = _("No site “%(value)s” among the sites you can see (site codes are the protocol's, e.g. 07).")
NOT_A_SITE_CODE = _("A site code is 1 to 8 letters or digits, e.g. 07.")
NOT_A_STUDY_CODE = _("A study code is 1 to 32 letters, digits, - or _, e.g. NCT06379243.")
# The shapes of the codes, as a protocol file must give them: what the schema's enum says of the shipped
# protocols' codes, the server says of any.
SITE_CODE = re.compile(protocol_schema.SITE_CODE)
STUDY_CODE = re.compile(protocol_schema.STUDY_CODE)
# The code of an error that refuses a well-formed value for who asks (a site or study the user cannot see,
# a case status their role may not filter by): a 403 in the API, not a 400 (refuse_query).
NOT_VISIBLE = "not_visible"


def query_errors(
    parameters: Mapping[str, list[str]], *, declared: Iterable[str], strict: bool
) -> dict[str, list[str]]:
    """The problems of the query string as a whole, per parameter: for the API (`strict`), a parameter the
    list does not declare, one given twice, or one left blank; for a page, none (blank is "all", the unknown
    are ignored). `parameters` maps each name to its values (a QueryDict's lists())."""
    if not strict:
        return {}
    declared = set(declared)
    errors: dict[str, list[str]] = {}
    for name, values in parameters.items():
        if name not in declared:
            errors[name] = [str(UNKNOWN_PARAMETER)]
        elif len(values) > 1:
            errors[name] = [str(REPEATED_PARAMETER)]
        elif not values[0].strip():
            errors[name] = [str(BLANK_REFUSED)]
    return errors


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    """A filter form's field messages, per parameter (the form's field names are the parameters')."""
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def not_visible(errors: Mapping[str, list]) -> set[str]:
    """The parameters whose every error refuses the value for who asks (code NOT_VISIBLE): `errors` maps
    each to its errors as raised (a form's `errors.as_data()`, a serializer's `errors`)."""
    return {
        name
        for name, found in errors.items()
        if found and all(getattr(error, "code", None) == NOT_VISIBLE for error in found)
    }


def refuse_query(errors: dict[str, list[str]], *, hidden: Iterable[str] = ()) -> None:
    """Raise the 400 naming every parameter that is wrong, when any is (the domain's field-error shape); a
    403 when every one is `hidden` (well-formed, but not for this user to ask: NOT_VISIBLE)."""
    if not errors:
        return
    names = ", ".join(sorted(errors))
    if set(errors) <= set(hidden):
        raise Forbidden(
            gettext("The query asks for what you cannot see: %(names)s.") % {"names": names},
            field_errors=errors,
            code=NOT_VISIBLE,
        )
    raise InvalidInput(
        gettext("The query is not valid: %(names)s.") % {"names": names},
        field_errors=errors,
        code="invalid_query",
    )


class StrictBooleanField(forms.TypedChoiceField):
    """true or false, or nothing (no filter). django-filter's own reads any other value as "unknown", which
    filters nothing: `?enrolled=yes` listed every row."""

    def __init__(self, **kwargs):
        kwargs.pop("empty_value", None)
        kwargs.setdefault("choices", [("", "---------"), ("true", _("Yes")), ("false", _("No"))])
        kwargs.setdefault("required", False)
        kwargs.setdefault("error_messages", {"invalid_choice": NOT_A_BOOLEAN})
        super().__init__(coerce=lambda value: value == "true", empty_value=None, **kwargs)


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IsoDateFilter(django_filters.DateFilter):
    """A date as YYYY-MM-DD only, as the schema says (format: date) and a date input sends: Django's other
    formats would read 05/01/2026 as the first of May."""

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)


def _sites_of(request):
    if request is None:
        return Site.objects.none()
    return visible_sites(request.user).select_related("study").order_by("study__code", "code")


class VisibleCodeMixin:
    """A ModelChoiceField of codes: a value not shaped as one is `invalid` (a 400), a code that names no
    choice (none the user can see) NOT_VISIBLE (a 403 in the API)."""

    shape: re.Pattern
    shape_message: str

    def to_python(self, value):
        if value in self.empty_values or isinstance(value, self.queryset.model):
            return super().to_python(value)
        if not self.shape.fullmatch(str(value)):
            raise ValidationError(self.shape_message, code="invalid")
        try:
            return super().to_python(value)
        except ValidationError as error:
            raise ValidationError(error.message, code=NOT_VISIBLE, params=error.params) from None


class VisibleSiteField(VisibleCodeMixin, StudySiteChoiceField):
    shape, shape_message = SITE_CODE, NOT_A_SITE_CODE


class VisibleStudyField(VisibleCodeMixin, forms.ModelChoiceField):
    shape, shape_message = STUDY_CODE, NOT_A_STUDY_CODE


class SiteFilter(django_filters.ModelChoiceFilter):
    """A site code among the sites the user can see; another site's code (or one of no site) is refused."""

    field_class = VisibleSiteField

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", _sites_of)
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("field_name", "site")
        kwargs.setdefault("error_messages", {"invalid_choice": UNKNOWN_SITE})
        super().__init__(**kwargs)


def _studies_of(request):
    if request is None:
        return Study.objects.none()
    return Study.objects.filter(pk__in=visible_sites(request.user).values("study"))


class StudyFilter(django_filters.ModelChoiceFilter):
    """A study code among the studies the user can see; any other is refused."""

    field_class = VisibleStudyField

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", _studies_of)
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("error_messages", {"invalid_choice": UNKNOWN_STUDY})
        super().__init__(**kwargs)


class ScreeningFilter(django_filters.FilterSet):
    study = StudyFilter(field_name="study", label=_("Study"))
    site = SiteFilter(label=_("Site"), empty_label=_("All sites"))
    outcome = django_filters.ChoiceFilter(
        choices=Outcome.choices, label=_("Outcome"), empty_label=_("All outcomes")
    )
    date_from = IsoDateFilter(
        field_name="screening_date", lookup_expr="gte", label=_("From"), widget=DateInput()
    )
    date_to = IsoDateFilter(field_name="screening_date", lookup_expr="lte", label=_("To"), widget=DateInput())
    enrolled = StrictBooleanFilter(
        field_name="participant",
        lookup_expr="isnull",
        exclude=True,
        label=_("Enrolled"),
        help_text=_("true or false."),
    )

    class Meta:
        model = Screening
        fields = ["study", "site", "outcome", "date_from", "date_to", "enrolled"]


class ParticipantFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Study ID"),
        max_length=32,
        help_text=_("All or part of a study ID, e.g. 07-0012."),
    )
    study = StudyFilter(field_name="site__study", label=_("Study"))
    site = SiteFilter(label=_("Site"), empty_label=_("All sites"))
    status = django_filters.ChoiceFilter(
        choices=ParticipantStatus.choices, label=_("Status"), empty_label=_("All statuses")
    )

    class Meta:
        model = Participant
        fields = ["q", "study", "site", "status"]

    def search(self, queryset, name, value):
        """A study ID, whole or in part (its number alone, say): the research data's only way to name a
        participant. Identifying data is never searched here: that would leak it through the result."""
        value = value.strip()
        return queryset.filter(study_id__icontains=value) if value else queryset
