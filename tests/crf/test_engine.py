"""The form engine on hand-worked examples: values, ranges, conditions, derived BMI, Genant, checks."""

import datetime

import pytest

from crf.engine.definitions import DefinitionError, form_definition, form_definitions, parse_form
from crf.engine.validate import CheckContext, clean_data, derive, evaluate, genant_grade_fits, relation_to

from .conftest import FRACTURES, PROCEDURE

CONTEXT = CheckContext(
    today=datetime.date(2026, 6, 1),
    consent_date=datetime.date(2026, 1, 6),
    enrollment_date=datetime.date(2026, 1, 7),
    other_forms={"fracture_levels": FRACTURES},
)


def test_all_forms_load_in_grid_order():
    assert list(form_definitions()) == [
        "baseline",
        "dxa",
        "fracture_levels",
        "qmri",
        "procedure",
        "discharge",
        "followup_mri",
    ]


def test_bmi_is_derived_not_typed():
    form = form_definition("baseline")
    data, findings = clean_data(form, {"height": 160, "weight": 51.2})
    assert data["bmi"] == 20.0  # 51.2 / 1.6^2 = 20.0
    assert findings.errors == {}
    _data, typed = clean_data(form, {"height": 160, "weight": 51.2, "bmi": 20.0})
    assert "bmi" in typed.errors  # a derived value is never typed, even a right one


@pytest.mark.parametrize(
    ("level", "treated", "relation"),
    [
        ("L1", {"L1", "T12"}, "treated"),
        ("L2", {"L1", "T12"}, "adjacent"),  # next to L1
        ("T11", {"L1", "T12"}, "adjacent"),  # next to T12
        ("T10", {"L1", "T12"}, "remote"),  # two levels from T12
        ("L1", {"T12"}, "adjacent"),  # T12 and L1 are neighbours across the junction
        ("T12", {"L1"}, "adjacent"),
        ("L3", {"L1"}, "remote"),
        ("T1", {"L5"}, "remote"),
        ("L2", set(), None),  # nothing treated: no reference
        ("X9", {"L1"}, None),
    ],
)
def test_relation_to_the_treated_levels(level, treated, relation):
    assert relation_to(level, treated) == relation


def test_levels_derived_from_another_form_need_its_data():
    form = form_definition("followup_mri")
    raw = {"levels": [{"level": "L2", "new_fracture": True}, {"level": "L1", "new_fracture": True}]}
    data, findings = clean_data(form, raw)
    assert findings.errors == {}
    assert "treated" not in data["levels"][0]  # without a context: unknown, not "not treated"
    assert "relation" not in derive(form, data, CONTEXT)["levels"][0]  # the context has no procedure
    context = CheckContext(today=CONTEXT.today, other_forms={"procedure": PROCEDURE})
    rows = derive(form, data, context)["levels"]
    assert [(r["treated"], r["relation"]) for r in rows] == [(False, "adjacent"), (True, "treated")]
    assert "treated" not in data["levels"][0]  # derive returns a copy
    for code in ("treated", "relation"):
        _data, typed = clean_data(form, {"levels": [{"level": "L2", "new_fracture": True, code: False}]})
        assert f"levels[L2].{code}" in typed.errors


@pytest.mark.parametrize(
    ("grade", "loss", "fits"),
    [
        (0, 19.9, True),
        (1, 19.9, False),
        (1, 20, True),
        (0, 20, True),  # 20 is the bound of 0 and 1
        (1, 25, True),
        (2, 25, True),
        (2, 40, True),
        (3, 40, True),
        (3, 40.1, True),
        (2, 40.1, False),
        (3, 39, False),
    ],
)
def test_genant_grades_and_their_documented_bounds(grade, loss, fits):
    assert genant_grade_fits(grade, loss) is fits


