"""Validate a frozen model on another cohort (README.md, "The validation result"): discrimination,
calibration, decision curve, and the two recalibrations reported as separate, named models.

- The model is read from its JSON only (design, coefficients, intercept or baseline survival).
- Missing predictor values are imputed by MICE in the validation cohort, outcome included (Steyerberg,
  Clinical Prediction Models, 2nd ed., 8.4; the model's own m, at least 5); the result says so. Each
  metric is computed on every imputed copy and pooled by Rubin's rules (`_pooled_interval`); with nothing
  missing there is one copy and its own interval.
- Recalibration on the logit of the model's risk by the horizon: `intercept` re-estimates a (slope fixed at
  1: logit p' = a + logit p); `intercept_slope` re-estimates a and b (logit p' = a + b logit p). Their
  performance is on the same cohort they were fitted on: apparent, and said so.
"""

import hashlib
import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import statsmodels.api as sm
from django.utils.translation import gettext as _

from trial.errors import InvalidInput

from .data import ModelData
from .procedure import Fitted
from .results import jsonable, reproducibility, tripod_items
from .stats.decision import decision_curve
from .stats.design import Design
from .stats.impute import impute, rubin
from .stats.missing import missingness
from .stats.performance import (
    brier,
    c_statistic,
    calibration,
    calibration_curve,
    harrell_c,
    logit,
    observed_expected,
)

Progress = Callable[[str, int, int], None]
MIN_IMPUTATIONS = 5
ITERATIONS = 10
DEFAULT_THRESHOLDS = [round(0.05 + 0.01 * i, 10) for i in range(36)]  # 5 % to 40 %

Z95 = 1.959963984540054  # the normal 97.5 % quantile


