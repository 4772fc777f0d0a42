"""Form definitions: parsed from crf/forms/*.yaml, checked once, cached. See crf/forms/FORMAT.md."""

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from trial.i18n import LANGUAGES
from trial.levels import LEVELS

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"
TYPES = ("integer", "decimal", "date", "boolean", "choice", "multichoice", "text")
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
CHECK_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
RULES = (
    "not_before",
    "not_after",
    "in_values",
    "genant_consistent",
    "soft_range_by",
    "requires",
    "matches_rows",
    "not_together",
)
# Computed values, never typed. bmi reads the same form; treated and level_relation read the levels of another
# form of the participant (the procedure's treated levels), so they are computed with the check context.
DERIVATIONS = ("bmi", "treated", "level_relation")
RELATIONS = ("treated", "adjacent", "remote")  # level_relation's values, in this order
TEXT_MAX_LENGTH = 2000


class DefinitionError(ValueError):
    """A form definition that breaks FORMAT.md; the message names every problem."""


@dataclass(frozen=True)
class Choice:
    code: str
    label: dict


@dataclass(frozen=True)
class Condition:
    """`field equals value`; field is a code of the same scope or form.<code> for a top-level field."""

    field: str
    equals: object

    @property
    def top_level(self) -> bool:
        return self.field.startswith("form.")

    @property
    def code(self) -> str:
        return self.field.removeprefix("form.")


@dataclass(frozen=True)
class FieldDef:
    code: str
    type: str
    label: dict
    help: dict = field(default_factory=dict)
    unit: str = ""
    required: bool = False
    min: float | None = None
    max: float | None = None
    soft_min: float | None = None
    soft_max: float | None = None
    decimals: int | None = None
    choices: tuple[Choice, ...] = ()
    required_if: Condition | None = None
    show_if: Condition | None = None
    derived: dict | None = None

    @property
    def choice_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.choices)

    @property
    def derivation(self) -> tuple[str, dict] | None:
        """(name, arguments) of a derived field, e.g. ("treated", {"level": "level", "source": ...})."""
        if not self.derived:
            return None
        name = next(iter(self.derived))
        return name, self.derived[name]

    @property
    def source_form(self) -> str | None:
        """The other form a derivation reads (`source: procedure.levels.level` -> procedure), if any."""
        derivation = self.derivation
        if derivation is None or not isinstance(derivation[1].get("source"), str):
            return None
        return derivation[1]["source"].split(".", 1)[0]


@dataclass(frozen=True)
class GroupDef:
    code: str
    label: dict
    key: str
    fields: tuple[FieldDef, ...]
    min_rows: int = 0
    max_rows: int = 50

    def field(self, code: str) -> FieldDef | None:
        return next((f for f in self.fields if f.code == code), None)


@dataclass(frozen=True)
class CheckDef:
    code: str
    severity: str  # "soft" | "hard"
    field: str  # "code" or "group.code"
    rule: dict
    message: dict

    @property
    def rule_name(self) -> str:
        return next(iter(self.rule))


@dataclass(frozen=True)
class AdjudicationDef:
    """Rows of a group that open an adjudication case (see FORMAT.md, `adjudication`).

    A row opens a case when `when` holds for it and its `location` field has a value outside `exclude`; the
    case records the row's key (the level), that location and the form's `date` field.
    """

    group: str
    when: Condition
    location: str
    exclude: tuple[str, ...] = ()
    date: str = ""


@dataclass(frozen=True)
class FormDef:
    code: str
    version: str
    title: dict
    order: int
    fields: tuple[FieldDef, ...]
    groups: tuple[GroupDef, ...]
    checks: tuple[CheckDef, ...]
    adjudication: AdjudicationDef | None = None

    def field(self, code: str) -> FieldDef | None:
        return next((f for f in self.fields if f.code == code), None)

    def group(self, code: str) -> GroupDef | None:
        return next((g for g in self.groups if g.code == code), None)

    def resolve(self, path: str) -> tuple[GroupDef | None, FieldDef | None]:
        """The group (None for top level) and field named by "code" or "group.code"."""
        if "." in path:
            group_code, code = path.split(".", 1)
            group = self.group(group_code)
            return group, (group.field(code) if group else None)
        return None, self.field(path)


def _texts_ok(text) -> bool:
    return isinstance(text, dict) and all(
        isinstance(text.get(lang), str) and text[lang].strip() for lang in LANGUAGES
    )


