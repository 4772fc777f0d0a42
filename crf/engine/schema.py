"""The schema of a CRF form file (crf/forms/FORMAT.md), declared as strict models.

The models say what a file may contain: keys, types, codes, texts in every language, the arguments of each
derivation and check rule. Their validators say how its parts refer to each other within the file (a
check's field exists, a show_if names a field of its scope...). References to other forms are checked when
every form is read (crf/engine/definitions.py), which builds the engine's definitions from these models.
"""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WrapValidator, model_validator
from pydantic_core import PydanticCustomError

from trial.levels import LEVELS
from trial.schema import (
    Number,
    Scalar,
    StrictModel,
    Text,
    code,
    distinct,
    fail_if,
    problem,
    says,
    shaped,
    unique,
)

from .exam_schema import ExamLinkedAt, ExamWindowArg, Modalities, exam_problems

TYPES = ("integer", "decimal", "date", "boolean", "choice", "multichoice", "text", "exam")
CHOICE_TYPES = ("choice", "multichoice")
NUMBER_TYPES = ("integer", "decimal")
RELATIONS = ("treated", "adjacent", "remote")  # level_relation's values, in this order
SNAKE = "[a-z][a-z0-9_]*"
CODE = rf"^{SNAKE}$"
CHECK_CODE = r"^[A-Z][A-Z0-9_]*$"
SOURCE = rf"^{SNAKE}\.{SNAKE}\.{SNAKE}$"  # form.group.field
# A date a not_before / not_after rule compares with (validate.py, _reference_date).
DATE_REF = (
    rf"^(today|participant\.consent_date|participant\.enrollment_date|field:{SNAKE}|form:{SNAKE}\.{SNAKE})$"
)
DATE_REF_WORDS = (
    "must be today, participant.consent_date, participant.enrollment_date, "
    "field:<code> or form:<form>.<field>"
)

Code = code(CODE, "procedure_date", rule="is not snake_case ([a-z][a-z0-9_]*)")
ChoiceCode = code(r"^\S{1,32}$", "PVP")  # "1.5", "0": quoted, or YAML reads numbers
# A field of the same scope (the top level, or the same row), or `form.<code>` for a top-level field.
FieldRef = Annotated[
    str,
    Field(pattern=rf"^(form\.)?{SNAKE}$"),
    says("must name a field: <code>, or form.<code> for a top-level field"),
]


def one_of(names: tuple[str, ...], what: str) -> WrapValidator:
    """A mapping with exactly one of `names` as its key, e.g. a rule `{not_after: today}`; its value is then
    checked as the model declares that key."""

    def validate(value, handler):
        if (
            not isinstance(value, dict)
            or len(value) != 1
            or next(iter(value)) not in names
            or next(iter(value.values())) is None
        ):
            raise PydanticCustomError(
                "one_of", "{message}", {"message": f"give one of {', '.join(names)}, {what}"}
            )
        return handler(value)

    return WrapValidator(validate)


class Choice(StrictModel):
    code: ChoiceCode
    label: Text


def _levels(value: object) -> object:
    """The word `levels` stands for T1..T12, L1..L5, each labelled with itself."""
    if value == "levels":
        return [{"code": level, "label": {"en": level, "zh-hans": level}} for level in LEVELS]
    return value


Choices = Annotated[
    list[Choice],
    BeforeValidator(_levels),
    Field(min_length=1),
    unique(),
    shaped("give the word levels, or a list of {code, label}"),
]


class Condition(StrictModel):
    """`required_if` / `show_if`: holds when `field` equals (or, for a multichoice, includes) `equals`."""

    field: FieldRef
    equals: Scalar


class Bmi(StrictModel):
    weight: Code
    height_cm: Code


class LevelSource(StrictModel):
    level: Code
    source: Annotated[
        str, Field(pattern=SOURCE), says("must be <form>.<group>.<field>, e.g. procedure.levels.level")
    ]


class Derivation(StrictModel):
    """How a derived field is computed (FORMAT.md, "Derived values"): exactly one of these."""

    bmi: Bmi = None
    treated: LevelSource = None
    level_relation: LevelSource = None


DERIVATIONS = tuple(Derivation.model_fields)
DerivedBy = Annotated[Derivation, one_of(DERIVATIONS, "with its arguments (FORMAT.md, Derived values)")]


