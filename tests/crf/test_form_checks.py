"""Every form: a complete, clean example, and each declared edit check triggered by one change to it."""

import datetime

import pytest

from crf.engine.definitions import form_definitions
from crf.engine.validate import CheckContext, clean_data, derive, evaluate
from trial.eligibility import ExamFact

from .conftest import FRACTURES, PROCEDURE

BASELINE = {
    "onset_date": "2026-01-02",
    "height": 158,
    "weight": 52,
    "smoking": "never",
    "alcohol": "none",
    "diabetes": False,
    "glucocorticoids": False,
    "prior_fracture": False,
    "prior_treatment": ["none"],
    "current_treatment": ["none"],
    "falls_past_year": 1,
    "outdoor_activity": True,
    "ambulation": "independent",
    "comorbidities": ["hypertension"],
    "vas_preop": 85,
}
DXA = {
    "exam_date": "2026-01-05",
    "manufacturer": "hologic",
    "lumbar_evaluable": True,
    "t_lumbar": -3.1,
    "hip_scanned": True,
    "hip_side": "left",
    "t_femoral_neck": -2.6,
    "t_total_hip": -2.2,
}
QMRI = {
    "exam_date": "2026-01-05",
    "field_strength": "3.0",
    "manufacturer": "ge",
    "scanner_model": "Discovery MR750",
    "sequence": "ideal_iq",
    "reader": "Reader A",
    "software": "AW Server",
    "software_version": "3.2",
    "vertebrae": [{"level": "L2", "pdff": 51.2, "r2star": 62.0, "fractured": False, "cemented": False}],
}
DISCHARGE = {
    "discharge_date": "2026-01-11",
    "vas_discharge": 25,
    "ambulation": "independent",
    "complications": ["none"],
    "medication": ["bisphosphonate"],
    "destination": "home",
}
# Collected at a visit; the procedure treated L1 and T12, so L3 is remote. It links exam 1, an MR of its date
# within the visit's window (EXAMS, VISIT_WINDOW).
FOLLOWUP_MRI = {
    "exam": 1,
    "exam_date": "2026-05-20",
    "field_strength": "3.0",
    "sequences": ["t1", "t2", "stir"],
    "any_new_fracture": True,
    "levels": [{"level": "L3", "new_fracture": True, "acute_signal": True, "genant_grade": "1"}],
}
FORMS = {
    "baseline": BASELINE,
    "dxa": DXA,
    "fracture_levels": FRACTURES,
    "qmri": QMRI,
    "procedure": PROCEDURE,
    "discharge": DISCHARGE,
    "followup_mri": FOLLOWUP_MRI,
}
VISIT_FORMS = {"followup_mri"}  # never read by other forms' checks
TODAY = datetime.date(2026, 6, 1)
VISIT_WINDOW = (datetime.date(2026, 5, 1), datetime.date(2026, 6, 15))  # the scheduled visit collecting it
EXAMS = {
    1: ExamFact("MR", datetime.date(2026, 5, 20), ("LSPINE",)),
    2: ExamFact("MR", datetime.date(2026, 4, 30)),
}


def findings_for(form_code: str, data: dict):
    form = form_definitions()[form_code]
    clean, stored = clean_data(form, data)
    assert stored.errors == {}, stored.errors
    others = {
        code: clean_data(form_definitions()[code], d)[0]
        for code, d in FORMS.items()
        if code != form_code and code not in VISIT_FORMS
    }
    context = CheckContext(
        today=TODAY,
        consent_date=datetime.date(2026, 1, 6),
        enrollment_date=datetime.date(2026, 1, 7),
        other_forms=others,
        **(
            {"visit_kind": "scheduled", "visit_window": VISIT_WINDOW, "exams": EXAMS}
            if form_code in VISIT_FORMS
            else {}
        ),
    )
    return evaluate(form, derive(form, clean, context), context)


@pytest.mark.parametrize("form_code", list(FORMS))
def test_the_complete_example_of_each_form_is_clean(form_code):
    findings = findings_for(form_code, FORMS[form_code])
    assert (findings.incomplete, findings.warnings) == ({}, [])


