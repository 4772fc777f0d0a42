"""The CRF pages' side of a form: POST parsed into the engine's data shape, and the view of every field.

Nothing here judges a value: the engine and the services do, and their messages (keyed by engine paths such as
"operative_time" or "levels[L1].cement_volume") are placed back on the inputs they name. Input names are the
field code at the top level and "<group>-<index>-<code>" in a repeating group, so a browser without
JavaScript posts the same shape as one that adds rows by cloning the row <template>.
"""

import decimal
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import django_filters
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trial.audit import MAX_REASON_LENGTH
from trial.filters import SiteFilter
from trial.i18n import localized

from .engine.definitions import Condition, FieldDef, FormDef, GroupDef, form_definitions
from .engine.validate import Findings
from .models import DataQuery, FormStatus, QueryAction, QueryStatus, SignatureMeaning

TEMPLATE_INDEX = "__prefix__"  # the row <template>'s index, replaced by the script when it clones a row
BLANK_ROWS = 3  # empty rows drawn for browsers without JavaScript (never more than the group's max_rows)
MAX_ROW_INDEX_DIGITS = 3  # row indexes 0..999: a forged POST cannot make the parser loop for long
RADIO_CHOICES = 5  # a choice with up to this many options is drawn as radio buttons, else as a select
NOT_STARTED = "not_started"

STATUS_LABELS = {
    NOT_STARTED: gettext_lazy("not started"),
    **dict(FormStatus.choices),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def row_prefix(group_code: str, index: int | str) -> str:
    return f"{group_code}-{index}-"


def anchor_of(path: str) -> str:
    """An HTML id for an engine path: levels[L1].cement_volume -> f-levels-L1-cement_volume."""
    return "f-" + re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-")


def split_path(path: str) -> tuple[str, str, str]:
    """(group, row label, code) of an engine path; group and label are empty at the top level."""
    match = re.fullmatch(r"([a-z][a-z0-9_]*)\[([^\]]*)\]\.([a-z][a-z0-9_]*)", path)
    if match:
        return match.group(1), match.group(2), match.group(3)
    return "", "", path


def spec_of(form: FormDef | None, path: str) -> FieldDef | None:
    if form is None:
        return None
    group_code, _row, code = split_path(path)
    group = form.group(group_code) if group_code else None
    return group.field(code) if group else (None if group_code else form.field(code))


def path_label(form: FormDef | None, path: str) -> str:
    """The label of the field an engine path names, with its row: "Cement volume (L1)"."""
    if form is None:
        return path
    _group, row, _code = split_path(path)
    spec = spec_of(form, path)
    if spec is None:
        group = form.group(path)
        return localized(group.label) if group else path
    return f"{localized(spec.label)} ({row})" if row else localized(spec.label)


# --- POST -> data ----------------------------------------------------------------------------------------


def _posted(spec: FieldDef, post: Mapping, name: str):
    if spec.type == "multichoice":
        return [value for value in post.getlist(name) if value != ""]
    return post.get(name, "")


def _empty(value) -> bool:
    return value in ("", None, [])


def parse_entry(form: FormDef, post) -> dict:
    """The submitted values in the shape crf_save takes: {code: value}, {group: [row, ...]}.

    Values stay as typed (strings, lists of codes for multichoice; empty stays empty): the engine converts and
    judges them. Rows whose inputs are all empty are left out, so the blank rows drawn for browsers without
    JavaScript add nothing.
    """
    data: dict = {spec.code: _posted(spec, post, spec.code) for spec in form.fields if not spec.derived}
    for group in form.groups:
        pattern = re.compile(rf"^{re.escape(group.code)}-(\d{{1,{MAX_ROW_INDEX_DIGITS}}})-")
        indexes = sorted({int(m.group(1)) for key in post for m in [pattern.match(key)] if m})
        rows = []
        for index in indexes:
            prefix = row_prefix(group.code, index)
            row = {
                spec.code: _posted(spec, post, prefix + spec.code)
                for spec in group.fields
                if not spec.derived
            }
            if not all(_empty(value) for value in row.values()):
                rows.append(row)
        data[group.code] = rows
    return data


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            format(decimal.Decimal(str(value)).normalize(), "f") if value != int(value) else str(int(value))
        )
    return str(value)


def _raw(spec: FieldDef, value):
    if spec.type == "multichoice":
        return [str(v) for v in value] if isinstance(value, list) else ([] if value is None else [str(value)])
    return _as_text(value)