class InValues(StrictModel):
    form: Code
    field: Annotated[str, Field(pattern=rf"^{SNAKE}\.{SNAKE}$"), says("must be <group>.<field>")]


class GenantConsistent(StrictModel):
    height_loss: Code


def _range(bounds: list) -> list:
    if bounds[0] > bounds[1]:
        raise ValueError("min above max")
    return bounds


class SoftRangeBy(StrictModel):
    field: FieldRef
    ranges: Annotated[
        dict[
            code(None, "1.5"),
            Annotated[
                list[Number],
                Field(min_length=2, max_length=2),
                AfterValidator(_range),
                says("must be [min, max], min not above max"),
            ],
        ],
        Field(min_length=1),
        shaped('give a range per value, e.g. {"1.5": [20, 150]}'),
    ]


class Requires(StrictModel):
    field: FieldRef
    equals: Scalar


class MatchesRows(StrictModel):
    group: Code
    field: Code
    equals: Scalar


class NotTogether(StrictModel):
    value: Scalar
    field: FieldRef
    equals: Scalar


class Rule(StrictModel):
    """A check's rule (FORMAT.md, "Check rules"): exactly one of these."""

    not_before: Annotated[str, Field(pattern=DATE_REF), says(DATE_REF_WORDS)] = None
    not_after: Annotated[str, Field(pattern=DATE_REF), says(DATE_REF_WORDS)] = None
    in_values: InValues = None
    genant_consistent: GenantConsistent = None
    soft_range_by: SoftRangeBy = None
    requires: Requires = None
    matches_rows: MatchesRows = None
    not_together: NotTogether = None
    exam_linked: ExamLinkedAt = None  # the exam rules: crf/engine/exam_schema.py
    exam_in_window: ExamWindowArg = None
    exam_date_of: Code = None

    @property
    def name(self) -> str:
        return next(iter(self.model_dump(exclude_none=True)))


RULES = tuple(Rule.model_fields)


class FormField(StrictModel):
    code: Code
    type: Annotated[Literal[TYPES], says(f"must be one of {', '.join(TYPES)}")]
    label: Text
    help: Text = None
    unit: str = ""
    required: bool = False
    min: Number = None
    max: Number = None
    soft_min: Number = None
    soft_max: Number = None
    decimals: Annotated[int, Field(ge=0, le=6), says("must be a whole number from 0 to 6")] = None
    choices: Choices = None
    required_if: Condition = None
    show_if: Condition = None
    derived: DerivedBy = None
    modalities: Modalities = None

    @property
    def derivation(self) -> tuple[str, BaseModel] | None:
        if self.derived is None:
            return None
        name = next(iter(self.derived.model_dump(exclude_none=True)))
        return name, getattr(self.derived, name)

    @model_validator(mode="after")
    def _consistent(self):
        """What the keys mean for this type of field."""
        problems = []
        if self.type in CHOICE_TYPES and self.choices is None:
            problems.append(problem((), "a choice field needs choices"))
        if self.type not in CHOICE_TYPES and self.choices is not None:
            problems.append(problem(("choices",), f"choices are for {' and '.join(CHOICE_TYPES)} fields"))
        bounds = {key: getattr(self, key) for key in ("min", "soft_min", "soft_max", "max")}
        given = [value for value in bounds.values() if value is not None]
        if given and self.type not in NUMBER_TYPES:
            problems.append(problem((), "min, max, soft_min and soft_max are for integer and decimal fields"))
        if given != sorted(given):
            problems.append(problem((), "bounds must satisfy min <= soft_min <= soft_max <= max"))
        if self.decimals is not None and self.type != "decimal":
            problems.append(problem(("decimals",), "decimals is for decimal fields"))
        if (self.modalities is not None) != (self.type == "exam"):
            problems.append(problem((), "an exam field, and only an exam field, gives its modalities"))
        name = self.derivation[0] if self.derived else None
        if name == "bmi" and self.type != "decimal":
            problems.append(problem(("derived",), "bmi is a decimal field"))
        if name == "treated" and self.type != "boolean":
            problems.append(problem(("derived",), "treated is a boolean"))
        if name == "level_relation" and (
            self.type != "choice" or tuple(c.code for c in self.choices or ()) != RELATIONS
        ):
            problems.append(
                problem(("derived",), f"level_relation is a choice of {', '.join(RELATIONS)}, in this order")
            )
        fail_if(problems)
        return self


Fields = Annotated[list[FormField], unique(), shaped("must be a list of fields")]


