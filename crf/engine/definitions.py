"""Form definitions: read from crf/forms/*.yaml, checked against their schema (crf/engine/schema.py) once,
cached. See crf/forms/FORMAT.md. The engine, the pages and the data dictionary use the frozen definitions
below, built from the validated files."""

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from trial.schema import problems, where
from trial.yamltext import yaml_load

from . import schema
from .schema import DERIVATIONS, RELATIONS, RULES, TYPES  # noqa: F401 (the engine's vocabulary, declared there)

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"
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
    modalities: tuple[str, ...] = ()  # an exam field's: the DICOM modalities it may link

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
class PacketDef:
    """What a blinded adjudicator is shown of a form (see FORMAT.md, `packet`): its exam date, these
    top-level fields and these fields of the group's rows; nothing else of it."""

    date: str
    fields: tuple[str, ...] = ()
    group: str = ""
    rows: tuple[str, ...] = ()


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
    packet: PacketDef | None = None

    def field(self, code: str) -> FieldDef | None:
        return next((f for f in self.fields if f.code == code), None)

    def group(self, code: str) -> GroupDef | None:
        return next((g for g in self.groups if g.code == code), None)

    @property
    def exam_fields(self) -> tuple[FieldDef, ...]:
        """The top-level fields that link an imaging exam (type `exam`); groups have none."""
        return tuple(f for f in self.fields if f.type == "exam")

    def resolve(self, path: str) -> tuple[GroupDef | None, FieldDef | None]:
        """The group (None for top level) and field named by "code" or "group.code"."""
        if "." in path:
            group_code, code = path.split(".", 1)
            group = self.group(group_code)
            return group, (group.field(code) if group else None)
        return None, self.field(path)


def _condition(spec: schema.Condition | None) -> Condition | None:
    return None if spec is None else Condition(field=spec.field, equals=spec.equals)


def _field(spec: schema.FormField) -> FieldDef:
    return FieldDef(
        code=spec.code,
        type=spec.type,
        label=spec.label,
        help=spec.help or {},
        unit=spec.unit,
        required=spec.required,
        min=spec.min,
        max=spec.max,
        soft_min=spec.soft_min,
        soft_max=spec.soft_max,
        decimals=spec.decimals,
        choices=tuple(Choice(code=c.code, label=c.label) for c in spec.choices or ()),
        required_if=_condition(spec.required_if),
        show_if=_condition(spec.show_if),
        derived=spec.derived.model_dump(exclude_none=True) if spec.derived else None,
        modalities=tuple(spec.modalities or ()),
    )


def _definition(spec: schema.Form) -> FormDef:
    adjudication = spec.adjudication
    return FormDef(
        code=spec.code,
        version=spec.version,
        title=spec.title,
        order=spec.order,
        fields=tuple(_field(f) for f in spec.fields),
        groups=tuple(
            GroupDef(
                code=g.code,
                label=g.label,
                key=g.key,
                fields=tuple(_field(f) for f in g.fields),
                min_rows=g.min_rows,
                max_rows=g.max_rows,
            )
            for g in spec.groups
        ),
        checks=tuple(
            CheckDef(
                code=c.code,
                severity=c.severity,
                field=c.field,
                rule=c.rule.model_dump(exclude_none=True),
                message=c.message,
            )
            for c in spec.checks
        ),
        adjudication=None
        if adjudication is None
        else AdjudicationDef(
            group=adjudication.group,
            when=_condition(adjudication.when),
            location=adjudication.location,
            exclude=tuple(adjudication.exclude),
            date=adjudication.date or "",
        ),
        packet=None
        if spec.packet is None
        else PacketDef(
            date=spec.packet.date,
            fields=tuple(spec.packet.fields),
            group=spec.packet.group or "",
            rows=tuple(spec.packet.rows),
        ),
    )


def _read(text: str, source: str) -> tuple[schema.Form, dict]:
    """A form file validated against its schema, and its data as written (to name places in messages)."""
    try:
        data = yaml_load(text)
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(f"{source}: a form definition is a mapping")
    try:
        return schema.Form.model_validate(data), data
    except ValidationError as exc:
        raise DefinitionError("; ".join(f"{source}: {line}" for line in problems(exc, data))) from None


def parse_form(text: str, source: str = "form") -> FormDef:
    """Parse and check one definition; raises DefinitionError listing every problem, each naming the file and
    the place in it. References to other forms are checked by form_definitions()."""
    return _definition(_read(text, source)[0])


def all_fields(form: FormDef):
    """(group or None, field) for every field of a form, top level first."""
    for spec in form.fields:
        yield None, spec
    for group in form.groups:
        for spec in group.fields:
            yield group, spec


def _cross_form_problems(forms: dict[str, schema.Form]) -> list[tuple[str, tuple, str]]:
    """(form code, location, problem) of each reference to another form that names nothing: a derivation's
    source, an in_values check, a `form:<form>.<field>` date."""
    found = []
    for form in forms.values():
        scopes = [(("fields",), form.fields)] + [
            (("groups", i, "fields"), g.fields) for i, g in enumerate(form.groups)
        ]
        for loc, fields in scopes:
            for index, spec in enumerate(fields):
                if spec.derivation is None or not hasattr(spec.derivation[1], "source"):
                    continue
                source = spec.derivation[1].source
                other_code, group_code, code = source.split(".")
                other = forms.get(other_code)
                group = other.group(group_code) if other and other_code != form.code else None
                if group is None or group.field(code) is None:
                    found.append((form.code, (*loc, index, "derived"), f"source {source} not found"))
        for index, check in enumerate(form.checks):
            name = check.rule.name
            arg = getattr(check.rule, name)
            at = ("checks", index, "rule", name)
            if name == "in_values":
                other = forms.get(arg.form)
                group_code, _dot, code = arg.field.partition(".")
                group = other.group(group_code) if other and arg.form != form.code else None
                if group is None or group.field(code) is None:
                    found.append((form.code, at, f"no field {arg.field} in another form {arg.form!r}"))
            elif name in ("not_before", "not_after") and arg.startswith("form:"):
                other_code, _dot, code = arg.removeprefix("form:").partition(".")
                other = forms.get(other_code)
                date = other.field(code) if other and other_code != form.code else None
                if date is None or date.type != "date":
                    found.append(
                        (
                            form.code,
                            at,
                            f"{arg.removeprefix('form:')} is not a top-level date field of another form",
                        )
                    )
    return found


@functools.cache
def form_definitions() -> dict[str, FormDef]:
    """Every shipped form definition by code, read on first use (never at import time).

    Raises DefinitionError listing every problem of every file, each naming its file and place.
    """
    read, errors = {}, []
    for path in sorted(FORMS_DIR.glob("*.yaml")):
        try:
            spec, data = _read(path.read_text(encoding="utf-8"), path.name)
        except DefinitionError as exc:
            errors.append(str(exc))
            continue
        if spec.code in read:
            errors.append(f"{path.name}: code {spec.code!r} is also the code of {read[spec.code][1]}")
        read.setdefault(spec.code, (spec, path.name, data))
    if errors:  # references to other forms are judged once every form has its shape
        raise DefinitionError("; ".join(errors))
    for code, loc, message in _cross_form_problems({code: entry[0] for code, entry in read.items()}):
        _spec, name, data = read[code]
        errors.append(f"{name}: {where(loc, data)}: {message}")
    if errors:
        raise DefinitionError("; ".join(errors))
    forms = {code: _definition(spec) for code, (spec, _name, _data) in read.items()}
    return dict(sorted(forms.items(), key=lambda item: item[1].order))


def form_definition(code: str) -> FormDef | None:
    return form_definitions().get(code)
