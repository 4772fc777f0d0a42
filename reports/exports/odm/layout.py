"""The study as ODM sees it: study events, forms, item groups and items with their OIDs and data types, built
from the protocol (visits, forms) and the form definitions. Pure: no database.

OIDs are built from codes, so the same study, form or field has the same OID in every export:
`ST.<study>`, `MDV.<protocol version>`, `SE.ENROLLMENT` / `SE.<visit>` / `SE.UNSCHEDULED`, `F.<form>`,
`IG.<form>` (top-level fields) and `IG.<form>.<group>` (a repeating group), `IT.<form>[.<group>].<field>`
(and `.<choice>` for a multichoice field's items), `CL.<form>[.<group>].<field>`, `MU.<unit>`, `LOC.<site>`,
`USR.<user id>`, `SD.<signature meaning>`. Codes are snake_case and choice codes have no spaces, so the OIDs
are unique (the schema's uniqueness constraints check it) and need no escaping.
"""

import datetime
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from crf.engine.definitions import FieldDef, FormDef, GroupDef
from followup.protocol import UNSCHEDULED_CODE
from followup.schedule import visit_specs

ENROLLMENT_LABEL = {"en": "Enrollment", "zh-hans": "入组"}
UNSCHEDULED_LABEL = {"en": "Unscheduled visit", "zh-hans": "计划外随访"}
INTEGER_CODE = re.compile(r"^(0|-?[1-9][0-9]*)$")  # no leading zeros: "01" stays text, its zero kept
FLOAT_CODE = re.compile(r"^-?(0|[1-9][0-9]*)\.[0-9]+$")
# Characters XML 1.0 cannot carry (control characters other than tab and newlines, lone surrogates,
# U+FFFE/U+FFFF). Text typed into a form or a reason could hold one; it is replaced, never a failed export.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# ODM's DataType of each field type; a choice is typed by its codes (choice_type), a multichoice becomes
# one boolean item per choice.
DATA_TYPES = {
    "integer": "integer",
    "decimal": "float",
    "date": "date",
    "boolean": "boolean",
    "text": "text",
    "multichoice": "boolean",
    "exam": "integer",  # the linked trial.ImagingExam's id, never its StudyInstanceUID
}


@dataclass(frozen=True)
class Item:
    """One ItemDef: a field, or one choice of a multichoice field (`choice` set: "1" chosen, "0" not)."""

    oid: str
    name: str
    data_type: str
    field: FieldDef
    choice: str | None = None
    choice_label: dict | None = None
    codelist: str | None = None

    @property
    def free_text(self) -> bool:
        return self.field.type == "text"


@dataclass(frozen=True)
class ItemGroup:
    oid: str
    label: dict
    items: tuple[Item, ...]
    group: GroupDef | None = None  # None: the form's top-level fields

    @property
    def repeating(self) -> bool:
        return self.group is not None


@dataclass(frozen=True)
class Form:
    oid: str
    definition: FormDef
    groups: tuple[ItemGroup, ...]


@dataclass(frozen=True)
class Event:
    """A StudyEventDef: the enrollment forms, a scheduled visit, or the unscheduled visits (repeating)."""

    oid: str
    code: str  # "" for enrollment, the visit code, or "U" for the unscheduled visits
    label: dict
    type: str  # ODM EventType: Common, Scheduled, Unscheduled
    forms: tuple[str, ...]
    repeating: bool = False


@dataclass(frozen=True)
class Layout:
    study_oid: str
    mdv_oid: str
    events: tuple[Event, ...]
    forms: dict  # form code -> Form, in the definitions' order
    units: dict  # unit -> MeasurementUnit OID

    def event_of(self, visit_code: str) -> tuple[Event, str | None]:
        """The event of a record's visit code and its StudyEventRepeatKey (the unscheduled visit's code)."""
        if UNSCHEDULED_CODE.match(visit_code):
            return self._by_code["U"], visit_code
        return self._by_code[visit_code], None

    @functools.cached_property
    def _by_code(self) -> dict:
        return {event.code: event for event in self.events}


def xml_text(text) -> str:
    return NOT_XML.sub("\ufffd", str(text))


def unit_oid(unit: str) -> str:
    """MU.<unit>, every character that is not a letter or digit written as xHH ("kg/m2" -> MU.kgx2Fm2)."""
    return "MU." + "".join(c if c.isascii() and c.isalnum() else f"x{ord(c):02X}" for c in unit)


def choice_type(spec: FieldDef) -> str:
    """A choice field's ODM type, as its codes are: integer ("0".."3"), float ("1.5", "3.0") or text."""
    codes = spec.choice_codes
    if codes and all(INTEGER_CODE.match(code) for code in codes):
        return "integer"
    if codes and all(FLOAT_CODE.match(code) or INTEGER_CODE.match(code) for code in codes):
        return "float"
    return "text"