def model_sha256(model: dict) -> str:
    """The SHA-256 of the model's canonical JSON (sorted keys, no spaces): what names a frozen model."""
    return hashlib.sha256(json.dumps(model, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def fitted_of(model: dict, imputed: list[pd.DataFrame]) -> Fitted:
    """The model JSON as the procedure's Fitted, on the cohort's imputed copies."""
    covariance = model.get("covariance")
    return Fitted(
        design=Design.from_dict(model["design"]),
        intercept=model.get("intercept"),
        coef=np.asarray(model["coefficients"], dtype=float),
        covariance=None if covariance is None else np.asarray(covariance, dtype=float),
        baseline_survival=model.get("baseline_survival"),
        lp_mean=model.get("lp_mean"),
        lam=(model.get("penalty") or {}).get("lambda"),
        imputed=imputed,
    )


def validate(
    model: dict,
    data: ModelData,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    about: dict | None = None,
    thresholds: list[float] | None = None,
) -> dict:
    """The validation result of `model` on the cohort `data`; `about` is the frozen model's {"id", "name"}."""
    progress = progress or (lambda step, done, total: None)
    frame = data.frame
    codes = [p["code"] for p in model["design"]["predictors"]]
    absent = [code for code in codes if code not in frame.columns]
    if absent:
        message = _("The cohort has no column for the model's predictor(s): %(names)s") % {
            "names": ", ".join(absent)
        }
        raise InvalidInput(message, field_errors={"cohort": [message]})
    kind = model["type"]
    outcome = ["y"] if kind == "logistic" else ["time", "status"]
    progress("validate", 0, 3)
    missing_any = bool(frame[codes].isna().to_numpy().any())
    m = max(int(model.get("imputations") or 1), MIN_IMPUTATIONS)
    imputed = (
        impute(frame, codes, outcome=outcome, m=m, iterations=ITERATIONS, seed=seed)
        if missing_any
        else [frame]
    )
    fitted = fitted_of(model, imputed)
    progress("validate", 1, 3)
    known = frame["y"].notna().to_numpy()
    y = frame["y"].to_numpy()[known]
    if y.size == 0 or y.min() == y.max():
        message = _("The cohort needs participants with and without the event by the horizon.")
        raise InvalidInput(message, field_errors={"cohort": [message]})
    risks = [fitted.risk(fitted.design.matrix(copy))[known] for copy in imputed]
    performance = _performance(y, risks, imputed, fitted, model["horizon_days"], known)
    mean = np.mean(risks, axis=0)
    progress("validate", 2, 3)
    recalibrated = [
        _recalibrated(name, y, risks, imputed, model, known) for name in ("intercept", "intercept_slope")
    ]
    result = {
        "kind": "validation",
        "model": {**(about or {"id": None, "name": None}), "sha256": model_sha256(model)},
        "cohort": {"source": data.cut.get("source"), "study": data.cut.get("study"), "cut": data.cut},
        "flow": data.flow,
        "missing": missingness(frame, codes),
        "imputation": {
            "strategy": "mice" if missing_any else "none_missing",
            "imputations": len(imputed),
            "iterations": ITERATIONS if missing_any else None,
            "outcome_included": missing_any,
        },
        "performance": performance,
        "calibration": calibration_curve(y, mean),
        "decision": decision_curve(y, mean, thresholds or DEFAULT_THRESHOLDS),
        "recalibrated": recalibrated,
        "reproducibility": reproducibility(seed=seed, bootstrap=0, imputations=len(imputed)),
        "tripod": tripod_items("validation"),
    }
    progress("validate", 3, 3)
    return jsonable(result)


def _pooled_interval(intervals) -> list:
    """[estimate, low, high] pooled over the imputed copies by Rubin's rules: the mean estimate, and a 95 %
    normal interval whose variance is the copies' mean squared standard error (read off each copy's 95 %
    interval, half its width over 1.96) plus (1 + 1/m) times the estimates' variance between copies. One
    copy (no value was missing): its own interval. A bound missing in any copy: None."""
    intervals = [tuple(i) for i in intervals]
    if len(intervals) == 1:
        return [None if v is None else float(v) for v in intervals[0]]
    estimates = [float(i[0]) for i in intervals]
    if any(i[1] is None or i[2] is None for i in intervals):
        return [float(np.mean(estimates)), None, None]
    variances = [((float(i[2]) - float(i[1])) / (2 * Z95)) ** 2 for i in intervals]
    pooled = rubin(np.array(estimates)[:, None], np.array(variances)[:, None, None])
    estimate, half = float(pooled.estimate[0]), Z95 * float(np.sqrt(pooled.covariance[0, 0]))
    return [estimate, estimate - half, estimate + half]


def _performance(y, risks, imputed, fitted, horizon, known) -> dict:
    """C (DeLong; Harrell's for Cox, without an interval), Brier, slope, CITL with CIs, O and E."""
    if fitted.intercept is not None:
        c = _pooled_interval([tuple(c_statistic(y, p)) for p in risks])
    else:
        full = [fitted.risk(fitted.design.matrix(copy)) for copy in imputed]
        cs = [
            harrell_c(copy["time"].to_numpy(), copy["status"].to_numpy(), p, horizon)
            for copy, p in zip(imputed, full, strict=True)
        ]
        c = [float(np.mean(cs)), None, None]
    fits = [calibration(y, p) for p in risks]
    oe = [observed_expected(y, p) for p in risks]
    ratios = [o["ratio"] for o in oe if o["ratio"] is not None]
    return {
        "c": c,
        "brier": _pooled_interval([tuple(brier(y, p)) for p in risks]),
        "slope": _pooled_interval([tuple(f.slope) for f in fits]),
        "citl": _pooled_interval([tuple(f.citl) for f in fits]),
        "observed": float(oe[0]["observed"]),
        "expected": float(np.mean([o["expected"] for o in oe])),
        "oe_ratio": _pooled_interval([tuple(r) for r in ratios]) if len(ratios) == len(oe) else None,
    }


def _recalibrated(name: str, y, risks, imputed, model, known) -> dict:
    """One recalibration: (a, b) fitted on each imputed copy and averaged; its performance with them."""
    coefficients = []
    for p in risks:
        lp = logit(p)
        if name == "intercept":
            fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit()
            coefficients.append((float(fit.params[0]), 1.0))
        else:
            fit = sm.GLM(y, sm.add_constant(lp, has_constant="add"), family=sm.families.Binomial()).fit()
            coefficients.append((float(fit.params[0]), float(fit.params[1])))
    a, b = (float(v) for v in np.mean(coefficients, axis=0))
    updated = [1 / (1 + np.exp(-(a + b * logit(p)))) for p in risks]
    fits = [calibration(y, p) for p in updated]
    return {
        "name": name,
        "intercept": a,
        "slope": b,
        "apparent": True,  # fitted and judged on this cohort
        "performance": {
            "c": _pooled_interval([tuple(c_statistic(y, p)) for p in updated]),
            "brier": _pooled_interval([tuple(brier(y, p)) for p in updated]),
            "slope": _pooled_interval([tuple(f.slope) for f in fits]),
            "citl": _pooled_interval([tuple(f.citl) for f in fits]),
            "observed": float(y.sum()),
            "expected": float(np.mean([p.sum() for p in updated])),
        },
    }
