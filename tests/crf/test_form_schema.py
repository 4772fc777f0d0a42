"""The declared schema of CRF form files (crf/engine/schema.py): every shipped file passes, each problem is
one line naming the file and the place, nothing is coerced, and references to fields and to other forms
are checked. Pure: no database."""

import shutil

import pytest
import yaml

from crf.engine import definitions
from crf.engine.definitions import FORMS_DIR, DefinitionError, form_definition, form_definitions, parse_form
from crf.engine.schema import Form

SHIPPED = sorted(FORMS_DIR.glob("*.yaml"))
HEAD = 'code: x\nversion: "1.0"\ntitle: {en: X, zh-hans: X}\n'


def problems_of(body: str, head: str = HEAD) -> list[str]:
    text = (
        (head + body)
        .replace("label: L", "label: {en: L, zh-hans: L}")
        .replace("message: M", "message: {en: M, zh-hans: M}")
    )
    with pytest.raises(DefinitionError) as info:
        parse_form(text, source="x.yaml")
    return str(info.value).split("; ")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_form_file_passes_its_schema(path):
    spec = Form.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert f"{spec.code}.yaml" == path.name
    assert form_definition(spec.code) is not None  # and the references between forms hold


def test_values_keep_the_type_they_were_written_with():
    procedure = form_definition("procedure")
    operative_time = procedure.field("operative_time")
    assert (operative_time.min, operative_time.soft_max) == (1, 180)
    assert type(operative_time.min) is int  # "between 1 and 600 min", not "1.0 and 600.0"
    assert type(procedure.group("levels").field("cement_volume").max) is int
    level = procedure.group("levels").field("level")
    assert level.choice_codes[:2] == ("T1", "T2") and len(level.choices) == 17  # `choices: levels`
    assert form_definition("followup_mri").field("field_strength").choice_codes == ("1.5", "3.0")


# A fragment of a form file and the one line naming its problem. `label: L` and `message: M` stand for texts
# in both languages; F(...) is a `fields:` list, G(...) a group g keyed by its field a, C(...) a check.
def F(*fields: str) -> str:
    return "fields:\n" + "".join(f"  - {{{field}}}\n" for field in fields)


def G(*fields: str, rows: str = "") -> str:
    listed = ", ".join(f"{{{field}}}" for field in fields)
    return f"groups:\n  - {{code: g, label: L, key: a,{rows} fields: [{listed}]}}\n"


def C(code: str, field: str, rule: str, severity: str = "soft") -> str:
    return f"checks:\n  - {{code: {code}, severity: {severity}, field: {field}, rule: {rule}, message: M}}\n"


