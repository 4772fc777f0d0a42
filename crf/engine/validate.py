"""Value validation and edit checks for one form's data. Pure functions: the caller supplies the context.

Three kinds of finding:
- errors: the value cannot be stored (wrong type, not a choice, outside the hard range, unknown field);
  a save is refused with these (400).
- incomplete: the form cannot be completed yet (a required field is empty, a hard check fails, too few rows).
- warnings: soft checks and soft ranges; the data is saved and each warning raises a data query.

Paths name a value: "operative_time" at the top level, "levels[L1].cement_volume" in the row keyed L1.
"""

import datetime
import decimal
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from trial.i18n import localized
from trial.levels import is_level, level_index

from . import messages
from .definitions import TEXT_MAX_LENGTH, CheckDef, FieldDef, FormDef, GroupDef
from .exams import EXAM_RULES, clean_exam, exam_rule_fails

EMPTY = (None, "", [])
TRUE_WORDS = {"true", "yes", "1", "on"}
FALSE_WORDS = {"false", "no", "0", "off"}


@dataclass(frozen=True)
class Warning:
    """A soft finding: its check, the value it is about, and its message in the active language, with the
    same message as data (crf.engine.messages: a code and its parameters) for texts stored to be read later
    in another language."""

    check: str  # check code, or RANGE_<FIELD> for a soft range
    path: str
    message: str
    message_code: str = ""
    message_params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CheckContext:
    """What checks may refer to besides the form's own data."""

    today: datetime.date
    consent_date: datetime.date | None = None
    enrollment_date: datetime.date | None = None
    other_forms: Mapping[str, Mapping] = field(default_factory=dict)
    # The visit that collects the form (None for a participant-level form) and the exams its data links.
    visit_kind: str | None = None
    visit_window: tuple[datetime.date, datetime.date] | None = None
    exams: Mapping[int, object] = field(default_factory=dict)  # id -> trial.eligibility.ExamFact


@dataclass
class Findings:
    errors: dict[str, list[str]] = field(default_factory=dict)
    incomplete: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[Warning] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def missing(self, path: str, message: str) -> None:
        self.incomplete.setdefault(path, []).append(message)


def row_path(group: GroupDef, row: Mapping, code: str) -> str:
    return f"{group.code}[{row.get(group.key)}].{code}"


# --- values ---------------------------------------------------------------------------------------------


NUMBER = re.compile(r"^[+-]?[0-9]{1,15}(\.[0-9]{1,15})?$")  # ASCII digits, no exponent: bounded work
MAX_MAGNITUDE = 10**15


def _number(spec: FieldDef, value):
    """A number from JSON or a form field. Text must be plain decimal notation; its size is bounded before any
    arithmetic, so "1e400000" costs nothing (Decimal-to-int of huge exponents takes seconds)."""
    if isinstance(value, bool):
        raise ValueError(_("Enter a number."))
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) >= MAX_MAGNITUDE:
            raise ValueError(_("Enter a number."))
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str) or not NUMBER.match(value.strip()):
        raise ValueError(_("Enter a number."))
    number = decimal.Decimal(value.strip())
    if spec.type == "integer":
        if number != number.to_integral_value():
            raise ValueError(_("Enter a whole number."))
        return int(number)
    places = spec.decimals if spec.decimals is not None else 3
    if -number.normalize().as_tuple().exponent > places:  # "4.50" has one decimal place, not two
        raise ValueError(_("Use at most %(places)s decimal places.") % {"places": places})
    return float(number)


def clean_value(spec: FieldDef, value):
    """The stored form of a value, or ValueError with the message to show. Empty values are None."""
    if value in EMPTY:
        return None
    if spec.type in ("integer", "decimal"):
        number = _number(spec, value)
        if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
            raise ValueError(
                _("Must be between %(min)s and %(max)s %(unit)s.")
                % {"min": spec.min, "max": spec.max, "unit": spec.unit}
            )
        return number
    if spec.type == "exam":
        return clean_exam(value)
    if spec.type == "date":
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
        raise ValueError(_("Answer yes or no."))
    if spec.type == "choice":
        if str(value) not in spec.choice_codes:
            raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(spec.choice_codes)})
        return str(value)
    if spec.type == "multichoice":
        values = value if isinstance(value, list) else [value]
        codes = [str(v) for v in values if v not in EMPTY]
        unknown = [c for c in codes if c not in spec.choice_codes]
        if unknown or len(set(codes)) != len(codes):
            raise ValueError(
                _("Choose from: %(choices)s, each once.") % {"choices": ", ".join(spec.choice_codes)}
            )
        return [c for c in spec.choice_codes if c in codes] or None  # definition order, stable diffs
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(_("Enter text."))
    text = str(value).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_("Text is too long or has invalid characters.")) from None
    if "\x00" in text or len(text) > TEXT_MAX_LENGTH:
        raise ValueError(_("Text is too long or has invalid characters."))
    return text or None


