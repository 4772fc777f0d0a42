"""validate(): a frozen model's performance on another cohort (scikit-learn and statsmodels as references),
its recalibrations as separate models, imputation said, a missing predictor column named."""

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.metrics import roc_auc_score

from reports.riskmodel.develop import develop
from reports.riskmodel.validate import model_sha256, validate
from trial.errors import InvalidInput

from .test_develop import data_of, simulated, spec_of

CODES = ["x1", "x2", "x3"]


@pytest.fixture(scope="module")
def model():
    frame = simulated(400, {"x1": 0.8, "x2": 0.5, "x3": 0.3}, seed=21)
    return develop(spec_of(CODES, binary=["x2"]), data_of(frame), bootstrap=0).model


def risk_of(model, frame):
    lp = model["intercept"] + frame[CODES].to_numpy() @ np.array(model["coefficients"])
    return 1 / (1 + np.exp(-lp))


def test_performance_on_a_cohort_against_independent_references(model):
    # A cohort whose baseline risk is higher: calibration-in-the-large shows it, recalibration mends it.
    cohort = simulated(500, {"x1": 0.8, "x2": 0.5, "x3": 0.3}, seed=22, intercept=-0.3)
    result = validate(model, data_of(cohort), about={"id": 3, "name": "sim"})
    p, y = risk_of(model, cohort), cohort["y"].to_numpy()
    performance = result["performance"]
    assert performance["c"][0] == pytest.approx(roc_auc_score(y, p))
    assert performance["c"][1] < performance["c"][0] < performance["c"][2]
    assert performance["brier"][0] == pytest.approx(np.mean((p - y) ** 2))
    logit = np.log(p / (1 - p))
    slope = sm.GLM(y, sm.add_constant(logit), family=sm.families.Binomial()).fit().params[1]
    citl = sm.GLM(y, np.ones_like(y), family=sm.families.Binomial(), offset=logit).fit().params[0]
    assert performance["slope"][0] == pytest.approx(slope, rel=1e-5)
    assert performance["citl"][0] == pytest.approx(citl, rel=1e-5) and citl > 0.3
    assert (performance["observed"], performance["expected"]) == (
        pytest.approx(y.sum()),
        pytest.approx(p.sum()),
    )
    assert result["model"] == {"id": 3, "name": "sim", "sha256": model_sha256(model)}
    assert result["imputation"]["strategy"] == "none_missing"
    intercept, both = result["recalibrated"]
    assert (intercept["name"], both["name"]) == ("intercept", "intercept_slope")
    assert intercept["intercept"] == pytest.approx(citl, rel=1e-5) and intercept["slope"] == 1.0
    assert both["slope"] == pytest.approx(slope, rel=1e-5)
    # Recalibrated in the large: as many events expected as observed, and its CITL 0.
    assert intercept["performance"]["expected"] == pytest.approx(y.sum(), rel=1e-5)
    assert abs(intercept["performance"]["citl"][0]) < 1e-6
    assert intercept["performance"]["c"][0] == pytest.approx(performance["c"][0])  # order kept


def test_missing_predictor_values_are_imputed_with_the_outcome_and_said(model):
    cohort = simulated(300, {"x1": 0.8, "x2": 0.5, "x3": 0.3}, seed=23)
    cohort.loc[cohort.index % 6 == 0, "x3"] = np.nan
    result = validate(model, data_of(cohort), seed=4)
    assert result["imputation"] == {
        "strategy": "mice",
        "imputations": 5,
        "iterations": 10,
        "outcome_included": True,
    }
    assert result["missing"][2] == {"predictor": "x3", "missing": 50, "percent": 100 * 50 / 300}
    assert 0.6 < result["performance"]["c"][0] < 0.9
    assert validate(model, data_of(cohort), seed=4) == result  # seeded


def test_a_cohort_without_a_predictor_column_is_refused_naming_it(model):
    cohort = simulated(100, {"x1": 0.8}, seed=24).drop(columns=["x3"])
    with pytest.raises(InvalidInput) as caught:
        validate(model, data_of(cohort))
    assert "x3" in caught.value.field_errors["cohort"][0]


def test_a_metric_is_pooled_over_the_imputed_copies_by_rubins_rules():
    """Two copies' C: 0.70 (0.60-0.80) and 0.74 (0.66-0.82). By hand: SEs 0.10/1.96 = 0.051021 and
    0.08/1.96 = 0.040816; within W = (0.0026031 + 0.0016660)/2 = 0.0021346; between B = var(0.70, 0.74) =
    0.0008; total T = W + (1 + 1/2) B = 0.0033346; half-width 1.96 x sqrt(T) = 0.11318; so 0.72 (0.6068 to
    0.8332). One copy keeps its own interval."""
    from reports.riskmodel.validate import _pooled_interval

    estimate, low, high = _pooled_interval([(0.70, 0.60, 0.80), (0.74, 0.66, 0.82)])
    assert estimate == pytest.approx(0.72)
    assert low == pytest.approx(0.6068, abs=1e-4) and high == pytest.approx(0.8332, abs=1e-4)
    assert _pooled_interval([(0.7, 0.61, 0.8)]) == [0.7, 0.61, 0.8]
    assert _pooled_interval([(0.7, None, None), (0.72, None, None)]) == [pytest.approx(0.71), None, None]