def test_valid_procedure_has_no_findings():
    form = form_definition("procedure")
    data, findings = clean_data(form, PROCEDURE)
    assert findings.errors == {}
    result = evaluate(form, data, CONTEXT)
    assert result.incomplete == {} and result.warnings == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"operative_time": "thirty"}, "operative_time"),
        ({"operative_time": 30.5}, "operative_time"),
        ({"operative_time": 601}, "operative_time"),  # hard range
        ({"technique": "VP"}, "technique"),
        ({"procedure_date": "08/01/2026"}, "procedure_date"),
        ({"surgeon_mood": "good"}, "surgeon_mood"),
        (
            {"levels": [{**PROCEDURE["levels"][0], "cement_volume": 4.55}]},
            "levels[L1].cement_volume",
        ),  # 1 decimal
        ({"levels": [{**PROCEDURE["levels"][0], "cement_volume": 25}]}, "levels[L1].cement_volume"),
        ({"levels": [PROCEDURE["levels"][0], PROCEDURE["levels"][0]]}, "levels[L1].level"),  # a level twice
        ({"levels": [{"approach": "bipedicular"}]}, "levels[#1].level"),
        ({"levels": "L1"}, "levels"),
    ],
)
def test_values_that_cannot_be_stored(change, path):
    _data, findings = clean_data(form_definition("procedure"), {**PROCEDURE, **change})
    assert path in findings.errors


def test_soft_checks_named_by_the_issue():
    form = form_definition("procedure")
    data, _findings = clean_data(
        form,
        {
            **PROCEDURE,
            "procedure_date": "2026-01-05",  # before consent (2026-01-06)
            "operative_time": 181,
            "levels": [
                {**PROCEDURE["levels"][0], "cement_volume": 10.1},
                {**PROCEDURE["levels"][1], "level": "L3"},
            ],  # L3 is not fractured
        },
    )
    warnings = {(w.check, w.path) for w in evaluate(form, data, CONTEXT).warnings}
    assert warnings == {
        ("PROCEDURE_BEFORE_CONSENT", "procedure_date"),
        ("RANGE_OPERATIVE_TIME", "operative_time"),
        ("RANGE_CEMENT_VOLUME", "levels[L1].cement_volume"),
        ("LEVEL_NOT_FRACTURED", "levels[L3].level"),
    }


@pytest.mark.parametrize(("minutes", "warned"), [(4, True), (5, False), (180, False), (181, True)])
def test_operative_time_soft_bounds_are_inclusive(minutes, warned):
    form = form_definition("procedure")
    data, _ = clean_data(form, {**PROCEDURE, "operative_time": minutes})
    assert any(w.check == "RANGE_OPERATIVE_TIME" for w in evaluate(form, data, CONTEXT).warnings) is warned


def test_conditional_fields_and_hard_checks_block_completion():
    form = form_definition("procedure")
    row = {**PROCEDURE["levels"][0], "leakage": True}
    data, _ = clean_data(form, {**PROCEDURE, "levels": [row]})
    incomplete = evaluate(form, data, CONTEXT).incomplete
    assert "levels[L1].leakage_type" in incomplete and "levels[L1].leakage_location" in incomplete
    data, findings = clean_data(form, {**PROCEDURE, "technique": "PVP"})  # balloon is for PKP only
    assert "levels[L1].balloon" in findings.errors


def test_missing_required_fields_and_rows():
    form = form_definition("procedure")
    incomplete = evaluate(form, {}, CONTEXT).incomplete
    assert {"procedure_date", "technique", "levels"} <= set(incomplete)


def test_r2star_plausibility_depends_on_field_strength():
    form = form_definition("qmri")
    base = {
        "exam_date": "2026-01-04",
        "field_strength": "1.5",
        "vertebrae": [{"level": "L2", "pdff": 48.8, "r2star": 200, "fractured": False, "cemented": False}],
    }
    data, _ = clean_data(form, base)
    assert any(w.check == "R2STAR_PLAUSIBLE" for w in evaluate(form, data, CONTEXT).warnings)
    data, _ = clean_data(form, {**base, "field_strength": "3.0"})
    assert not any(w.check == "R2STAR_PLAUSIBLE" for w in evaluate(form, data, CONTEXT).warnings)
    _data, findings = clean_data(form, {**base, "vertebrae": [{**base["vertebrae"][0], "pdff": 100.1}]})
    assert "vertebrae[L2].pdff" in findings.errors  # PDFF outside 0-100 is an error


