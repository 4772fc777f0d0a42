"""The data dictionary of every form, ours and in REDCap's format, derived from the definitions.

Forms collected at visits (the follow-up MRI) are listed like the others: the dictionary describes fields, not
when they are collected (the protocol's `visits` says that). In REDCap's dictionary each instrument has a
visit field, so that a form collected at several visits (a repeating instrument there) keeps each instance's
visit.
"""

from dataclasses import dataclass

from .engine.definitions import FieldDef, FormDef, form_definitions

REDCAP_TYPES = {
    "integer": "text",
    "decimal": "text",
    "date": "text",
    "boolean": "yesno",
    "choice": "radio",
    "multichoice": "checkbox",
    "text": "text",
    "exam": "text",  # the id of a registered imaging exam (trial.ImagingExam); never its StudyInstanceUID
}
REDCAP_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
REDCAP_VALIDATION = {"integer": "integer", "decimal": "number", "date": "date_ymd", "exam": "integer"}


def _fields(form: FormDef):
    for spec in form.fields:
        yield "", spec
    for group in form.groups:
        for spec in group.fields:
            yield group.code, spec


def _choices(spec: FieldDef, language: str) -> str:
    return " | ".join(f"{c.code}, {c.label.get(language, '')}" for c in spec.choices)


def _condition(spec: FieldDef) -> str:
    return f"{spec.required_if.field} = {spec.required_if.equals}" if spec.required_if else ""


def _derivation(spec: FieldDef) -> str:
    """How a derived value is computed, in words a data manager can check: "bmi(weight, height)"."""
    if spec.derivation is None:
        return ""
    name, args = spec.derivation
    if name == "bmi":
        return f"bmi({args['weight']}, {args['height_cm']})"
    return f"{name}({args['level']} in {args['source']})"


def dictionary_rows() -> list[dict]:
    rows = []
    for form in form_definitions().values():
        for group, spec in _fields(form):
            rows.append(
                {
                    "form": form.code,
                    "form_version": form.version,
                    "form_title_en": form.title["en"],
                    "form_title_zh_hans": form.title["zh-hans"],
                    "group": group,
                    "field": spec.code,
                    "label_en": spec.label["en"],
                    "label_zh_hans": spec.label["zh-hans"],
                    "type": spec.type,
                    "unit": spec.unit,
                    "min": "" if spec.min is None else spec.min,
                    "max": "" if spec.max is None else spec.max,
                    "soft_min": "" if spec.soft_min is None else spec.soft_min,
                    "soft_max": "" if spec.soft_max is None else spec.soft_max,
                    "decimals": "" if spec.decimals is None else spec.decimals,
                    "choices": _choices(spec, "en"),
                    "choices_zh_hans": _choices(spec, "zh-hans"),
                    "required": "yes"
                    if spec.required
                    else ("if " + _condition(spec) if spec.required_if else "no"),
                    "derived": "yes" if spec.derived else "",
                    "derivation": _derivation(spec),
                }
            )
    return rows


def _note(spec: FieldDef) -> str:
    """The unit, or for an exam field what its value is."""
    if spec.type == "exam":
        return f"id of a registered imaging exam ({', '.join(spec.modalities)})"
    return spec.unit


def _redcap_row(**values) -> dict:
    row = dict.fromkeys(REDCAP_COLUMNS, "")
    row.update(values)
    return row


def _bmi_equation(form: FormDef, spec: FieldDef) -> str:
    names = spec.derived["bmi"]
    weight, height = f"{form.code}_{names['weight']}", f"{form.code}_{names['height_cm']}"
    return f"round([{weight}]/(([{height}]/100)^2),1)"


def _calculation(form: FormDef, spec: FieldDef) -> str:
    return _bmi_equation(form, spec) if spec.derivation and spec.derivation[0] == "bmi" else ""


@dataclass(frozen=True)
class RedcapVariable:
    """One field of the REDCap dictionary: its unique name, instrument and REDCap field type, and where its
    value is kept: the form's field `spec` (top-level when `group` is empty, else in that group's rows), or
    the record's visit when `spec` is None."""

    name: str
    instrument: str
    field_type: str
    form: FormDef
    group: str
    spec: FieldDef | None


