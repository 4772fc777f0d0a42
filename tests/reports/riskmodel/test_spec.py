"""The model specification: the shipped files load and name only columns their studies have; a file's hash is
of its bytes; every problem is named by its place in the file."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from reports.exports.analysis import AnalysisDataset
from reports.riskmodel.spec import SpecError, spec_load
from tests.conftest import load_study

MODELS = Path(settings.PROTOCOL_DIR) / "models"
FULL = MODELS / "NCT06379243-refracture-1y.yaml"
CLINICAL = MODELS / "NCT06379243-refracture-1y-clinical.yaml"

SMALL = """\
code: small
version: "1"
title: {en: Small, zh-hans: 小}
study: NCT06379243
outcome: {horizon_days: 365}
model: {type: logistic}
missing: {strategy: complete_case}
validation: {thresholds: {from: 0.05, to: 0.4, step: 0.05}}
predictors:
  - {code: age, label: {en: Age, zh-hans: 年龄}, type: continuous, from: age}
"""


def problems_of(text: str, study=None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        spec_load(text, study=study)
    return caught.value.field_errors["spec"]


@pytest.mark.parametrize("path", [FULL, CLINICAL])
@pytest.mark.django_db
def test_each_shipped_spec_names_only_columns_of_its_study(path):
    spec = spec_load(path)
    study = load_study(spec.study)
    columns = {column.name for column in AnalysisDataset(study).columns}
    assert set(spec.columns) <= columns
    assert spec_load(path, study=study).sha256 == spec.sha256


@pytest.mark.django_db
def test_the_clinical_spec_fits_the_sister_study_and_the_qmri_one_does_not():
    sister = load_study("NCT06172179")
    spec_load(CLINICAL, study=sister)
    lines = problems_of(FULL.read_text(encoding="utf-8"), study=sister)
    assert lines == [
        "predictors[4] (pdff): NCT06172179 has no column pdff_mean",
        "predictors[5] (r2star): NCT06172179 has no column r2star_mean",
    ]


def test_the_shipped_spec_declares_the_issues_model():
    spec = spec_load(FULL)
    assert (spec.model.type, spec.model.penalty, spec.model.shrinkage) == ("logistic", "none", "bootstrap")
    assert (spec.missing.strategy, spec.missing.imputations, spec.validation.bootstrap) == ("mice", 5, 200)
    thresholds = spec.validation.thresholds.values()
    assert (thresholds[0], thresholds[-1], len(thresholds)) == (0.05, 0.4, 36)
    splines = {p.code: p.knots for p in spec.predictors if p.transform == "rcs"}
    assert splines == {"age": 4, "pdff": 3}
    # age 3 + pdff 2 + ten single terms
    assert spec.parameters == 15
    treatment = next(p for p in spec.predictors if p.code == "treatment")
    assert [c.split("___")[1] for c in treatment.any_of] == [
        "bisphosphonate",
        "denosumab",
        "teriparatide",
        "raloxifene",
    ]
    clinical = spec_load(CLINICAL)
    assert [p.code for p in clinical.predictors] == [
        p.code for p in spec.predictors if p.code not in ("pdff", "r2star")
    ]


def test_the_hash_is_of_the_exact_bytes(tmp_path):
    raw = FULL.read_bytes()
    assert spec_load(FULL).sha256 == hashlib.sha256(raw).hexdigest()
    assert spec_load(str(FULL)).text == raw.decode()
    assert spec_load(raw).sha256 == spec_load(raw.decode()).sha256
    commented = tmp_path / "spec.yaml"
    commented.write_bytes(raw + b"# a comment\n")
    assert spec_load(commented).sha256 != spec_load(FULL).sha256


def test_every_problem_is_named_by_its_place():
    text = SMALL.replace('version: "1"', "version: 1").replace(
        "  - {code: age,",
        "  - {code: Age, transform: rcs, knots: 9, from: age, any_of: [a, b], label: {en: x, zh-hans: y},"
        " type: binary}\n  - {code: bmi,",
    )
    text = text.replace("model: {type: logistic}", "model: {type: logit, penalty: lasso}")
    assert problems_of(text) == [
        "version: write it as a quoted string, e.g. '1.0' (got 1)",
        "model.type: must be 'logistic' or 'cox' (got 'logit')",
        "predictors[0] (Age) code: 'Age' must be lower case letters, digits and _, starting with a letter",
        "predictors[0] (Age) knots: must be a whole number from 3 to 7 (got 9)",
    ]


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            "type: continuous, from: age, any_of: [x, y]",
            "predictors[0] (age): give exactly one of from and any_of",
        ),
        ("type: continuous, any_of: [x, y]", "predictors[0] (age): any_of makes a binary predictor"),
        ("type: binary, from: age, transform: rcs, knots: 3", "a spline (rcs) is for a continuous predictor"),
        ("type: continuous, from: age, transform: rcs", "predictors[0] (age): a spline (rcs) needs knots"),
        ("type: continuous, from: age, knots: 4", "knots are for a spline: set transform: rcs"),
        ("type: continuous, from: endpoint_event", "endpoint_event cannot be a predictor"),
        ("type: continuous, from: study_id", "study_id cannot be a predictor"),
        ("type: continuous, from: age, positive: [x]", "positive is for a binary predictor"),
    ],
)
def test_a_predictor_coding_that_cannot_work_is_refused(change, line):
    lines = problems_of(SMALL.replace("type: continuous, from: age", change))
    assert len(lines) == 1 and line in lines[0], lines


def test_penalty_and_bootstrap_shrinkage_are_not_both_applied():
    lines = problems_of(SMALL.replace("model: {type: logistic}", "model: {type: logistic, penalty: ridge}"))
    assert lines == ["model: a penalised model is shrunk by its penalty: set shrinkage: none"]
    spec = spec_load(SMALL.replace("{type: logistic}", "{type: logistic, penalty: ridge, shrinkage: none}"))
    assert spec.model.penalty == "ridge"


def test_there_is_no_stepwise_option():
    lines = problems_of(
        SMALL.replace("model: {type: logistic}", "model: {type: logistic, selection: stepwise}")
    )
    assert lines == ["model: unknown key(s) selection"]


def test_thresholds_and_yaml_are_checked():
    bad = SMALL.replace("from: 0.05, to: 0.4, step: 0.05", "from: 0.5, to: 0.4, step: 0.05")
    assert problems_of(bad) == ["validation.thresholds: thresholds need 0 < from < to < 1"]
    assert problems_of("code: [unclosed")[0].startswith("not valid YAML")
    assert problems_of("- a list") == ["a spec is a mapping of keys"]


@pytest.mark.django_db
def test_a_column_of_the_wrong_type_is_named(study):
    binary_number = SMALL.replace("type: continuous, from: age", "type: binary, from: baseline_bmi")
    assert problems_of(binary_number, study=study) == [
        "predictors[0] (age): baseline_bmi is decimal: a binary predictor needs 0/1 or positive"
    ]
    unknown_code = SMALL.replace("type: continuous, from: age", "type: binary, from: sex, positive: [woman]")
    assert problems_of(unknown_code, study=study) == ["predictors[0] (age): sex has no choice woman"]
    text = SMALL.replace("type: continuous, from: age", "type: continuous, from: sex")
    assert problems_of(text, study=study) == ["predictors[0] (age): sex is choice, not a number"]