LEVEL = "code: a, type: choice, label: L, choices: levels"
TEXT = "code: a, type: text, label: L"
DATE = "code: d, type: date, label: L"
STRENGTH = "code: s, type: choice, label: L, choices: [{code: '1.5', label: L}]"
DECIMAL = "code: a, type: decimal, label: L"
WHOLE = "must be a whole number"
TYPES = "must be one of integer, decimal, date, boolean, choice, multichoice, text, exam"
BOTH = "give the text in en and zh-hans (each not blank, no other language)"
RULES = (
    "give one of not_before, not_after, in_values, genant_consistent, soft_range_by, requires, matches_rows,"
    " not_together, exam_linked, exam_in_window, exam_date_of, with its arguments (FORMAT.md, Check rules)"
)
EXAM = "code: e, type: exam, label: L, modalities: [MR]"
CASES = [
    # Codes are quoted strings: unquoted YAML reads 1.10 as 1.1 and 0 as a number.
    ("code: x\nversion: 1.10\n", "version: write it as a quoted string, e.g. '1.0' (got 1.1)"),
    (
        F("code: g, type: choice, label: L, choices: [{code: 0, label: L}]"),
        "fields[0] (g) choices[0] code: write it as a quoted string, e.g. 'PVP' (got 0)",
    ),
    (
        F("code: Weight, type: decimal, label: L"),
        "fields[0] (Weight) code: 'Weight' is not snake_case ([a-z][a-z0-9_]*)",
    ),
    # No silent coercion: "no" is not false, "5" is not 5, true is not 1.
    (F(f"{TEXT}, required: 'no'"), "fields[0] (a) required: must be true or false (got 'no')"),
    (F("code: a, type: integer, label: L, min: '5'"), "fields[0] (a) min: must be a number (got '5')"),
    (F("code: a, type: integer, label: L, max: true"), "fields[0] (a) max: must be a number (got True)"),
    (G(TEXT, rows=" min_rows: '1',"), f"groups[0] (g) min_rows: {WHOLE}, 0 or more (got '1')"),
    ("order: '5'\n", "order: must be a whole number (got '5')"),
    # A key that is there has a value: an empty one is a mistake, not a way of leaving it out.
    (F(f"{DECIMAL}, min: null"), "fields[0] (a) min: must be a number (got None)"),
    (F(f"{TEXT}, show_if: null"), "fields[0] (a) show_if: must be a mapping (got None)"),
    # Unknown keys are errors: a typo would otherwise be ignored.
    (F(f"{TEXT}, requird: true"), "fields[0] (a): unknown key(s) requird"),
    ("colour: red\n", "unknown key(s) colour"),
    # Texts in both languages.
    (F("code: a, type: text, label: {en: A}"), f"fields[0] (a) label: {BOTH}"),
    ('code: x\nversion: "1.0"\n', "missing title"),
    # What the keys mean for the type of a field.
    (F("code: a, type: choice, label: L"), "fields[0] (a): a choice field needs choices"),
    (F(f"{TEXT}, choices: levels"), "fields[0] (a) choices: choices are for choice and multichoice fields"),
    (
        F(f"{TEXT}, max: 5"),
        "fields[0] (a): min, max, soft_min and soft_max are for integer and decimal fields",
    ),
    (
        F(f"{DECIMAL}, soft_min: 5, soft_max: 1"),
        "fields[0] (a): bounds must satisfy min <= soft_min <= soft_max <= max",
    ),
    (
        F("code: a, type: integer, label: L, decimals: 1"),
        "fields[0] (a) decimals: decimals is for decimal fields",
    ),
    (
        F("code: a, type: float, label: L"),
        f"fields[0] (a) type: {TYPES} (got 'float')",
    ),
    (
        F("code: a, type: choice, label: L, choices: [{code: x, label: L}, {code: x, label: L}]"),
        "fields[0] (a) choices[1] (x) code: duplicate code 'x' (first at [0])",
    ),
    # Conditions name a field of their scope, and a value it can have.
    (
        F(f"{TEXT}, show_if: {{field: b, equals: true}}"),
        "fields[0] (a) show_if.field: refers to unknown field b of the form",
    ),
    (
        F("code: b, type: boolean, label: L", f"{TEXT}, required_if: {{field: b, equals: 'true'}}"),
        "fields[1] (a) required_if.equals: 'true' is not a value of b",
    ),
    (
        F("code: t, type: choice, label: L, choices: [{code: PVP, label: L}]")
        + G(TEXT, "code: b, type: boolean, label: L, show_if: {field: form.t, equals: PKP}"),
        "groups[0] (g) fields[1] (b) show_if.equals: 'PKP' is not a value of t",
    ),
    (
        G(TEXT, "code: b, type: boolean, label: L, show_if: {field: c, equals: true}"),
        "groups[0] (g) fields[1] (b) show_if.field: refers to unknown field c of group g",
    ),
    # Derived values.
    (
        F(
            DECIMAL,
            "code: h, type: decimal, label: L",
            "code: i, type: integer, label: L, derived: {bmi: {weight: a, height_cm: h}}",
        ),
        "fields[2] (i) derived: bmi is a decimal field",
    ),
    (
        F("code: i, type: decimal, label: L, derived: {bmi: {weight: w, height_cm: i}}"),
        "fields[0] (i) derived: derived from a field not in its scope: w",
    ),
    (
        F(
            LEVEL,
            "code: r, type: choice, label: L,"
            " derived: {level_relation: {level: a, source: procedure.levels.level}},"
            " choices: [{code: remote, label: L}, {code: adjacent, label: L}, {code: treated, label: L}]",
        ),
        "fields[1] (r) derived: level_relation is a choice of treated, adjacent, remote, in this order",
    ),
    (
        F("code: r, type: boolean, label: L, derived: {treated: {level: r, source: procedure}}"),
        "fields[0] (r) derived.treated.source: must be <form>.<group>.<field>, e.g. procedure.levels.level"
        " (got 'procedure')",
    ),
    # Groups.
    (G("code: b, type: text, label: L"), "groups[0] (g) key: key must name one of its fields"),
    (G(TEXT, rows=" min_rows: 4, max_rows: 3,"), "groups[0] (g): min_rows is above max_rows"),
    (F("code: g, type: text, label: L") + G(TEXT), "groups[0] (g) code: 'g' is also the code of a field"),
    # Checks: a field that exists, a rule with its arguments, fields of the right kind.
    (F(DATE) + C("A", "e", "{not_after: today}"), "checks[0] (A) field: field 'e' does not exist"),
    (
        F(TEXT) + C("A", "a", "{not_after: today}"),
        "checks[0] (A) rule.not_after: not_after compares dates: a is not one",
    ),
    (
        F(DATE, TEXT) + C("A", "d", "{not_before: 'field:a'}"),
        "checks[0] (A) rule.not_before: a is not a top-level date field",
    ),
    (
        F(DATE) + C("A", "d", "{not_before: yesterday}"),
        "checks[0] (A) rule.not_before: must be today, participant.consent_date, participant.enrollment_date,"
        " field:<code> or form:<form>.<field> (got 'yesterday')",
    ),
    (F(DATE) + C("A", "d", "{not_before: today, not_after: today}"), f"checks[0] (A) rule: {RULES}"),
    (
        F(DATE) + C("a_check", "d", "{not_after: today}"),
        "checks[0] (a_check) code: 'a_check' is not UPPER_SNAKE ([A-Z][A-Z0-9_]*)",
    ),
    (
        F(STRENGTH)
        + G(DECIMAL)
        + C("R", "g.a", "{soft_range_by: {field: form.s, ranges: {1.5: [20, 150]}}}"),
        "checks[0] (R) rule.soft_range_by.ranges['1.5']: write it as a quoted string, e.g. '1.5' (got 1.5)",
    ),
    (
        F(STRENGTH)
        + G(DECIMAL)
        + C("R", "g.a", "{soft_range_by: {field: form.s, ranges: {'1.5': [150, 20]}}}"),
        "checks[0] (R) rule.soft_range_by.ranges['1.5']: must be [min, max], min not above max",
    ),
    (
        F(STRENGTH)
        + G(DECIMAL)
        + C("R", "g.a", "{soft_range_by: {field: form.s, ranges: {'3.0': [30, 250]}}}"),
        "checks[0] (R) rule.soft_range_by.ranges: '3.0' is not a value of s",
    ),
    (
        G(LEVEL) + C("G", "g.a", "{genant_consistent: {height_loss: loss}}"),
        "checks[0] (G) rule.genant_consistent.height_loss: genant_consistent refers to unknown field loss",
    ),
    (
        F("code: b, type: boolean, label: L") + C("X", "b", "{matches_rows: {group: g}}", "hard"),
        "checks[0] (X) rule.matches_rows: missing field",
    ),
    (
        F("code: b, type: boolean, label: L")
        + C("X", "b", "{matches_rows: {group: g, field: a, equals: true}}"),
        "checks[0] (X) rule.matches_rows: matches_rows needs {group, field, equals} naming a field of a"
        " group",
    ),
    # Adjudication.
    (
        G(LEVEL, "code: n, type: boolean, label: L")
        + "adjudication: {group: g, when: {field: n, equals: true}, location: n}\n",
        "adjudication.location: location must name a choice field of the group",
    ),
    (
        G(LEVEL) + "adjudication: {group: g, when: {field: a, equals: L1}, location: a, exclude: [S1]}\n",
        "adjudication.exclude: 'S1' is not a choice of a",
    ),
    (
        G(LEVEL) + "adjudication: {group: g, when: {field: a, equals: L1}, location: a, date: a}\n",
        "adjudication.date: date must name a top-level date field",
    ),
    (
        G(LEVEL) + "adjudication: {group: rows, when: {field: a, equals: L1}, location: a}\n",
        "adjudication.group: group 'rows' does not exist",
    ),
    # The adjudicator's packet (a whitelist).
    (G(LEVEL) + "packet: {date: a}\n", "packet.date: must name a top-level date field"),
    (
        F(DATE) + G(LEVEL) + "packet: {date: d, fields: [nope]}\n",
        "packet.fields: field 'nope' does not exist",
    ),
    (
        F(DATE) + G(LEVEL) + "packet: {date: d, group: h, rows: [a]}\n",
        "packet.group: group 'h' does not exist",
    ),
    (F(DATE) + G(LEVEL) + "packet: {date: d, rows: [a]}\n", "packet.rows: rows need a group"),
    (
        F(DATE) + G(LEVEL, TEXT.replace("a,", "t,")) + "packet: {date: d, group: g, rows: [t]}\n",
        "packet.rows: rows must show the group's key 'a'",
    ),
    (
        F(DATE) + G(LEVEL) + "packet: {date: d, group: g, rows: [a, z]}\n",
        "packet.rows: field 'z' is not in group g",
    ),
    # An imaging exam field (FORMAT.md, "Imaging exams") and the rules of its checks.
    (
        F("code: e, type: exam, label: L"),
        "fields[0] (e): an exam field, and only an exam field, gives its modalities",
    ),
    (
        F(f"{TEXT}, modalities: [MR]"),
        "fields[0] (a): an exam field, and only an exam field, gives its modalities",
    ),
    (
        F("code: e, type: exam, label: L, modalities: [mr]"),
        "fields[0] (e) modalities[0]: 'mr' is not a DICOM modality in capitals, e.g. MR",
    ),
    (
        F(EXAM, "code: e2, type: exam, label: L, modalities: []"),
        "fields[1] (e2) modalities: a list, e.g. [MR]",
    ),
    (G(LEVEL, EXAM), "groups[0] (g) fields[1] (e) type: an exam field is a top-level field, not a row's"),
    (
        F(EXAM) + C("A", "e", "{exam_linked: always}"),
        "checks[0] (A) rule.exam_linked: must be one of scheduled, any: the visits that need the exam"
        " (got 'always')",
    ),
    (
        F(EXAM, DATE) + C("A", "d", "{exam_linked: any}"),
        "checks[0] (A) rule.exam_linked: exam_linked is a check of a top-level exam field",
    ),
    (
        F(EXAM) + C("A", "e", "{exam_in_window: {unscheduled_days: -1}}"),
        "checks[0] (A) rule.exam_in_window.unscheduled_days: must be a whole number of days, 0 to 365"
        " (got -1)",
    ),
    (
        F(EXAM, DATE) + C("A", "d", "{exam_in_window: {}}"),
        "checks[0] (A) rule.exam_in_window: exam_in_window is a check of a top-level exam field",
    ),
    (
        F(EXAM, DATE) + C("A", "e", "{exam_date_of: e}"),
        "checks[0] (A) rule.exam_date_of: exam_date_of compares dates: e is not a top-level one",
    ),
    (
        F(EXAM, DATE) + C("A", "d", "{exam_date_of: d}"),
        "checks[0] (A) rule.exam_date_of: d is not a top-level exam field",
    ),
    # The file itself.
    ("- code: x\n", "a form definition is a mapping"),
    ("fields: {a: 1}\n", "fields: must be a list of fields"),
]