def values_from_data(form: FormDef, data: Mapping | None) -> dict:
    """Stored (clean) data in the shape parse_entry returns, for drawing the inputs."""
    data = data or {}
    values: dict = {spec.code: _raw(spec, data.get(spec.code)) for spec in form.fields}
    for group in form.groups:
        values[group.code] = [
            {spec.code: _raw(spec, row.get(spec.code)) for spec in group.fields}
            for row in data.get(group.code) or []
            if isinstance(row, Mapping)
        ]
    return values


# --- the view of a form ----------------------------------------------------------------------------------


def _condition_value(condition: Condition) -> str:
    return _as_text(condition.equals)


def _holds(condition: Condition, row: Mapping, top: Mapping) -> bool:
    """The engine's show_if test on raw values: equal, or among the ticked codes of a multichoice."""
    value = (top if condition.top_level else row).get(condition.code)
    wanted = _condition_value(condition)
    return value == wanted or (isinstance(value, list) and wanted in value)


@dataclass
class Option:
    value: str
    label: str
    checked: bool
    id: str


@dataclass
class FieldView:
    """One input (or, read-only, one value) with everything said about it."""

    spec: FieldDef
    name: str
    path: str
    value: object
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    queries: list = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    show_if: tuple[str, str] | None = None  # (controlling input name, value that shows this field)
    shown: bool = True
    saved: bool = False  # the path names a value of the saved record: queries can be raised on it

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def anchor(self) -> str:
        if TEMPLATE_INDEX in self.name:  # the script gives each cloned row its own index, hence its own ids
            return f"f-new-{self.name}"
        return anchor_of(self.path)

    @property
    def label(self) -> str:
        return localized(self.spec.label)

    @property
    def help(self) -> str:
        return localized(self.spec.help) if self.spec.help else ""

    @property
    def widget(self) -> str:
        spec = self.spec
        if spec.derived:
            return "derived"
        if spec.type in ("integer", "decimal"):
            return "number"
        if spec.type == "boolean":
            return "yesno"
        if spec.type == "choice":
            return "radios" if len(spec.choices) <= RADIO_CHOICES else "select"
        if spec.type == "multichoice":
            return "checkboxes"
        return spec.type  # date, text

    @property
    def use_fieldset(self) -> bool:
        return self.widget in ("yesno", "radios", "checkboxes")

    @property
    def step(self) -> str:
        if self.spec.type == "integer":
            return "1"
        if self.spec.decimals is None:
            return "any"
        return format(decimal.Decimal(1).scaleb(-self.spec.decimals), "f")

    def _bound(self, bound: float | None) -> str:
        """A hard bound for the input, when it fits the step (the browser counts steps from min)."""
        if bound is None:
            return ""
        if self.step != "any" and decimal.Decimal(str(bound)) % decimal.Decimal(self.step) != 0:
            return ""
        return _as_text(float(bound)) if isinstance(bound, float) else str(bound)

    @property
    def min(self) -> str:
        return self._bound(self.spec.min)

    @property
    def max(self) -> str:
        return self._bound(self.spec.max)

    @property
    def options(self) -> list[Option]:
        if self.spec.type == "boolean":
            pairs = [("true", _("Yes")), ("false", _("No"))]
        else:
            pairs = [(c.code, localized(c.label)) for c in self.spec.choices]
        values = self.value if isinstance(self.value, list) else [self.value]
        return [
            Option(value=code, label=label, checked=code in values, id=f"{self.id}_{index}")
            for index, (code, label) in enumerate(pairs)
        ]

    @property
    def display(self) -> str:
        """The value as read (choice labels, yes / no, the unit); empty when there is none."""
        if self.value in ("", [], None):
            return ""
        if self.spec.type in ("boolean", "choice", "multichoice"):
            return ", ".join(o.label for o in self.options if o.checked) or ", ".join(
                self.value if isinstance(self.value, list) else [str(self.value)]
            )
        return f"{self.value} {self.spec.unit}".strip()

    @property
    def live_queries(self) -> list:
        return [q for q in self.queries if q.status != QueryStatus.CLOSED]

    @property
    def closed_queries(self) -> list:
        return [q for q in self.queries if q.status == QueryStatus.CLOSED]

    @property
    def described_by(self) -> str:
        ids = []
        if self.help:
            ids.append(f"{self.id}_help")
        if self.errors:
            ids.append(f"{self.id}_errors")
        if self.warnings:
            ids.append(f"{self.id}_warnings")
        return " ".join(ids)