def rows(data, group, **changes):
    return {**data, group: [{**data[group][0], **changes}, *data[group][1:]]}


CASES = [
    ("baseline", "ONSET_IN_FUTURE", BASELINE | {"onset_date": "2026-06-02"}),
    ("baseline", "ONSET_AFTER_PROCEDURE", BASELINE | {"onset_date": "2026-01-09"}),
    ("dxa", "DXA_IN_FUTURE", DXA | {"exam_date": "2026-06-02"}),
    ("fracture_levels", "MRI_IN_FUTURE", FRACTURES | {"mri_date": "2026-06-02"}),
    ("fracture_levels", "GENANT_HEIGHT_LOSS", rows(FRACTURES, "fractures", genant_grade="3", height_loss=22)),
    ("qmri", "QMRI_IN_FUTURE", QMRI | {"exam_date": "2026-06-02"}),
    ("qmri", "QMRI_AFTER_PROCEDURE", QMRI | {"exam_date": "2026-01-09"}),
    ("qmri", "R2STAR_PLAUSIBLE", rows(QMRI, "vertebrae", r2star=300)),
    ("procedure", "PROCEDURE_IN_FUTURE", PROCEDURE | {"procedure_date": "2026-06-02"}),
    ("procedure", "PROCEDURE_BEFORE_CONSENT", PROCEDURE | {"procedure_date": "2026-01-05"}),
    ("procedure", "PROCEDURE_BEFORE_MRI", PROCEDURE | {"procedure_date": "2026-01-03"}),
    ("procedure", "LEVEL_NOT_FRACTURED", rows(PROCEDURE, "levels", level="L4")),
    ("procedure", "RANGE_CEMENT_VOLUME", rows(PROCEDURE, "levels", cement_volume=10.1)),
    ("procedure", "RANGE_OPERATIVE_TIME", PROCEDURE | {"operative_time": 4}),
    ("discharge", "DISCHARGE_BEFORE_PROCEDURE", DISCHARGE | {"discharge_date": "2026-01-07"}),
    ("discharge", "DISCHARGE_IN_FUTURE", DISCHARGE | {"discharge_date": "2026-06-02"}),
    ("followup_mri", "FOLLOWUP_MRI_IN_FUTURE", FOLLOWUP_MRI | {"exam_date": "2026-06-02"}),
    ("followup_mri", "FOLLOWUP_MRI_BEFORE_PROCEDURE", FOLLOWUP_MRI | {"exam_date": "2026-01-07"}),
    ("followup_mri", "NEW_FRACTURE_ROWS", FOLLOWUP_MRI | {"any_new_fracture": False}),
    ("followup_mri", "NEW_FRACTURE_AT_TREATED_LEVEL", rows(FOLLOWUP_MRI, "levels", level="L1")),
    ("followup_mri", "FOLLOWUP_MRI_SCAN_MISSING", {k: v for k, v in FOLLOWUP_MRI.items() if k != "exam"}),
    (
        "followup_mri",
        "FOLLOWUP_MRI_EXAM_OUTSIDE_WINDOW",
        FOLLOWUP_MRI | {"exam": 2, "exam_date": "2026-04-30"},
    ),
    ("followup_mri", "FOLLOWUP_MRI_DATE_NOT_EXAM", FOLLOWUP_MRI | {"exam_date": "2026-05-21"}),
]


@pytest.mark.parametrize(("form_code", "check", "data"), CASES, ids=[c[1] for c in CASES])
def test_each_check_fires_on_its_own_case(form_code, check, data):
    findings = findings_for(form_code, data)
    form = form_definitions()[form_code]
    declared = next((c for c in form.checks if c.code == check), None)
    # The clean example has no findings (above), so whatever appears comes from the one change; a date in
    # the future may also be after the procedure, hence "in" rather than "==".
    if declared is not None and declared.severity == "hard":
        assert declared.message["en"] in [m for ms in findings.incomplete.values() for m in ms]
    else:
        assert check in [w.check for w in findings.warnings]


def test_every_declared_check_has_a_case():
    declared = {c.code for form in form_definitions().values() for c in form.checks}
    assert declared <= {case[1] for case in CASES}