@pytest.mark.parametrize(("body", "line"), CASES, ids=[case[1] for case in CASES])
def test_each_problem_is_one_line_naming_the_file_and_the_place(body, line):
    # A fragment that starts the file (its own code or version) stands alone; the others follow HEAD.
    head = "" if body.startswith(("code:", "- ")) else HEAD
    assert f"x.yaml: {line}" in problems_of(body, head)


def test_every_problem_of_the_shapes_is_listed_at_once():
    body = (
        "fields:\n  - {code: a, type: float, label: {en: A}}\n"
        "  - {code: a, type: text, label: L, colour: red}\n"
        "checks:\n  - {code: x, severity: loud, field: nope, rule: {magic: 1}, message: M}\n"
    )
    assert problems_of(body, "code: Bad\nversion: 1\ntitle: {en: x}\n") == [
        "x.yaml: code: 'Bad' is not snake_case ([a-z][a-z0-9_]*)",
        "x.yaml: version: write it as a quoted string, e.g. '1.0' (got 1)",
        "x.yaml: title: give the text in en and zh-hans (each not blank, no other language)",
        f"x.yaml: fields[0] (a) type: {TYPES} (got 'float')",
        "x.yaml: fields[0] (a) label: give the text in en and zh-hans (each not blank, no other language)",
        "x.yaml: fields[1] (a): unknown key(s) colour",
        "x.yaml: fields[1] (a) code: duplicate code 'a' (first at [0])",
        "x.yaml: checks[0] (x) code: 'x' is not UPPER_SNAKE ([A-Z][A-Z0-9_]*)",
        "x.yaml: checks[0] (x) severity: must be 'soft' or 'hard' (got 'loud')",
        f"x.yaml: checks[0] (x) rule: {RULES}",
    ]