@dataclass
class RowView:
    number: int
    index: str
    prefix: str
    fields: list[FieldView]
    key: str
    blank: bool = False


@dataclass
class GroupView:
    spec: GroupDef
    rows: list[RowView]
    template: RowView
    next_index: int
    errors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return localized(self.spec.label)

    @property
    def anchor(self) -> str:
        return anchor_of(self.spec.code)


@dataclass
class EntryView:
    fields: list[FieldView]
    groups: list[GroupView]
    other_errors: list[tuple[str, list[str]]]  # messages whose path names no input drawn here
    other_queries: list  # queries on values no longer on the form (a row renamed, say)

    def all_fields(self) -> list[FieldView]:
        return self.fields + [f for group in self.groups for row in group.rows for f in row.fields]

    @property
    def error_fields(self) -> list[FieldView]:
        return [f for f in self.all_fields() if f.errors]


class _Notes:
    """The messages by path, handed out to the inputs they name; what is left is shown above the form."""

    def __init__(self, errors: Mapping, findings: Findings | None, queries: Iterable, history: Mapping):
        self.errors = {path: list(messages) for path, messages in (errors or {}).items()}
        self.missing = {
            path: list(messages) for path, messages in (findings.incomplete if findings else {}).items()
        }
        self.warnings: dict[str, list[str]] = {}
        for warning in findings.warnings if findings else []:
            self.warnings.setdefault(warning.path, []).append(warning.message)
        self.queries: dict[str, list] = {}
        for query in queries:
            self.queries.setdefault(query.field_path, []).append(query)
        self.history = history or {}
        self.used: set[str] = set()

    def field(self, spec: FieldDef, *, name: str, path: str, value, show_if, shown: bool, saved: bool):
        self.used.add(path)
        return FieldView(
            spec=spec,
            name=name,
            path=path,
            value=value,
            errors=self.errors.get(path, []),
            warnings=self.warnings.get(path, []),
            missing=self.missing.get(path, []),
            queries=self.queries.get(path, []),
            history=self.history.get(path, []),
            show_if=show_if,
            shown=shown or bool(self.errors.get(path)),
            saved=saved,
        )


def _row_view(group: GroupDef, notes: _Notes, *, index, number, row, top, saved, blank=False) -> RowView:
    prefix = row_prefix(group.code, index)
    key = row.get(group.key)
    label = key if not _empty(key) else f"#{number}"
    fields = []
    for spec in group.fields:
        condition = spec.show_if
        show_if = None
        shown = True
        if condition:
            show_if = (
                (condition.code if condition.top_level else prefix + condition.code),
                _condition_value(condition),
            )
            shown = _holds(condition, row, top) or not _empty(row.get(spec.code))
        fields.append(
            notes.field(
                spec,
                name=prefix + spec.code,
                path=f"{group.code}[{label}].{spec.code}",
                value=_raw(spec, None) if blank else row.get(spec.code, _raw(spec, None)),
                show_if=show_if,
                shown=shown,
                saved=saved,
            )
        )
    return RowView(number=number, index=str(index), prefix=prefix, fields=fields, key=str(label), blank=blank)


def entry_view(
    form: FormDef,
    *,
    values: Mapping,
    errors: Mapping | None = None,
    findings: Findings | None = None,
    queries: Iterable[DataQuery] = (),
    history: Mapping[str, list] | None = None,
    saved: bool = False,
    blank_rows: bool = True,
) -> EntryView:
    """Every input of the form with its value, messages, queries and history.

    `values` are raw (parse_entry's or values_from_data's shape); `saved` says they are the record's own, so
    that queries may be raised on them. Blank rows are added for browsers without JavaScript.
    """
    notes = _Notes(errors or {}, findings, queries, history or {})
    top_fields = []
    for spec in form.fields:
        condition = spec.show_if
        show_if = (condition.code, _condition_value(condition)) if condition else None
        shown = not condition or _holds(condition, values, values) or not _empty(values.get(spec.code))
        top_fields.append(
            notes.field(
                spec,
                name=spec.code,
                path=spec.code,
                value=values.get(spec.code, _raw(spec, None)),
                show_if=show_if,
                shown=shown,
                saved=saved,
            )
        )
    groups = []
    for group in form.groups:
        rows_in = list(values.get(group.code) or [])
        rows = [
            _row_view(group, notes, index=i, number=i + 1, row=row, top=values, saved=saved)
            for i, row in enumerate(rows_in)
        ]
        blanks = max(0, min(group.max_rows, max(BLANK_ROWS, len(rows) + 1)) - len(rows)) if blank_rows else 0
        for i in range(len(rows), len(rows) + blanks):
            rows.append(
                _row_view(group, notes, index=i, number=i + 1, row={}, top=values, saved=False, blank=True)
            )
        template = _row_view(
            group,
            _Notes({}, None, (), {}),
            index=TEMPLATE_INDEX,
            number=0,
            row={},
            top=values,
            saved=False,
            blank=True,
        )
        notes.used.add(group.code)
        groups.append(
            GroupView(
                spec=group,
                rows=rows,
                template=template,
                next_index=len(rows),
                errors=notes.errors.get(group.code, []),
                missing=notes.missing.get(group.code, []),
            )
        )
    other_errors = [(path, messages) for path, messages in notes.errors.items() if path not in notes.used]
    other_queries = [q for path, qs in notes.queries.items() if path not in notes.used for q in qs]
    return EntryView(fields=top_fields, groups=groups, other_errors=other_errors, other_queries=other_queries)