class Group(StrictModel):
    """A repeating group: rows, each identified by its `key` field."""

    code: Code
    label: Text
    key: Code
    min_rows: Annotated[int, Field(ge=0), says("must be a whole number, 0 or more")] = 0
    max_rows: Annotated[int, Field(ge=1), says("must be a whole number, at least 1")] = 50
    fields: Annotated[Fields, Field(min_length=1)]

    def field(self, code: str) -> FormField | None:
        return next((f for f in self.fields if f.code == code), None)

    @model_validator(mode="after")
    def _rows(self):
        problems = []
        if self.field(self.key) is None:
            problems.append(problem(("key",), "key must name one of its fields", self.key))
        if self.min_rows > self.max_rows:
            problems.append(problem((), "min_rows is above max_rows"))
        fail_if(problems)
        return self


class Check(StrictModel):
    """An edit check beyond the field ranges: `rule` judged on `field` (a row field: every row)."""

    code: code(CHECK_CODE, "LEVEL_NOT_FRACTURED", rule="is not UPPER_SNAKE ([A-Z][A-Z0-9_]*)")
    severity: Literal["soft", "hard"]
    field: Annotated[
        str,
        Field(pattern=rf"^{SNAKE}(\.{SNAKE})?$"),
        says("must name a field: <code>, or <group>.<code> for a field of a group"),
    ]
    rule: Annotated[Rule, one_of(RULES, "with its arguments (FORMAT.md, Check rules)")]
    message: Text


class Adjudication(StrictModel):
    """Rows of a group that open an adjudication case (FORMAT.md, `adjudication`)."""

    group: Code
    when: Condition
    location: Code
    exclude: Annotated[list[ChoiceCode], distinct] = []
    date: Code = None


class Packet(StrictModel):
    """What a blinded adjudicator is shown of this form (FORMAT.md, `packet`), and nothing else."""

    date: Code
    fields: Annotated[list[Code], distinct] = []
    group: Code = None
    rows: Annotated[list[Code], distinct] = []


class Form(StrictModel):
    """A CRF form file: its fields, repeating groups, edit checks and adjudication (FORMAT.md)."""

    code: Code
    version: code(r"^\S{1,32}$", "1.0")
    title: Text
    order: int = 99
    fields: Fields = []
    groups: Annotated[list[Group], unique(), shaped("must be a list of groups")] = []
    checks: Annotated[list[Check], unique(), shaped("must be a list of checks")] = []
    adjudication: Adjudication = None
    packet: Packet = None

    def field(self, code: str) -> FormField | None:
        return next((f for f in self.fields if f.code == code), None)

    def group(self, code: str) -> Group | None:
        return next((g for g in self.groups if g.code == code), None)

    @model_validator(mode="after")
    def _references(self):
        fail_if(reference_problems(self) + exam_problems(self))
        return self


# --- references within a form -------------------------------------------------------------------------


def _target(form: Form, group: Group | None, ref: str) -> FormField | None:
    """The field a reference names: `form.<code>` or, in a group, a field of the same row; else top level."""
    if ref.startswith("form.") or group is None:
        return form.field(ref.removeprefix("form."))
    return group.field(ref)


def _scopes(form: Form):
    """(group or None, its fields, location of its fields) for the top level and each group."""
    yield None, form.fields, ("fields",)
    for index, group in enumerate(form.groups):
        yield group, group.fields, ("groups", index, "fields")


def _condition_problems(form: Form, group: Group | None, condition: Condition, loc: tuple) -> list:
    target = _target(form, group, condition.field)
    if target is None:
        scope = "the form" if group is None or condition.field.startswith("form.") else f"group {group.code}"
        return [problem((*loc, "field"), f"refers to unknown field {condition.field} of {scope}")]
    values = [c.code for c in target.choices or ()]
    if (values and condition.equals not in values) or (
        target.type == "boolean" and not isinstance(condition.equals, bool)
    ):
        return [problem((*loc, "equals"), f"{condition.equals!r} is not a value of {target.code}")]
    return []