def _items(prefix: str, spec: FieldDef) -> list[Item]:
    oid = f"IT.{prefix}.{spec.code}"
    if spec.type == "multichoice":
        return [
            Item(
                oid=f"{oid}.{choice.code}",
                name=f"{spec.code}___{choice.code}",  # REDCap's name of a checkbox's column
                data_type="boolean",
                field=spec,
                choice=choice.code,
                choice_label=choice.label,
            )
            for choice in spec.choices
        ]
    if spec.type == "choice":
        return [
            Item(
                oid=oid,
                name=spec.code,
                data_type=choice_type(spec),
                field=spec,
                codelist=f"CL.{prefix}.{spec.code}",
            )
        ]
    return [Item(oid=oid, name=spec.code, data_type=DATA_TYPES[spec.type], field=spec)]


def form_layout(form: FormDef) -> Form:
    groups = []
    if form.fields:
        groups.append(
            ItemGroup(
                oid=f"IG.{form.code}",
                label=form.title,
                items=tuple(item for spec in form.fields for item in _items(form.code, spec)),
            )
        )
    for group in form.groups:
        prefix = f"{form.code}.{group.code}"
        groups.append(
            ItemGroup(
                oid=f"IG.{prefix}",
                label=group.label,
                items=tuple(item for spec in group.fields for item in _items(prefix, spec)),
                group=group,
            )
        )
    return Form(oid=f"F.{form.code}", definition=form, groups=tuple(groups))


def layout_build(
    *,
    study_code: str,
    version_label: str,
    protocol: dict,
    definitions: dict,
    found: Iterable[tuple[str, str]],
) -> Layout:
    """The layout of a study's protocol version and forms, covering every (visit code, form code) `found` in
    the data: a visit the protocol no longer schedules (an earlier version's) gets an event of its own, and
    a form recorded at an event that does not list it (an amendment) is listed there too, so that every
    record has its place in the metadata. Forms with no definition are left out (their records too)."""
    visits = protocol.get("visits") or {}
    found_forms: dict[str, list[str]] = {}
    for visit_code, form_code in found:
        if form_code in definitions:
            key = "U" if UNSCHEDULED_CODE.match(visit_code) else visit_code
            found_forms.setdefault(key, []).append(form_code)

    def forms_of(code: str, listed: Iterable[str]) -> tuple[str, ...]:
        wanted = {*listed, *found_forms.pop(code, ())}
        return tuple(form for form in definitions if form in wanted)  # the definitions' order

    events = [Event("SE.ENROLLMENT", "", ENROLLMENT_LABEL, "Common", forms_of("", protocol.get("forms", ())))]
    for spec in visit_specs(visits):
        if spec.forms or spec.code in found_forms:
            collected = forms_of(spec.code, spec.forms)
            events.append(Event(f"SE.{spec.code}", spec.code, spec.label, "Scheduled", collected))
    unscheduled = visits.get("unscheduled") or {}
    for code in sorted(code for code in found_forms if code != "U"):  # visits of an earlier version
        events.append(
            Event(f"SE.{code}", code, {"en": code, "zh-hans": code}, "Scheduled", forms_of(code, ()))
        )
    if unscheduled.get("forms") or "U" in found_forms:
        events.append(
            Event(
                "SE.UNSCHEDULED",
                "U",
                {lang: text.replace("{n}", "").strip() for lang, text in unscheduled.get("label", {}).items()}
                or UNSCHEDULED_LABEL,
                "Unscheduled",
                forms_of("U", unscheduled.get("forms", ())),
                repeating=True,
            )
        )
    forms = {code: form_layout(form) for code, form in definitions.items()}
    units = sorted(
        {item.field.unit for form in forms.values() for g in form.groups for item in g.items} - {""}
    )
    return Layout(
        study_oid=f"ST.{study_code}",
        mdv_oid=f"MDV.{version_label}",
        events=tuple(events),
        forms=forms,
        units={unit: unit_oid(unit) for unit in units},
    )


def decimal_text(value) -> str:
    """A number in plain decimal notation (xs:decimal has no exponent: 1e-05 is written 0.00001)."""
    return format(Decimal(repr(value) if isinstance(value, float) else str(value)), "f")


def item_value(item: Item, raw, shift: Callable[[datetime.date], datetime.date] | None) -> str | None:
    """The ItemData Value of `raw` (the field's stored value) for this item; None when it has none.

    Stored values are already clean (crf.engine.validate.clean_value); a value that is not of its field's
    type (an older definition's) is written as stored rather than dropped.
    """
    if raw is None or raw == "" or raw == []:
        return None
    if item.choice is not None:
        return "1" if isinstance(raw, list) and item.choice in raw else "0"
    kind = item.field.type
    if kind == "boolean" and isinstance(raw, bool):
        return "1" if raw else "0"
    if (
        kind in ("integer", "exam")
        and isinstance(raw, int | float)
        and not isinstance(raw, bool)
        and raw == int(raw)
    ):
        return str(int(raw))
    if kind == "decimal" and isinstance(raw, int | float) and not isinstance(raw, bool):
        return decimal_text(raw)
    if kind == "date" and shift is not None and isinstance(raw, str):
        try:
            return shift(datetime.date.fromisoformat(raw)).isoformat()
        except ValueError:
            return None  # not a date: under de-identification nothing unshifted may leave
    return xml_text(raw)
