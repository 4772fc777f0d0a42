"""The view of a form for the templates: each input (or, read-only, value) with its options, messages,
queries and history, the rows of a repeating group, and the whole entry."""

import decimal
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from trial.i18n import localized

from ..engine.definitions import FieldDef, GroupDef
from ..models import QueryStatus
from .labels import anchor_of, exam_label
from .post import as_text

TEMPLATE_INDEX = "__prefix__"  # the row <template>'s index, replaced by the script when it clones a row
RADIO_CHOICES = 5  # a choice with up to this many options is drawn as radio buttons, else as a select


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
    exams: tuple = ()  # an exam field's choices: the participant's registered exams (trial.ImagingExam)

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
        if spec.type == "exam":
            return "exam"
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
        return as_text(float(bound)) if isinstance(bound, float) else str(bound)

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
    def exam_options(self) -> list[Option]:
        """The participant's exams of the field's modalities to pick from, the linked one checked."""
        return [
            Option(
                value=str(e.pk),
                label=exam_label(e),
                checked=str(e.pk) == str(self.value),
                id=f"{self.id}_{e.pk}",
            )
            for e in self.exams
            if e.modality in self.spec.modalities
        ]

    @property
    def linked_exam(self):
        """The exam the value links (an exam field's), when it is one of the exams given."""
        return next((e for e in self.exams if str(e.pk) == str(self.value)), None)

    @property
    def display(self) -> str:
        """The value as read (choice labels, yes / no, the unit, an exam's description); empty when there is
        none."""
        if self.value in ("", [], None):
            return ""
        if self.spec.type == "exam":
            linked = self.linked_exam
            return exam_label(linked) if linked else _("exam %(id)s") % {"id": self.value}
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