def _unique(name: str, form: FormDef, taken: set[str]) -> str:
    if name in taken:  # any other clash: the form's code makes it unique
        name = f"{form.code}_{name}"
    taken.add(name)
    return name


def redcap_variables() -> list[RedcapVariable]:
    """The fields of the REDCap dictionary after the record ID, in its order (what `redcap_rows` describes
    and the REDCap import file, reports/exports/redcap.py, fills).

    Each instrument opens with its visit field, `<instrument>_visit`: the visit a record was collected at,
    empty for a form collected once per participant. A form collected at several visits is a repeating
    instrument in REDCap, one instance per visit, and its group rows another: the visit field is what keeps
    an instance, and each row, with its visit.
    """
    taken: set[str] = {"record_id"}
    group_forms: dict[str, str] = {}  # group code -> the first form that has it (keeps the short names)
    variables = []
    for form in form_definitions().values():
        instruments: set[str] = set()
        for group, spec in _fields(form):
            instrument = f"{form.code}_{group}" if group else form.code
            if instrument not in instruments:
                instruments.add(instrument)
                visit = _unique(f"{instrument}_visit", form, taken)
                variables.append(RedcapVariable(visit, instrument, "text", form, group, None))
            prefix = group if group and group_forms.setdefault(group, form.code) == form.code else instrument
            name = _unique(f"{prefix}_{spec.code}", form, taken)
            field_type = "calc" if _calculation(form, spec) else REDCAP_TYPES[spec.type]
            variables.append(RedcapVariable(name, instrument, field_type, form, group, spec))
    return variables


def _variable_row(variable: RedcapVariable) -> dict:
    spec = variable.spec
    if spec is None:
        return _redcap_row(
            **{
                "Variable / Field Name": variable.name,
                "Form Name": variable.instrument,
                "Field Type": "text",
                "Field Label": "Visit",
                "Field Note": "M12, U1...; empty for a form collected once",
                "Field Annotation": "@READONLY 访视",
            }
        )
    calculation = _calculation(variable.form, spec)
    return _redcap_row(
        **{
            "Variable / Field Name": variable.name,
            "Form Name": variable.instrument,
            "Field Type": variable.field_type,
            "Field Label": spec.label["en"],
            "Choices, Calculations, OR Slider Labels": calculation or _choices(spec, "en"),
            "Field Note": _note(spec),
            "Text Validation Type OR Show Slider Number": ""
            if spec.derived
            else REDCAP_VALIDATION.get(spec.type, ""),
            "Text Validation Min": "" if spec.min is None else spec.min,
            "Text Validation Max": "" if spec.max is None else spec.max,
            "Required Field?": "y" if spec.required else "",
            "Field Annotation": (
                f"@READONLY {spec.label['zh-hans']}"
                if spec.derived and not calculation
                else spec.label["zh-hans"]
            ),
        }
    )


def redcap_rows() -> list[dict]:
    """A REDCap data dictionary; a repeating group becomes a repeating instrument named after it.

    The first row is the record ID (the study ID), as REDCap expects; BMI is a calculated field. Values
    derived from another form (the follow-up MRI's treated level and relation) cannot be a REDCap calculation:
    they are read-only fields (@READONLY) filled by the export, as is each instrument's visit field
    (`redcap_variables`). Variable names are unique, as REDCap requires: a group field is <group>_<field>, or
    <form>_<group>_<field> when an earlier form already has a group of that code (both the procedure and the
    follow-up MRI have a `levels` group).
    """
    first = next(iter(form_definitions()), "")
    record_id = _redcap_row(
        **{
            "Variable / Field Name": "record_id",
            "Form Name": first,
            "Field Type": "text",
            "Field Label": "Study ID",
            "Field Annotation": "研究编号",
        }
    )
    return [record_id, *(_variable_row(variable) for variable in redcap_variables())]