# --- references to other forms: checked when every form is read ----------------------------------------


@pytest.fixture
def forms_dir(tmp_path, monkeypatch):
    """A copy of the shipped forms to break; the cache of definitions is emptied before and after."""
    for path in SHIPPED:
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(definitions, "FORMS_DIR", tmp_path)
    form_definitions.cache_clear()
    yield tmp_path
    form_definitions.cache_clear()


def edit(folder, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_references_to_other_forms_name_the_file_and_the_place(forms_dir):
    edit(
        forms_dir,
        "procedure.yaml",
        "{in_values: {form: fracture_levels, field: fractures.level}}",
        "{in_values: {form: fracture_level, field: fractures.level}}",
    )
    edit(
        forms_dir,
        "followup_mri.yaml",
        "derived: {treated: {level: level, source: procedure.levels.level}}",
        "derived: {treated: {level: level, source: procedure.levels.levels}}",
    )
    edit(
        forms_dir,
        "discharge.yaml",
        'rule: {not_before: "form:procedure.procedure_date"}',
        'rule: {not_before: "form:procedure.technique"}',
    )
    with pytest.raises(DefinitionError) as info:
        form_definitions()
    assert str(info.value).split("; ") == [
        "discharge.yaml: checks[0] (DISCHARGE_BEFORE_PROCEDURE) rule.not_before: procedure.technique is not a"
        " top-level date field of another form",
        "followup_mri.yaml: groups[0] (levels) fields[4] (treated) derived: source"
        " procedure.levels.levels not found",
        "procedure.yaml: checks[3] (LEVEL_NOT_FRACTURED) rule.in_values: no field fractures.level in another"
        " form 'fracture_level'",
    ]


def test_problems_of_several_files_are_listed_together(forms_dir):
    edit(forms_dir, "dxa.yaml", 'version: "1.0"', "version: 1.0")
    edit(forms_dir, "qmri.yaml", "severity: soft", "severity: warning")
    edit(forms_dir, "discharge.yaml", "code: discharge\n", "code: baseline\n")
    with pytest.raises(DefinitionError) as info:
        form_definitions()
    assert str(info.value).split("; ") == [
        "discharge.yaml: code 'baseline' is also the code of baseline.yaml",
        "dxa.yaml: version: write it as a quoted string, e.g. '1.0' (got 1.0)",
        "qmri.yaml: checks[1] (QMRI_AFTER_PROCEDURE) severity: must be 'soft' or 'hard' (got 'warning')",
        "qmri.yaml: checks[2] (R2STAR_PLAUSIBLE) severity: must be 'soft' or 'hard' (got 'warning')",
    ]
