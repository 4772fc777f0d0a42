"""reports/riskmodel/stats/predict.py from the model JSON alone, against statsmodels: GLM predictions and
get_prediction(...).conf_int() for logistic; PHReg's survival prediction and log-hazard-ratio standard errors
for Cox."""

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.duration.hazard_regression import PHReg

from reports.riskmodel.stats.design import Design
from reports.riskmodel.stats.fit import Fit, fit_cox
from reports.riskmodel.stats.predict import linear_predictor, model_json, risk, risk_interval

PREDICTORS = [
    {
        "code": "age",
        "type": "continuous",
        "transform": "rcs",
        "knots": 3,
        "label": {"en": "Age"},
        "unit": "years",
    },
    {"code": "sex", "type": "binary", "transform": "linear", "label": {"en": "Male"}, "unit": ""},
    {
        "code": "t_score_min",
        "type": "continuous",
        "transform": "linear",
        "label": {"en": "T-score"},
        "unit": "SD",
    },
]
PATIENTS = [
    {"age": 58.0, "sex": 1, "t_score_min": -1.2},
    {"age": 71.5, "sex": 0, "t_score_min": -2.9},
    {"age": 88.0, "sex": True, "t_score_min": -4.1},
]


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(2027)
    n = 600
    frame = pd.DataFrame(
        {
            "age": rng.uniform(50, 92, n),
            "sex": rng.integers(0, 2, n).astype(float),
            "t_score_min": rng.normal(-2.6, 1, n),
        }
    )
    lp = -1.5 + 0.002 * (frame["age"] - 70) ** 2 + 0.4 * frame["sex"] - 0.5 * (frame["t_score_min"] + 2.6)
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(float)
    frame["time"] = np.minimum(rng.exponential(300 / np.exp(lp + 1.5)), rng.uniform(100, 500, n))
    frame["status"] = np.where(frame["time"] < 500, rng.choice([1, 1, 0, 2], n), 0)
    return frame


def _json(model):
    return json.loads(json.dumps(model))


def test_logistic_risk_and_interval_match_statsmodels_get_prediction(cohort):
    design = Design.fit(cohort, PREDICTORS)
    exog = sm.add_constant(design.matrix(cohort))
    glm = sm.GLM(cohort["y"].to_numpy(), exog, family=sm.families.Binomial()).fit()
    params = np.asarray(glm.params)
    fit = Fit(kind="logistic", intercept=params[0], coef=params[1:], covariance=np.asarray(glm.cov_params()))
    model = _json(model_json(design, fit, horizon_days=365, seed=1))
    new = pd.DataFrame([{k: float(v) for k, v in p.items()} for p in PATIENTS])
    new_exog = sm.add_constant(design.matrix(new), has_constant="add")
    np.testing.assert_allclose(risk(model, new), glm.predict(new_exog), rtol=1e-12)
    np.testing.assert_allclose(linear_predictor(model, new), new_exog @ params, rtol=1e-12)
    bounds = glm.get_prediction(new_exog).conf_int(alpha=0.05)
    for patient, (low, high), expected in zip(PATIENTS, bounds, glm.predict(new_exog), strict=True):
        estimate, ours_low, ours_high = risk_interval(model, patient)
        assert estimate == pytest.approx(expected, rel=1e-12)
        assert ours_low == pytest.approx(low, rel=1e-9) and ours_high == pytest.approx(high, rel=1e-9)


def test_cox_risk_matches_phreg_and_its_interval_its_standard_errors(cohort):
    design = Design.fit(cohort, PREDICTORS)
    X = design.matrix(cohort)
    time, status, horizon = cohort["time"].to_numpy(), cohort["status"].to_numpy(), 365.5
    model = _json(model_json(design, fit_cox(X, time, status, horizon=horizon), horizon_days=horizon))
    phreg = PHReg(time, X, status=(status == 1).astype(float), ties="breslow").fit()
    new = pd.DataFrame([{k: float(v) for k, v in p.items()} for p in PATIENTS])
    Xnew = design.matrix(new)
    # statsmodels' baseline cumulative hazard at t leaves out the jump at t itself (cumsum(h0) - h0, its
    # source's "disagreements with R"); R's basehaz and Breslow count every event time <= t. Read it at the
    # first event time after the horizon, where it holds exactly the jumps up to the horizon.
    after = np.min(time[(status == 1) & (time > horizon)])
    surv = phreg.predict(exog=Xnew, endog=np.full(len(new), after), pred_type="surv").predicted_values
    np.testing.assert_allclose(risk(model, new), 1 - surv, rtol=1e-9)
    # the interval's width on the log cumulative hazard is 2 z se, se that of the centred log hazard ratio
    centred = phreg.predict(exog=Xnew - X.mean(axis=0), pred_type="lhr")
    for patient, expected, se in zip(PATIENTS, 1 - surv, centred.standard_errors, strict=True):
        estimate, low, high = risk_interval(model, patient)
        assert estimate == pytest.approx(expected, rel=1e-9)
        width = np.log(-np.log(1 - high)) - np.log(-np.log(1 - low))
        assert width == pytest.approx(2 * 1.959963984540054 * se, rel=1e-9)
        assert np.log(-np.log(1 - estimate)) == pytest.approx(
            (np.log(-np.log(1 - high)) + np.log(-np.log(1 - low))) / 2
        )


def test_no_interval_without_a_covariance_or_the_cox_centre(cohort):
    design = Design.fit(cohort, PREDICTORS)
    fit = Fit(kind="logistic", intercept=-1.0, coef=np.zeros(4), covariance=None, penalty="ridge", lam=0.1)
    estimate, low, high = risk_interval(_json(model_json(design, fit)), PATIENTS[0])
    assert estimate == pytest.approx(1 / (1 + np.exp(1.0))) and low is None and high is None
    cox = Fit(
        kind="cox", intercept=None, coef=np.zeros(4), covariance=np.eye(4), baseline_survival=0.8, lp_mean=0.0
    )
    model = _json(model_json(design, cox))
    del model["term_means"]  # a model JSON written without it (README.md's shape before this addition)
    estimate, low, high = risk_interval(model, PATIENTS[0])
    assert estimate == pytest.approx(0.2) and low is None and high is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"age": None}, "age: a value is needed"),
        ({"age": float("nan")}, "age: a value is needed"),
        ({"age": "old"}, "age: 'old' is not a number"),
        ({"sex": 2}, "sex: takes 0 or 1"),
        ({"t_score_min": ""}, "t_score_min: a value is needed"),
    ],
)
def test_missing_or_wrong_values_are_refused_by_name(cohort, change, message):
    design = Design.fit(cohort, PREDICTORS)
    fit = Fit(kind="logistic", intercept=-1.0, coef=np.zeros(4), covariance=np.eye(5))
    with pytest.raises(ValueError, match=message):
        risk_interval(_json(model_json(design, fit)), {**PATIENTS[0], **change})
    with pytest.raises(ValueError, match="sex: a value is needed"):
        risk_interval(_json(model_json(design, fit)), {"age": 70, "t_score_min": -2})