def _condition(raw, where: str, errors: list[str]) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"field", "equals"}:
        errors.append(f"{where}: give {{field, equals}}")
        return None
    return Condition(field=str(raw["field"]), equals=raw["equals"])


def _field(raw, where: str, errors: list[str]) -> FieldDef | None:
    if not isinstance(raw, dict) or not CODE.match(str(raw.get("code", ""))):
        errors.append(f"{where}: a field needs a snake_case code")
        return None
    code = raw["code"]
    where = f"{where} {code}"
    if raw.get("type") not in TYPES:
        errors.append(f"{where}: type must be one of {', '.join(TYPES)}")
    if not _texts_ok(raw.get("label")):
        errors.append(f"{where}: label needs {' and '.join(LANGUAGES)}")
    if "help" in raw and not _texts_ok(raw["help"]):
        errors.append(f"{where}: help needs {' and '.join(LANGUAGES)}")
    choices: tuple[Choice, ...] = ()
    if raw.get("type") in ("choice", "multichoice"):
        if raw.get("choices") == "levels":
            choices = tuple(Choice(level, {"en": level, "zh-hans": level}) for level in LEVELS)
        elif isinstance(raw.get("choices"), list) and raw["choices"]:
            choices = tuple(
                Choice(str(c.get("code")), c.get("label")) for c in raw["choices"] if isinstance(c, dict)
            )
            if len(choices) != len(raw["choices"]) or any(
                not _texts_ok(c.label) or not c.code for c in choices
            ):
                errors.append(f"{where}: every choice needs a code and a label in both languages")
            if len({c.code for c in choices}) != len(choices):
                errors.append(f"{where}: duplicate choice code")
        else:
            errors.append(f"{where}: a choice field needs choices")
    bounds = [raw.get(k) for k in ("min", "soft_min", "soft_max", "max")]
    if any(b is not None and (isinstance(b, bool) or not isinstance(b, int | float)) for b in bounds):
        errors.append(f"{where}: bounds must be numbers")
    else:
        present = [b for b in bounds if b is not None]
        if present != sorted(present):
            errors.append(f"{where}: bounds must satisfy min <= soft_min <= soft_max <= max")
    derived = raw.get("derived")
    if derived is not None and (
        not isinstance(derived, dict)
        or len(derived) != 1
        or set(derived) - set(DERIVATIONS)
        or not isinstance(next(iter(derived.values())), dict)
    ):
        errors.append(f"{where}: derived must be one of {', '.join(DERIVATIONS)}, with its arguments")
        derived = None
    if derived is not None:
        _check_derivation(raw, derived, where, errors)
    return FieldDef(
        code=code,
        type=raw.get("type", "text"),
        label=raw.get("label") or {},
        help=raw.get("help") or {},
        unit=str(raw.get("unit") or ""),
        required=bool(raw.get("required", False)),
        min=raw.get("min"),
        max=raw.get("max"),
        soft_min=raw.get("soft_min"),
        soft_max=raw.get("soft_max"),
        decimals=raw.get("decimals"),
        choices=choices,
        required_if=_condition(raw.get("required_if"), f"{where} required_if", errors),
        show_if=_condition(raw.get("show_if"), f"{where} show_if", errors),
        derived=derived,
    )


SOURCE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")  # form.group.field


def _check_derivation(raw: dict, derived: dict, where: str, errors: list[str]) -> None:
    """The arguments and the type each derivation needs (the fields they name are checked per scope later)."""
    name, args = next(iter(derived.items()))
    if name == "bmi":
        if set(args) != {"weight", "height_cm"}:
            errors.append(f"{where}: bmi needs {{weight, height_cm}}")
        return
    if set(args) != {"level", "source"} or not SOURCE.match(str(args.get("source", ""))):
        errors.append(f"{where}: {name} needs {{level: <field>, source: <form>.<group>.<field>}}")
    if name == "treated" and raw.get("type") != "boolean":
        errors.append(f"{where}: treated is a boolean")
    if name == "level_relation" and (
        raw.get("type") != "choice"
        or not isinstance(raw.get("choices"), list)
        or [c.get("code") for c in raw["choices"] if isinstance(c, dict)] != list(RELATIONS)
    ):
        errors.append(f"{where}: level_relation is a choice of {', '.join(RELATIONS)}, in this order")


