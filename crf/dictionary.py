"""The data dictionary of every form, ours and in REDCap's format, derived from the definitions."""

from .engine.definitions import FieldDef, FormDef, form_definitions

REDCAP_TYPES = {
    "integer": "text",
    "decimal": "text",
    "date": "text",
    "boolean": "yesno",
    "choice": "radio",
    "multichoice": "checkbox",
    "text": "text",
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
REDCAP_VALIDATION = {"integer": "integer", "decimal": "number", "date": "date_ymd"}


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
                }
            )
    return rows


def _redcap_row(**values) -> dict:
    row = dict.fromkeys(REDCAP_COLUMNS, "")
    row.update(values)
    return row


def _bmi_equation(form: FormDef, spec: FieldDef) -> str:
    names = spec.derived["bmi"]
    weight, height = f"{form.code}_{names['weight']}", f"{form.code}_{names['height_cm']}"
    return f"round([{weight}]/(([{height}]/100)^2),1)"


def redcap_rows() -> list[dict]:
    """A REDCap data dictionary; a repeating group becomes a repeating instrument named after it.

    The first row is the record ID (the study ID), as REDCap expects; BMI is a calculated field.
    """
    first = next(iter(form_definitions()), "")
    rows = [
        _redcap_row(
            **{
                "Variable / Field Name": "record_id",
                "Form Name": first,
                "Field Type": "text",
                "Field Label": "Study ID",
                "Field Annotation": "研究编号",
            }
        )
    ]
    for form in form_definitions().values():
        for group, spec in _fields(form):
            instrument = f"{form.code}_{group}" if group else form.code
            rows.append(
                {
                    "Variable / Field Name": f"{group}_{spec.code}" if group else f"{form.code}_{spec.code}",
                    "Form Name": instrument,
                    "Section Header": "",
                    "Field Type": "calc" if spec.derived else REDCAP_TYPES[spec.type],
                    "Field Label": spec.label["en"],
                    "Choices, Calculations, OR Slider Labels": (
                        _bmi_equation(form, spec) if spec.derived else _choices(spec, "en")
                    ),
                    "Field Note": spec.unit,
                    "Text Validation Type OR Show Slider Number": ""
                    if spec.derived
                    else REDCAP_VALIDATION.get(spec.type, ""),
                    "Text Validation Min": "" if spec.min is None else spec.min,
                    "Text Validation Max": "" if spec.max is None else spec.max,
                    "Identifier?": "",
                    "Branching Logic (Show field only if...)": "",
                    "Required Field?": "y" if spec.required else "",
                    "Custom Alignment": "",
                    "Question Number (surveys only)": "",
                    "Matrix Group Name": "",
                    "Matrix Ranking?": "",
                    "Field Annotation": spec.label["zh-hans"],
                }
            )
    return rows
