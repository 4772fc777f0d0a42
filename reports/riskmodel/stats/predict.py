"""Predictions from a model's JSON alone (README.md, "The model"): what a frozen model needs to be used.

Logistic: lp = b0 + x.b, risk = 1 / (1 + exp(-lp)).
Cox: lp = x.b - lp_mean, risk = 1 - S0(h) ** exp(lp), with S0(h) the baseline survival at the horizon and at
the mean linear predictor.

The 95 % interval of one patient's risk is the delta method on a scale where the estimate is close to normal,
then mapped back:
- logistic, on the logit (as statsmodels' GLM get_prediction): var(lp) = g' V g, g = (1, x), V the covariance
  of (b0, b);
- Cox, on the log cumulative hazard log H(h | x) = log(-log S0(h)) + (x - xbar).b (the "log-log" scale of R's
  survfit): var = (x - xbar)' V (x - xbar), with xbar the development data's mean design row ("term_means",
  so that lp_mean = xbar.b). The baseline survival is treated as fixed: its own sampling error is left out,
  so the interval is somewhat too narrow, most of all for patients near the mean, where the term above
  vanishes.
Coefficients are used as stored: a shrinkage factor has already been applied to them.
"""

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from .design import Design

Z95 = stats.norm.ppf(0.975)


def design_of(model: Mapping) -> Design:
    return Design.from_dict(model["design"])


def _matrix(model: Mapping, X) -> np.ndarray:
    """The design matrix: built from raw predictor values (a DataFrame), or X itself if already one."""
    if isinstance(X, pd.DataFrame):
        return design_of(model).matrix(X)
    X = np.asarray(X, dtype=float)
    return X.reshape(len(X), -1)


def linear_predictor(model: Mapping, X) -> np.ndarray:
    """b0 + x.b (logistic) or x.b - lp_mean (Cox) per row of X (a DataFrame of raw values, or a design)."""
    lp = _matrix(model, X) @ np.asarray(model["coefficients"], dtype=float)
    if model["type"] == "logistic":
        return lp + float(model["intercept"])
    return lp - float(model["lp_mean"])


def risk_of_lp(model: Mapping, lp):
    """The risk at the horizon for linear predictors from linear_predictor."""
    lp = np.asarray(lp, dtype=float)
    if model["type"] == "logistic":
        return 1 / (1 + np.exp(-lp))
    return 1 - float(model["baseline_survival"]) ** np.exp(lp)


def risk(model: Mapping, X) -> np.ndarray:
    """The predicted risk at the horizon for each row of X (a DataFrame of raw values or a design matrix)."""
    return risk_of_lp(model, linear_predictor(model, X))


def checked_values(model: Mapping, values: Mapping) -> dict[str, float]:
    """One patient's predictor values as floats, or ValueError naming the predictor missing or wrong."""
    out = {}
    for predictor in design_of(model).predictors:
        value = values.get(predictor.code)
        if isinstance(value, bool):
            value = float(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"{predictor.code}: a value is needed")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{predictor.code}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{predictor.code}: a value is needed")
        if predictor.type == "binary" and number not in (0.0, 1.0):
            raise ValueError(f"{predictor.code}: takes 0 or 1, not {value!r}")
        out[predictor.code] = number
    return out


def risk_interval(model: Mapping, values: Mapping) -> tuple[float, float | None, float | None]:
    """(risk, low, high) for one patient's raw values: 95 % interval by the delta method (module docstring).

    A penalised model stores no covariance, and a Cox model without "term_means" no centre for the delta
    method: low and high are then None.
    """
    row = pd.DataFrame([checked_values(model, values)])
    x = design_of(model).matrix(row)[0]
    lp = float(linear_predictor(model, x.reshape(1, -1))[0])
    estimate = float(risk_of_lp(model, lp))
    if model.get("covariance") is None:
        return estimate, None, None
    V = np.asarray(model["covariance"], dtype=float)
    if model["type"] == "logistic":
        g = np.r_[1.0, x]
        centre = lp
    else:
        if model.get("term_means") is None:  # written without it: no centre, so no honest interval
            return estimate, None, None
        g = x - np.asarray(model["term_means"], dtype=float)
        centre = math.log(-math.log(float(model["baseline_survival"]))) + lp
    se = math.sqrt(float(g @ V @ g))
    low, high = centre - Z95 * se, centre + Z95 * se
    if model["type"] == "logistic":
        return estimate, float(risk_of_lp(model, low)), float(risk_of_lp(model, high))
    return estimate, 1 - math.exp(-math.exp(low)), 1 - math.exp(-math.exp(high))


def model_json(design: Design, fit, **meta) -> dict:
    """The model JSON (README.md) of a Design and a fit.Fit; meta gives spec_sha256, cut_sha256,
    horizon_days, shrinkage, imputations, seed (missing ones are None, shrinkage 1.0).

    One addition to README.md's shape: "term_means", the Cox model's mean design row (None for logistic),
    which risk_interval needs to centre the delta method.
    """
    covariance = None if fit.covariance is None else np.asarray(fit.covariance).tolist()
    return {
        "format": 1,
        "type": fit.kind,
        "spec_sha256": meta.get("spec_sha256"),
        "cut_sha256": meta.get("cut_sha256"),
        "horizon_days": meta.get("horizon_days"),
        "design": design.to_dict(),
        "terms": design.terms,
        "intercept": None if fit.intercept is None else float(fit.intercept),
        "coefficients": [float(b) for b in fit.coef],
        "covariance": covariance,
        "baseline_survival": fit.baseline_survival,
        "lp_mean": fit.lp_mean,
        "term_means": None if fit.term_means is None else [float(v) for v in fit.term_means],
        "shrinkage": meta.get("shrinkage", 1.0),
        "penalty": {"kind": fit.penalty, "lambda": fit.lam},
        "imputations": meta.get("imputations"),
        "seed": meta.get("seed"),
    }