def _source_levels(spec: FieldDef, context: CheckContext | None) -> set[str] | None:
    """The levels in the other form a derivation reads (procedure.levels.level: the treated levels); None when
    that form has no data, so the derived value stays unknown rather than wrongly "not treated"."""
    if context is None:
        return None
    form_code, group_code, code = spec.derivation[1]["source"].split(".")
    other = context.other_forms.get(form_code)
    if not other:
        return None
    return {row.get(code) for row in other.get(group_code) or [] if is_level(row.get(code))}


def relation_to(level: str, treated: set[str]) -> str | None:
    """treated, adjacent (within one level of a treated level; T12 and L1 are neighbours) or remote.

    shared/domain.md: adjacent = within one level of a treated (cemented) level; remote = further away.

    None when nothing is treated: there is no reference to be adjacent to.
    """
    if not is_level(level) or not treated:
        return None
    if level in treated:
        return "treated"
    distance = min(abs(level_index(level) - level_index(other)) for other in treated)
    return "adjacent" if distance == 1 else "remote"


def _derived_value(spec: FieldDef, scope: Mapping, context: CheckContext | None):
    name, args = spec.derivation
    if name == "bmi":
        weight, height = scope.get(args["weight"]), scope.get(args["height_cm"])
        return round(weight / (height / 100) ** 2, spec.decimals or 1) if weight and height else None
    treated = _source_levels(spec, context)
    level = scope.get(args["level"])
    if treated is None or not is_level(level):
        return None
    if name == "treated":
        return level in treated
    return relation_to(level, treated)


def _derive(form: FormDef, data: dict, context: CheckContext | None) -> None:
    """Fill in the derived values in place. Without a context only those that read the form itself (BMI)."""
    scopes = [(form.fields, data)] + [
        (group.fields, row) for group in form.groups for row in data.get(group.code) or []
    ]
    for specs, scope in scopes:
        for spec in specs:
            if not spec.derived or (context is None and spec.source_form is not None):
                continue
            value = _derived_value(spec, scope, context)
            if value is None:
                scope.pop(spec.code, None)
            else:
                scope[spec.code] = value


def typed_values(form: FormDef, data: Mapping) -> dict:
    """Stored data without its derived values: what a person types, and what a client sends back to save it
    again unchanged (a typed derived value is refused)."""
    derived = {spec.code for spec in form.fields if spec.derived}
    rows = {group.code: {spec.code for spec in group.fields if spec.derived} for group in form.groups}
    typed = {}
    for key, value in data.items():
        if key in derived:
            continue
        if key in rows and isinstance(value, list):
            value = [{k: v for k, v in row.items() if k not in rows[key]} for row in value]
        typed[key] = value
    return typed


def derive(form: FormDef, data: Mapping, context: CheckContext) -> dict:
    """Clean data with every derived value computed from it and from the participant's other forms.

    A copy: the caller compares it with what is stored to know whether anything changed.
    """
    copy = {
        key: [dict(row) for row in value] if form.group(key) and isinstance(value, list) else value
        for key, value in data.items()
    }
    _derive(form, copy, context)
    return copy


def _clean_fields(specs, raw: Mapping, findings: Findings, path_of) -> dict:
    clean = {}
    known = {spec.code for spec in specs}
    for key in raw:
        if key not in known:
            findings.error(path_of(str(key)), _("Unknown field."))
    for spec in specs:
        if spec.derived:
            if raw.get(spec.code) not in EMPTY:
                findings.error(path_of(spec.code), _("This value is computed by the form: leave it out."))
            continue
        try:
            value = clean_value(spec, raw.get(spec.code))
        except ValueError as exc:
            findings.error(path_of(spec.code), str(exc))
            continue
        if value is not None:
            clean[spec.code] = value
    return clean


def _keys_ok(mapping: Mapping) -> bool:
    """Keys are short strings that encode as UTF-8 (a lone surrogate would break the JSON answer)."""
    for key in mapping:
        if not isinstance(key, str) or len(key) > 64:
            return False
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


