"""entry_view: every input of a form with its value, and the engine's messages, queries and history placed
on the inputs they name; and the audit trail's values as text."""

from collections.abc import Iterable, Mapping

from ..engine.definitions import Condition, FieldDef, FormDef, GroupDef
from ..engine.validate import Findings
from ..models import DataQuery
from .labels import row_prefix, spec_of
from .post import as_text, is_empty, raw_value
from .view_model import TEMPLATE_INDEX, EntryView, FieldView, GroupView, RowView

BLANK_ROWS = 3  # empty rows drawn for browsers without JavaScript (never more than the group's max_rows)


def _condition_value(condition: Condition) -> str:
    return as_text(condition.equals)


def _holds(condition: Condition, row: Mapping, top: Mapping) -> bool:
    """The engine's show_if test on raw values: equal, or among the ticked codes of a multichoice."""
    value = (top if condition.top_level else row).get(condition.code)
    wanted = _condition_value(condition)
    return value == wanted or (isinstance(value, list) and wanted in value)


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

    def field(
        self, spec: FieldDef, *, name: str, path: str, value, show_if, shown: bool, saved: bool, exams=()
    ):
        self.used.add(path)
        return FieldView(
            exams=tuple(exams) if spec.type == "exam" else (),
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
    label = key if not is_empty(key) else f"#{number}"
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
            shown = _holds(condition, row, top) or not is_empty(row.get(spec.code))
        fields.append(
            notes.field(
                spec,
                name=prefix + spec.code,
                path=f"{group.code}[{label}].{spec.code}",
                value=raw_value(spec, None) if blank else row.get(spec.code, raw_value(spec, None)),
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
    exams: Iterable = (),
) -> EntryView:
    """Every input of the form with its value, messages, queries and history.

    `values` are raw (parse_entry's or values_from_data's shape); `saved` says they are the record's own, so
    that queries may be raised on them. Blank rows are added for browsers without JavaScript. `exams`: the
    participant's registered exams, which an exam field offers and describes.
    """
    notes = _Notes(errors or {}, findings, queries, history or {})
    top_fields = []
    for spec in form.fields:
        condition = spec.show_if
        show_if = (condition.code, _condition_value(condition)) if condition else None
        shown = not condition or _holds(condition, values, values) or not is_empty(values.get(spec.code))
        top_fields.append(
            notes.field(
                spec,
                name=spec.code,
                path=spec.code,
                value=values.get(spec.code, raw_value(spec, None)),
                show_if=show_if,
                shown=shown,
                saved=saved,
                exams=exams,
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


def changes_by_path(form: FormDef, events: Iterable[Mapping], exams: Iterable = ()) -> dict[str, list[dict]]:
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
                    "old": value_text(form, change["field"], change["old"], exams),
                    "new": value_text(form, change["field"], change["new"], exams),
                }
            )
    return by_path


def value_text(form: FormDef, path: str, value, exams: Iterable = ()) -> str:
    """A stored value as text for the audit trail: choice labels, yes / no, the unit, an exam's description
    (one of `exams`); ∅ for none."""
    if is_empty(value):
        return "∅"
    spec = spec_of(form, path)
    if spec is not None:
        view = FieldView(spec=spec, name="", path=path, value=raw_value(spec, value), exams=tuple(exams))
        return view.display or "∅"
    if isinstance(value, list):
        return ", ".join(as_text(v) for v in value)
    return as_text(value)