def reference_problems(form: Form) -> list:
    """Every reference from one part of a form to another that names nothing, or the wrong kind of thing."""
    problems = [
        problem(("groups", index, "code"), f"{group.code!r} is also the code of a field")
        for index, group in enumerate(form.groups)
        if form.field(group.code)
    ]
    for group, fields, where in _scopes(form):
        codes = {f.code for f in fields}
        for index, spec in enumerate(fields):
            for key in ("required_if", "show_if"):
                condition = getattr(spec, key)
                if condition is not None:
                    problems += _condition_problems(form, group, condition, (*where, index, key))
            if spec.derivation is not None:
                _name, args = spec.derivation
                named = [v for k, v in args.model_dump().items() if k != "source"]
                problems += [
                    problem((*where, index, "derived"), f"derived from a field not in its scope: {code}")
                    for code in named
                    if code not in codes
                ]
    for index, check in enumerate(form.checks):
        problems += _check_problems(form, check, ("checks", index))
    if form.adjudication is not None:
        problems += _adjudication_problems(form, form.adjudication)
    if form.packet is not None:
        problems += _packet_problems(form, form.packet)
    return problems


def _packet_problems(form: Form, spec: Packet) -> list:
    at = ("packet",)
    date = form.field(spec.date)
    problems = (
        [] if date and date.type == "date" else [problem((*at, "date"), "must name a top-level date field")]
    )
    problems += [
        problem((*at, "fields"), f"field {code!r} does not exist")
        for code in spec.fields
        if not form.field(code)
    ]
    group = form.group(spec.group) if spec.group else None
    if spec.group and group is None:
        return [*problems, problem((*at, "group"), f"group {spec.group!r} does not exist")]
    if spec.rows and group is None:
        return [*problems, problem((*at, "rows"), "rows need a group")]
    if group is not None and group.key not in spec.rows:
        problems.append(problem((*at, "rows"), f"rows must show the group's key {group.key!r}"))
    return problems + [
        problem((*at, "rows"), f"field {code!r} is not in group {group.code}")
        for code in spec.rows
        if not group.field(code)
    ]


def _check_problems(form: Form, check: Check, loc: tuple) -> list:
    group_code, _dot, code = check.field.rpartition(".")
    group = form.group(group_code) if group_code else None
    spec = group.field(code) if group else (None if group_code else form.field(code))
    if spec is None:
        return [problem((*loc, "field"), f"field {check.field!r} does not exist")]
    name = check.rule.name
    arg = getattr(check.rule, name)
    at = (*loc, "rule", name)

    def unknown(ref: str, key: str = "field") -> list:
        return (
            []
            if _target(form, group, ref)
            else [problem((*at, key), f"{name} refers to unknown field {ref}")]
        )

    if name in ("not_before", "not_after"):
        problems = (
            [] if spec.type == "date" else [problem(at, f"{name} compares dates: {check.field} is not one")]
        )
        if arg.startswith("field:"):
            other = form.field(arg.removeprefix("field:"))
            if other is None or other.type != "date":
                problems.append(problem(at, f"{arg.removeprefix('field:')} is not a top-level date field"))
        return problems
    if name == "genant_consistent":
        return unknown(arg.height_loss, "height_loss")
    if name == "soft_range_by":
        selector = _target(form, group, arg.field)
        if selector is None:
            return unknown(arg.field)
        values = [c.code for c in selector.choices or ()]
        return [
            problem((*at, "ranges"), f"{value!r} is not a value of {selector.code}")
            for value in arg.ranges
            if values and value not in values
        ]
    if name in ("requires", "not_together"):
        return unknown(arg.field)
    if name == "matches_rows":
        rows = form.group(arg.group)
        if rows is None or rows.field(arg.field) is None:
            return [problem(at, "matches_rows needs {group, field, equals} naming a field of a group")]
    return []  # in_values names another form: checked with every form (definitions.py)


def _adjudication_problems(form: Form, spec: Adjudication) -> list:
    at = ("adjudication",)
    group = form.group(spec.group)
    if group is None:
        return [problem((*at, "group"), f"group {spec.group!r} does not exist")]
    problems = _condition_problems(form, group, spec.when, (*at, "when"))
    location = group.field(spec.location)
    if location is None or location.type != "choice":
        problems.append(problem((*at, "location"), "location must name a choice field of the group"))
    else:
        codes = [c.code for c in location.choices]
        problems += [
            problem((*at, "exclude"), f"{value!r} is not a choice of {location.code}")
            for value in spec.exclude
            if value not in codes
        ]
    date = form.field(spec.date) if spec.date else None
    if spec.date and (date is None or date.type != "date"):
        problems.append(problem((*at, "date"), "date must name a top-level date field"))
    return problems