def clean_data(form: FormDef, raw: object) -> tuple[dict, Findings]:
    """Normalise submitted data: stored values, groups as lists of rows keyed by their key field."""
    findings = Findings()
    if not isinstance(raw, Mapping):
        findings.error("data", _("The form data must be an object of field values."))
        return {}, findings
    if not _keys_ok(raw):
        findings.error("data", _("Field names must be short plain text."))
        return {}, findings
    top = {k: v for k, v in raw.items() if form.group(k) is None}
    data = _clean_fields(form.fields, top, findings, lambda code: code)
    for group in form.groups:
        rows = raw.get(group.code)
        if rows in EMPTY:
            continue
        if not isinstance(rows, list) or not all(isinstance(r, Mapping) and _keys_ok(r) for r in rows):
            findings.error(group.code, _("Rows are a list of objects."))
            continue
        if len(rows) > group.max_rows:
            findings.error(group.code, _("At most %(n)s rows.") % {"n": group.max_rows})
        cleaned, keys = [], set()
        for index, row in enumerate(rows):
            key = row.get(group.key)
            key_spec = group.field(group.key)
            # A path names the row by its key only when the key is a valid value: never echo raw input.
            label = key if key_spec.choices and key in key_spec.choice_codes else f"#{index + 1}"
            prefix = f"{group.code}[{label}]"
            row_data = _clean_fields(
                group.fields, row, findings, lambda code, prefix=prefix: f"{prefix}.{code}"
            )
            if row_data.get(group.key) is None:
                findings.error(f"{group.code}[{label}].{group.key}", _("Every row needs this value."))
            elif row_data[group.key] in keys:
                findings.error(f"{group.code}[{label}].{group.key}", _("Each row needs a different value."))
            keys.add(row_data.get(group.key))
            cleaned.append(row_data)
        data[group.code] = cleaned
    _derive(form, data, None)
    data = {k: v for k, v in data.items() if v not in EMPTY}
    _check_visibility(form, data, findings)
    return data, findings


def _holds(condition, scope: Mapping, top: Mapping) -> bool:
    value = (top if condition.top_level else scope).get(condition.code)
    return value == condition.equals or (isinstance(value, list) and condition.equals in value)


def _scopes(form: FormDef, data: Mapping):
    """(group or None, specs, row, path_of) for the top level and every row."""
    yield None, form.fields, data, (lambda code: code)
    for group in form.groups:
        for row in data.get(group.code, []):
            yield group, group.fields, row, (lambda code, g=group, r=row: row_path(g, r, code))


def _condition_words(form: FormDef, specs, condition) -> dict[str, str]:
    """The field and value of a condition as the form shows them: labels, yes / no, a choice's label."""
    spec = (
        form.field(condition.code)
        if condition.top_level
        else next((s for s in specs if s.code == condition.code), None)
    )
    if spec is None:
        return {"field": condition.code, "value": str(condition.equals)}
    value = condition.equals
    if spec.type == "boolean":
        shown = _("Yes") if value else _("No")
    else:
        choice = next((c for c in spec.choices if c.code == str(value)), None)
        shown = localized(choice.label) if choice else str(value)
    return {"field": localized(spec.label), "value": shown}


def _check_visibility(form: FormDef, data: Mapping, findings: Findings) -> None:
    for _group, specs, row, path_of in _scopes(form, data):
        for spec in specs:
            if spec.show_if and row.get(spec.code) is not None and not _holds(spec.show_if, row, data):
                findings.error(
                    path_of(spec.code),
                    _("Leave this empty unless “%(field)s” is “%(value)s”.")
                    % _condition_words(form, specs, spec.show_if),
                )


# --- completeness and checks --------------------------------------------------------------------------


def _reference_date(ref: str, data: Mapping, context: CheckContext) -> datetime.date | None:
    if ref == "today":
        return context.today
    if ref == "participant.consent_date":
        return context.consent_date
    if ref == "participant.enrollment_date":
        return context.enrollment_date
    value = None
    if ref.startswith("field:"):
        value = data.get(ref.removeprefix("field:"))
    elif ref.startswith("form:"):
        form_code, _dot, code = ref.removeprefix("form:").partition(".")
        value = (context.other_forms.get(form_code) or {}).get(code)
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def genant_grade_fits(grade: int, height_loss: float) -> bool:
    """Genant: 0 < 20%, 1 20-25%, 2 25-40%, 3 > 40%. A loss exactly on a bound (20, 25, 40) fits both."""
    bounds = {0: (0, 20), 1: (20, 25), 2: (25, 40), 3: (40, 100)}
    low, high = bounds.get(int(grade), (None, None))
    return low is not None and low <= height_loss <= high