def changes_by_path(form: FormDef, events: Iterable[Mapping]) -> dict[str, list[dict]]:
    """form_history's events regrouped per value: {path: [{time, user, reason, old, new}, ...]}.

    The same rows form_history(record, field=path) gives for one value, for every value from one read.
    """
    by_path: dict[str, list[dict]] = {}
    for event in events:
        for change in event["changes"]:
            by_path.setdefault(change["field"], []).append(
                {
                    "time": event["time"],
                    "user": event["user"],
                    "reason": event["reason"],
                    "old": value_text(form, change["field"], change["old"]),
                    "new": value_text(form, change["field"], change["new"]),
                }
            )
    return by_path


def value_text(form: FormDef, path: str, value) -> str:
    """A stored value as text for the audit trail: choice labels, yes / no, the unit; ∅ for none."""
    if _empty(value):
        return "∅"
    spec = spec_of(form, path)
    if spec is not None:
        return FieldView(spec=spec, name="", path=path, value=_raw(spec, value)).display or "∅"
    if isinstance(value, list):
        return ", ".join(_as_text(v) for v in value)
    return _as_text(value)


# --- small forms: life cycle, reasons, queries -------------------------------------------------------------


def parse_version(raw: str | None) -> int | None:
    """The record version the page was drawn from (0: not started); None when absent or garbled."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


class ReasonForm(forms.Form):
    """The reason for change a completed, verified or signed form needs."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for change"),
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SignForm(forms.Form):
    """An investigator's e-signature: the password again and the meaning of the signature (21 CFR 11.50)."""

    meaning = forms.ChoiceField(
        label=gettext_lazy("Meaning of the signature"),
        choices=SignatureMeaning.choices,
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "sign")
        super().__init__(*args, **kwargs)


class UnlockForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for unlocking"),
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "unlock")
        super().__init__(*args, **kwargs)


class QueryRaiseForm(forms.Form):
    field_path = forms.CharField(max_length=200, widget=forms.HiddenInput)
    text = forms.CharField(
        label=gettext_lazy("Question"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class QueryStepForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in (QueryAction.ANSWER, QueryAction.CLOSE, QueryAction.REOPEN)]
    )
    text = forms.CharField(
        label=gettext_lazy("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _form_choices():
    return [(form.code, localized(form.title)) for form in form_definitions().values()]


LIVE = "live"


class QueryPageFilter(django_filters.FilterSet):
    """Filters of the query list page; sites offered are those the user can see."""

    site = SiteFilter(
        field_name="site",
        label=gettext_lazy("Site"),
        empty_label=gettext_lazy("All sites"),
    )
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"),
        choices=[(LIVE, gettext_lazy("open or answered")), *QueryStatus.choices],
        empty_label=gettext_lazy("All statuses"),
        method="filter_status",
    )
    form = django_filters.ChoiceFilter(
        field_name="record__form_code",
        label=gettext_lazy("Form"),
        choices=_form_choices,
        empty_label=gettext_lazy("All forms"),
    )
    study_id = django_filters.CharFilter(
        field_name="record__participant__study_id", label=gettext_lazy("Study ID")
    )

    class Meta:
        model = DataQuery
        fields = ["site", "status", "form", "study_id"]

    def filter_status(self, queryset, name, value):
        if value == LIVE:
            return queryset.exclude(status=QueryStatus.CLOSED)
        return queryset.filter(status=value)