def test_malformed_definitions_are_refused_with_every_reason():
    with pytest.raises(DefinitionError) as info:
        parse_form(
            "code: Bad\nversion: 1\ntitle: {en: x}\nfields:\n  - {code: a, type: float, label: {en: a}}\n"
            "checks:\n  - {code: x, severity: loud, field: nope, rule: {magic: 1}}\n"
        )
    message = str(info.value)
    for fragment in (
        "form: code: 'Bad' is not snake_case",
        "form: version: write it as a quoted string, e.g. '1.0' (got 1)",
        "form: title: give the text in en and zh-hans",
        "form: fields[0] (a) type: must be one of integer, decimal",
        "form: checks[0] (x) code: 'x' is not UPPER_SNAKE",
    ):
        assert fragment in message


@pytest.mark.parametrize(
    ("snippet", "fragment"),
    [
        (
            "fields:\n  - {code: r, type: text, label: L, derived: {magic: {}}}\n",
            "derived: give one of bmi, treated, level_relation",
        ),
        (
            "fields:\n  - {code: r, type: text, label: L, derived: {treated: {level: x}}}\n",
            "derived.treated: missing source",
        ),
        (
            "fields:\n  - {code: level, type: choice, choices: levels, label: L}\n"
            "  - {code: r, type: text, label: L, derived: {treated: {level: level, source: a.b.c}}}\n",
            "treated is a boolean",
        ),
        (
            "fields:\n  - {code: r, type: boolean, label: L,"
            " derived: {treated: {level: nope, source: a.b.c}}}\n",
            "not in its scope",
        ),
        (
            "fields:\n  - {code: a, type: boolean, label: L}\n"
            "adjudication: {group: rows, when: {field: a, equals: true}, location: a}\n",
            "group 'rows' does not exist",
        ),
        (
            "fields:\n  - {code: a, type: boolean, label: L}\n"
            "checks:\n  - {code: X, severity: hard, field: a, rule: {matches_rows: {group: g}},"
            " message: L}\n",
            "rule.matches_rows: missing field",
        ),
        (
            "fields:\n  - {code: a, type: boolean, label: L}\n"
            "checks:\n  - {code: X, severity: hard, field: a, rule: {matches_rows: {group: g, field: a,"
            " equals: true}}, message: L}\n",
            "matches_rows needs {group, field, equals} naming a field of a group",
        ),
        (
            "fields:\n  - {code: a, type: boolean, label: L}\n"
            "checks:\n  - {code: X, severity: soft, field: a,"
            " rule: {not_together: {value: true, field: b, equals: 1}}, message: L}\n",
            "unknown field b",
        ),
    ],
)
def test_malformed_derivations_adjudication_and_rules_are_refused(snippet, fragment):
    head = 'code: x\nversion: "1"\ntitle: {en: X, zh-hans: X}\n'
    with pytest.raises(DefinitionError) as info:
        parse_form(
            (head + snippet)
            .replace("label: L", "label: {en: L, zh-hans: L}")
            .replace("message: L", "message: {en: L, zh-hans: L}")
        )
    assert fragment in str(info.value)


def test_the_mri_declares_who_opens_adjudication_cases_and_reads_the_procedure():
    from crf.engine.paths import form_dependents

    spec = form_definition("followup_mri").adjudication
    assert (spec.group, spec.when.code, spec.when.equals, spec.location, spec.exclude, spec.date) == (
        "levels",
        "new_fracture",
        True,
        "relation",
        ("treated",),
        "exam_date",
    )
    assert "followup_mri" in form_dependents()["procedure"]
    assert form_definition("procedure").adjudication is None