def _rule_fails(check: CheckDef, value, row: Mapping, data: Mapping, context: CheckContext) -> bool | None:
    """True when the rule is broken, False when it holds, None when its inputs are missing."""
    name, arg = check.rule_name, check.rule[check.rule_name]
    if name in EXAM_RULES:
        return exam_rule_fails(name, arg, value, data, context)
    if name in ("not_before", "not_after"):
        ref = _reference_date(str(arg), data, context)
        if ref is None or value is None:
            return None
        day = datetime.date.fromisoformat(value)
        return day < ref if name == "not_before" else day > ref
    if name == "in_values":
        other = context.other_forms.get(arg["form"])
        if not other or value is None:
            return None
        group_code, _dot, code = arg["field"].partition(".")
        return value not in {r.get(code) for r in other.get(group_code, [])}
    if name == "genant_consistent":
        loss = row.get(arg["height_loss"])
        if value is None or loss is None:
            return None
        return not genant_grade_fits(int(value), float(loss))
    if name == "soft_range_by":
        ref_field = str(arg["field"])
        selector = (
            data.get(ref_field.removeprefix("form.")) if ref_field.startswith("form.") else row.get(ref_field)
        )
        bounds = arg["ranges"].get(str(selector)) if selector is not None else None
        if bounds is None or value is None:
            return None
        return not bounds[0] <= value <= bounds[1]
    if name == "requires":
        if value is None:
            return False
        source = data if str(arg["field"]).startswith("form.") else row
        return source.get(str(arg["field"]).removeprefix("form.")) != arg["equals"]
    if name == "matches_rows":
        if value is None:
            return None
        return bool(value) != any(r.get(arg["field"]) == arg["equals"] for r in data.get(arg["group"]) or [])
    if name == "not_together":
        source = data if str(arg["field"]).startswith("form.") else row
        other = source.get(str(arg["field"]).removeprefix("form."))
        if value is None or other is None:
            return None
        return value == arg["value"] and other == arg["equals"]
    return None


def _soft_range_params(spec: FieldDef, value) -> dict | None:
    """The soft-range message's parameters when the value is outside the expected range, else None."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    low, high = spec.soft_min, spec.soft_max
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    return messages.soft_range_params(value=value, unit=spec.unit, low=low, high=high)


def evaluate(form: FormDef, data: Mapping, context: CheckContext) -> Findings:
    """Completeness (required, rows, hard checks) and warnings (soft ranges, soft checks) of clean data."""
    findings = Findings()
    for _group, specs, row, path_of in _scopes(form, data):
        for spec in specs:
            value = row.get(spec.code)
            required = spec.required or (spec.required_if is not None and _holds(spec.required_if, row, data))
            if spec.show_if and not _holds(spec.show_if, row, data):
                required = False
            if required and value is None and not spec.derived:
                findings.missing(path_of(spec.code), _("Required to complete the form."))
            params = _soft_range_params(spec, value)
            if params is not None:
                findings.warnings.append(
                    Warning(
                        check=f"RANGE_{spec.code.upper()}",
                        path=path_of(spec.code),
                        message=messages.message_text(messages.SOFT_RANGE, params),
                        message_code=messages.SOFT_RANGE,
                        message_params=params,
                    )
                )
    for group in form.groups:
        if len(data.get(group.code, [])) < group.min_rows:
            findings.missing(group.code, _("At least %(n)s row(s) needed.") % {"n": group.min_rows})
    for check in form.checks:
        group, spec = form.resolve(check.field)
        rows = (
            [(data, lambda code: code)]
            if group is None
            else [
                (row, lambda code, r=row, g=group: row_path(g, r, code)) for row in data.get(group.code, [])
            ]
        )
        for row, path_of in rows:
            if _rule_fails(check, row.get(spec.code), row, data, context):
                message = localized(check.message)
                if check.severity == "hard":
                    findings.missing(path_of(spec.code), message)
                else:
                    findings.warnings.append(
                        Warning(
                            check=check.code,
                            path=path_of(spec.code),
                            message=message,
                            message_code=messages.CHECK,
                            message_params=messages.check_params(form=form.code, check=check.code),
                        )
                    )
    return findings
