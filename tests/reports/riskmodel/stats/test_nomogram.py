"""reports/riskmodel/stats/nomogram.py against a nomogram worked by hand (a linear logistic model), and, for a
spline and a Cox model, against the risk of the model's own formula computed here from the coefficients."""

import math

import numpy as np
import pandas as pd
import pytest

from reports.riskmodel.stats.design import Design
from reports.riskmodel.stats.fit import Fit
from reports.riskmodel.stats.nomogram import nice_ticks, nomogram, points, points_table, risk_of_points
from reports.riskmodel.stats.predict import model_json
from reports.riskmodel.stats.splines import rcs_basis

LINEAR = [
    {"code": "age", "type": "continuous", "transform": "linear", "label": {"en": "Age"}, "unit": "years"},
    {"code": "sex", "type": "binary", "transform": "linear", "label": {"en": "Male"}, "unit": ""},
    {
        "code": "t_score_min",
        "type": "continuous",
        "transform": "linear",
        "label": {"en": "T-score"},
        "unit": "SD",
    },
]


@pytest.fixture
def hand_model():
    """b0 = -5; age 0.05 on 50..90 (2.0 of log-odds: 100 points, so 50 points per unit); male 0.5 (25 points);
    T-score -0.4 on -4..0 (1.6: 80 points, the most at -4). lp0 = -5 + 0.05 * 50 + 0 + (-0.4 * 0) = -2.5."""
    frame = pd.DataFrame(
        {"age": [50.0, 90.0, 70.0], "sex": [0.0, 1.0, 0.0], "t_score_min": [-4.0, 0.0, -2.0]}
    )
    fit = Fit(kind="logistic", intercept=-5.0, coef=np.array([0.05, 0.5, -0.4]), covariance=None)
    return model_json(Design.fit(frame, LINEAR), fit)


def test_a_nomogram_worked_by_hand(hand_model):
    chart = nomogram(hand_model)
    assert chart["points_per_lp"] == pytest.approx(50) and chart["lp_at_zero"] == pytest.approx(-2.5)
    age, sex, t_score = chart["scales"]
    assert age["max_points"] == 100 and sex["max_points"] == 25 and t_score["max_points"] == 80
    assert age["ticks"] == [
        {"value": v, "points": p} for v, p in ((50, 0), (60, 25), (70, 50), (80, 75), (90, 100))
    ]
    assert sex["ticks"] == [{"value": 0.0, "points": 0.0}, {"value": 1.0, "points": 25.0}]
    assert {"value": -4.0, "points": 80.0} in t_score["ticks"] and {"value": 0.0, "points": 0.0} in t_score[
        "ticks"
    ]
    assert chart["total"]["max"] == 205 and chart["total"]["ticks"][-1] <= 205
    # age 70 (50) + male (25) + T-score -2.5 (50) = 125 points: lp = -2.5 + 125 / 50 = 0, risk 0.5
    patient = {"age": 70, "sex": 1, "t_score_min": -2.5}
    assert points(hand_model, patient) == pytest.approx(125)
    assert risk_of_points(hand_model, 125) == pytest.approx(0.5)
    # the 20 % tick: logit(0.2) = -1.386294; (-1.386294 + 2.5) * 50 = 55.685 points
    assert {"risk": 0.2, "points": 55.7} in chart["risk"]
    assert all(0 <= tick["points"] <= 205 for tick in chart["risk"])
    assert {"risk": 0.01, "points": round((math.log(0.01 / 0.99) + 2.5) * 50, 1)} not in chart["risk"]  # < 0


def test_the_points_table_sums_back_to_the_risk(hand_model):
    """A patient on tick values: the table's rounded points, summed and read off the chart, give the
    model's risk 1 / (1 + exp(-(b0 + x.b))) within the rounding."""
    table = {(row["predictor"], row["value"]): row["points"] for row in points_table(hand_model)}
    for age, sex, t_score in ((60, 0, -3), (80, 1, -1), (90, 1, -4)):
        total = table[("age", age)] + table[("sex", float(sex))] + table[("t_score_min", float(t_score))]
        expected = 1 / (1 + math.exp(-(-5 + 0.05 * age + 0.5 * sex - 0.4 * t_score)))
        assert risk_of_points(hand_model, total) == pytest.approx(expected, abs=0.002)


@pytest.fixture
def spline_models():
    """A U-shaped age effect (rcs, 4 knots) with sex, as logistic and as Cox."""
    rng = np.random.default_rng(15)
    frame = pd.DataFrame({"age": rng.uniform(50, 92, 400), "sex": rng.integers(0, 2, 400).astype(float)})
    predictors = [
        {
            "code": "age",
            "type": "continuous",
            "transform": "rcs",
            "knots": 4,
            "label": {"en": "Age"},
            "unit": "years",
        },
        LINEAR[1],
    ]
    design = Design.fit(frame, predictors)
    coef = np.array([-0.12, 0.5, -0.6, 0.3])  # age, age', age'', sex
    logistic = model_json(design, Fit(kind="logistic", intercept=4.0, coef=coef, covariance=None))
    cox = model_json(
        design,
        Fit(kind="cox", intercept=None, coef=coef, covariance=None, baseline_survival=0.9, lp_mean=-3.0),
    )
    return design, coef, logistic, cox


def _hand_risk(kind, design, coef, age, sex):
    knots = design.predictors[0].knots
    lp = float(rcs_basis([age], knots)[0] @ coef[:3]) + coef[3] * sex
    if kind == "logistic":
        return 1 / (1 + math.exp(-(4.0 + lp)))
    return 1 - 0.9 ** math.exp(lp + 3.0)


@pytest.mark.parametrize("kind", ["logistic", "cox"])
def test_spline_points_map_back_to_the_models_risk(spline_models, kind):
    design, coef, logistic, cox = spline_models
    model = logistic if kind == "logistic" else cox
    chart = nomogram(model)
    age = chart["scales"][0]
    assert (
        age["max_points"] == 100 and min(age["curve"]["points"]) == 0 and max(age["curve"]["points"]) == 100
    )
    curve = np.asarray(age["curve"]["points"])
    assert np.argmin(curve) not in (0, len(curve) - 1)  # non-monotone: the lowest point is inside the range
    lo, hi = design.predictors[0].range  # 50.1 .. 91.9: round ticks inside the observed range only
    assert [t["value"] for t in age["ticks"]] == [60, 70, 80, 90] and 50 < lo < 60 and hi > 90
    for patient_age, sex in ((52.0, 0), (68.3, 1), (77.0, 0), (91.0, 1)):
        total = points(model, {"age": patient_age, "sex": sex})
        assert risk_of_points(model, total) == pytest.approx(
            _hand_risk(kind, design, coef, patient_age, sex), rel=1e-10
        )
    for tick in chart["risk"]:
        assert risk_of_points(model, tick["points"]) == pytest.approx(tick["risk"], abs=0.002)


def test_nice_ticks():
    # 205 / 7 = 29.3 a step at least: the next of 10, 20, 25, 50 is 50
    assert nice_ticks(0, 205, target=8) == [0, 50, 100, 150, 200]
    assert nice_ticks(-4.1, 0.3) == [-4, -3, -2, -1, 0]
    assert nice_ticks(18.2, 41.7) == [20, 25, 30, 35, 40]


def test_points_refuse_a_missing_value(hand_model):
    with pytest.raises(ValueError, match="sex: a value is needed"):
        points(hand_model, {"age": 70, "t_score_min": -2})