def _adjudication(raw, form: FormDef, errors: list[str]) -> AdjudicationDef | None:
    """`adjudication: {group, when: {field, equals}, location, exclude, date}`, checked against the form."""
    if raw is None:
        return None
    where = f"{form.code} adjudication"
    if (
        not isinstance(raw, dict)
        or not {"group", "when", "location"} <= set(raw)
        or set(raw)
        - {
            "group",
            "when",
            "location",
            "exclude",
            "date",
        }
    ):
        errors.append(f"{where}: give {{group, when, location}} and optionally exclude and date")
        return None
    group = form.group(str(raw["group"]))
    when = _condition(raw["when"], f"{where} when", errors)
    exclude = raw.get("exclude") or []
    if group is None:
        errors.append(f"{where}: group {raw['group']!r} does not exist")
        return None
    if when is not None and group.field(when.code) is None:
        errors.append(f"{where}: when refers to unknown field {when.field}")
    location = group.field(str(raw["location"]))
    if location is None or location.type != "choice":
        errors.append(f"{where}: location must name a choice field of the group")
    elif not isinstance(exclude, list) or set(map(str, exclude)) - set(location.choice_codes):
        errors.append(f"{where}: exclude lists choices of {location.code}")
    date = str(raw.get("date") or "")
    if date and (form.field(date) is None or form.field(date).type != "date"):
        errors.append(f"{where}: date must name a top-level date field")
    return AdjudicationDef(
        group=group.code,
        when=when or Condition(field="", equals=None),
        location=str(raw["location"]),
        exclude=tuple(str(e) for e in exclude) if isinstance(exclude, list) else (),
        date=date,
    )


def _check_rule(check: CheckDef, form: FormDef, where: str, errors: list[str]) -> None:
    """The arguments of the rules that name other fields of the same form."""
    arg = check.rule[check.rule_name]
    group, _spec = form.resolve(check.field)
    if check.rule_name == "matches_rows":
        target = form.group(str(arg.get("group"))) if isinstance(arg, dict) else None
        if (
            target is None
            or set(arg) != {"group", "field", "equals"}
            or target.field(str(arg["field"])) is None
        ):
            errors.append(f"{where}: matches_rows needs {{group, field, equals}} naming a field of a group")
    elif check.rule_name == "not_together":
        if not isinstance(arg, dict) or set(arg) != {"value", "field", "equals"}:
            errors.append(f"{where}: not_together needs {{value, field, equals}}")
            return
        code = str(arg["field"])
        scope = group if group is not None and not code.startswith("form.") else None
        target = scope.field(code) if scope else form.field(code.removeprefix("form."))
        if target is None:
            errors.append(f"{where}: not_together refers to unknown field {code}")


def parse_form(text: str, source: str = "form") -> FormDef:
    """Parse and check one definition; raises DefinitionError listing every problem."""
    raw = yaml.safe_load(text)
    errors: list[str] = []
    if not isinstance(raw, dict):
        raise DefinitionError(f"{source}: a form definition is a mapping")
    if not CODE.match(str(raw.get("code", ""))):
        errors.append(f"{source}: code must be snake_case")
    if not isinstance(raw.get("version"), str):
        errors.append(f"{source}: version must be a quoted string")
    if not _texts_ok(raw.get("title")):
        errors.append(f"{source}: title needs {' and '.join(LANGUAGES)}")
    fields = tuple(
        f for i, r in enumerate(raw.get("fields") or []) if (f := _field(r, f"{source} fields[{i}]", errors))
    )
    groups = []
    for i, g in enumerate(raw.get("groups") or []):
        where = f"{source} groups[{i}]"
        if not isinstance(g, dict) or not CODE.match(str(g.get("code", ""))):
            errors.append(f"{where}: a group needs a snake_case code")
            continue
        group_fields = tuple(
            f for j, r in enumerate(g.get("fields") or []) if (f := _field(r, f"{where} fields[{j}]", errors))
        )
        if not _texts_ok(g.get("label")):
            errors.append(f"{where}: label needs {' and '.join(LANGUAGES)}")
        if g.get("key") not in {f.code for f in group_fields}:
            errors.append(f"{where}: key must name one of its fields")
        groups.append(
            GroupDef(
                code=g["code"],
                label=g.get("label") or {},
                key=str(g.get("key")),
                fields=group_fields,
                min_rows=int(g.get("min_rows", 0)),
                max_rows=int(g.get("max_rows", 50)),
            )
        )
    codes = [f.code for f in fields] + [g.code for g in groups]
    if len(set(codes)) != len(codes):
        errors.append(f"{source}: field and group codes must be unique")
    for group in groups:
        if len({f.code for f in group.fields}) != len(group.fields):
            errors.append(f"{source} group {group.code}: duplicate field code")
    form = FormDef(
        code=str(raw.get("code")),
        version=str(raw.get("version")),
        title=raw.get("title") or {},
        order=int(raw.get("order", 99)),
        fields=fields,
        groups=tuple(groups),
        checks=(),
    )
    checks = []
    for i, c in enumerate(raw.get("checks") or []):
        where = f"{source} checks[{i}]"
        if not isinstance(c, dict) or not CHECK_CODE.match(str(c.get("code", ""))):
            errors.append(f"{where}: a check needs an UPPER_SNAKE code")
            continue
        rule = c.get("rule")
        if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in RULES:
            errors.append(f"{where}: rule must be one of {', '.join(RULES)}")
            continue
        if c.get("severity") not in ("soft", "hard"):
            errors.append(f"{where}: severity must be soft or hard")
        if form.resolve(str(c.get("field", "")))[1] is None:
            errors.append(f"{where}: field {c.get('field')!r} does not exist")
            continue
        if not _texts_ok(c.get("message")):
            errors.append(f"{where}: message needs {' and '.join(LANGUAGES)}")
        check = CheckDef(
            code=c["code"],
            severity=c.get("severity", "soft"),
            field=str(c.get("field")),
            rule=rule,
            message=c.get("message") or {},
        )
        _check_rule(check, form, where, errors)
        checks.append(check)
    for scope, scope_fields in [(None, fields)] + [(g, g.fields) for g in groups]:
        for f in scope_fields:
            for cond in (f.required_if, f.show_if):
                if cond is None:
                    continue
                target = (
                    form.field(cond.code) if (cond.top_level or scope is None) else scope.field(cond.code)
                )
                if target is None:
                    errors.append(f"{source} field {f.code}: condition refers to unknown field {cond.field}")
            derivation = f.derivation
            if derivation is not None:
                names = [v for k, v in derivation[1].items() if k != "source"]
                scope_codes = {s.code for s in scope_fields}
                if any(str(n) not in scope_codes for n in names):
                    errors.append(f"{source} field {f.code}: derived from a field not in its scope")
    adjudication = _adjudication(raw.get("adjudication"), form, errors)
    if len({c.code for c in checks}) != len(checks):
        errors.append(f"{source}: duplicate check code")
    if errors:
        raise DefinitionError("; ".join(errors))
    return FormDef(
        code=form.code,
        version=form.version,
        title=form.title,
        order=form.order,
        fields=fields,
        groups=tuple(groups),
        checks=tuple(checks),
        adjudication=adjudication,
    )


def all_fields(form: FormDef):
    """(group or None, field) for every field of a form, top level first."""
    for spec in form.fields:
        yield None, spec
    for group in form.groups:
        for spec in group.fields:
            yield group, spec


def check_sources(forms: dict[str, FormDef]) -> None:
    """Derivations that read another form must name a field of a group of a form that exists."""
    errors = []
    for form in forms.values():
        for _group, spec in all_fields(form):
            if spec.source_form is None:
                continue
            _form, group_code, code = spec.derivation[1]["source"].split(".")
            source = forms.get(spec.source_form)
            group = source.group(group_code) if source else None
            if group is None or group.field(code) is None or spec.source_form == form.code:
                errors.append(
                    f"{form.code} field {spec.code}: source {spec.derivation[1]['source']} not found"
                )
    if errors:
        raise DefinitionError("; ".join(errors))


@functools.cache
def form_definitions() -> dict[str, FormDef]:
    """Every shipped form definition by code, read on first use (never at import time)."""
    forms = {}
    for path in sorted(FORMS_DIR.glob("*.yaml")):
        form = parse_form(path.read_text(encoding="utf-8"), source=path.name)
        forms[form.code] = form
    check_sources(forms)
    return dict(sorted(forms.items(), key=lambda item: item[1].order))


def form_definition(code: str) -> FormDef | None:
    return form_definitions().get(code)
