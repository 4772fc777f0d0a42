"""The parts of the development result that are read off a fitted model: the model JSON, the coefficient
table, the effect curves, the sample size, reproducibility. Pure (no Django)."""

import functools
import importlib.metadata
import math
import platform
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from .procedure import Fitted, Settings
from .stats.samplesize import max_r2_cs_binary, max_r2_cs_survival, riley_binary, riley_survival

FORMAT = 1
Z = float(norm.ppf(0.975))
EFFECT_POINTS = 50  # points along each continuous predictor's observed range in the effect plots
# Riley et al. (BMJ 2020): when the apparent R2 cannot be had, assume 15 % of its maximum (their advice).
FALLBACK_R2_FRACTION = 0.15
DAYS_PER_YEAR = 365.25


def jsonable(value):
    """`value` with numpy scalars and arrays as Python numbers and lists, NaN and infinities as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def model_json(fitted: Fitted, spec, data, settings: Settings, *, factor: float, seed: int) -> dict:
    """The model as README.md defines it: what freezing stores, what predict.py and nomogram.py read."""
    return jsonable(
        {
            "format": FORMAT,
            "type": settings.kind,
            "spec_sha256": spec.sha256,
            "cut_sha256": data.cut["sha256"],
            "horizon_days": settings.horizon,
            "design": fitted.design.to_dict(),
            "terms": fitted.design.terms,
            "intercept": fitted.intercept,
            "coefficients": fitted.coef,
            "covariance": fitted.covariance,
            "baseline_survival": fitted.baseline_survival,
            "lp_mean": fitted.lp_mean,
            # stats/predict.py's addition: the Cox model's mean design row, the centre of risk_interval.
            "term_means": None if settings.kind == "logistic" else _term_means(fitted),
            "shrinkage": factor,
            "penalty": {"kind": settings.penalty, "lambda": fitted.lam},
            "imputations": len(fitted.imputed),
            "seed": seed,
        }
    )


def _term_means(fitted: Fitted) -> np.ndarray:
    return fitted.design.matrix(pd.concat(fitted.imputed, ignore_index=True)).mean(axis=0)


def _ratio_row(term, predictor, estimate, se, ratio: bool) -> dict:
    if se is None or not math.isfinite(se):
        low = high = p = None
    else:
        low, high = estimate - Z * se, estimate + Z * se
        p = float(2 * norm.sf(abs(estimate / se))) if se > 0 else None
    return {
        "term": term,
        "predictor": predictor,
        "estimate": estimate,
        "se": se,
        "low": low,
        "high": high,
        "ratio": math.exp(estimate) if ratio else None,
        "ratio_low": math.exp(low) if ratio and low is not None else None,
        "ratio_high": math.exp(high) if ratio and high is not None else None,
        "p": p,
    }


def coefficient_rows(fitted: Fitted, settings: Settings) -> list[dict]:
    """The intercept (logistic), then each term with its Wald 95 % CI and the odds or hazard ratio.

    After shrinkage the estimates and their SEs are both multiplied by the factor (the CI of the shrunk
    coefficient); a penalised fit has no SEs (its sampling variance is not the inverse information)."""
    se = None if fitted.covariance is None else np.sqrt(np.diag(fitted.covariance))
    rows = []
    offset = 0
    if fitted.intercept is not None:
        rows.append(_ratio_row("(intercept)", None, fitted.intercept, None if se is None else se[0], False))
        offset = 1
    predictor_of = {term: p.code for p in fitted.design.predictors for term in p.terms}
    for i, term in enumerate(fitted.design.terms):
        rows.append(
            _ratio_row(
                term,
                predictor_of[term],
                float(fitted.coef[i]),
                None if se is None else float(se[i + offset]),
                True,
            )
        )
    return jsonable(rows)


def effect_curves(fitted: Fitted, settings: Settings) -> list[dict]:
    """Each continuous predictor's partial effect on the log-odds (log-hazard) over its observed range,
    relative to its median in the development data, with the delta method's 95 % band."""
    stacked = pd.concat(fitted.imputed, ignore_index=True)
    slices = fitted.design.slices()
    offset = 1 if fitted.intercept is not None else 0
    curves = []
    for predictor in fitted.design.predictors:
        if predictor.type != "continuous":
            continue
        lo, hi = predictor.range
        x = np.linspace(lo, hi, EFFECT_POINTS)
        reference = float(np.median(stacked[predictor.code].to_numpy(dtype=float)))
        part = slices[predictor.code]
        basis = predictor.columns(x) - predictor.columns([reference])
        estimate = basis @ fitted.coef[part]
        if fitted.covariance is not None:
            block = fitted.covariance[
                part.start + offset : part.stop + offset, part.start + offset : part.stop + offset
            ]
            half = Z * np.sqrt(np.einsum("ij,jk,ik->i", basis, block, basis))
            low, high = estimate - half, estimate + half
        else:
            low = high = [None] * len(x)
        curves.append(
            {
                "predictor": predictor.code,
                "reference": reference,
                "x": x,
                "estimate": estimate,
                "low": low,
                "high": high,
            }
        )
    return jsonable(curves)


def _log_likelihoods(fitted: Fitted, data: pd.DataFrame) -> tuple[float, float, int]:
    """(model, null) log-likelihood of one imputed copy and its n: binomial (logistic), partial (Cox)."""
    X = fitted.design.matrix(data)
    if fitted.intercept is not None:
        known = data["y"].notna().to_numpy()
        y, p = data["y"].to_numpy()[known], np.clip(fitted.risk(X[known]), 1e-12, 1 - 1e-12)
        prevalence = y.mean()
        model = float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
        null = float(np.sum(y * np.log(prevalence) + (1 - y) * np.log(1 - prevalence)))
        return model, null, int(known.sum())
    from statsmodels.duration.hazard_regression import PHReg

    event = (data["status"].to_numpy() == 1).astype(float)
    cox = PHReg(data["time"].to_numpy(), X, status=event, ties="breslow")
    return float(cox.loglike(fitted.coef)), float(cox.loglike(np.zeros_like(fitted.coef))), len(data)


def sample_size(spec, data, fitted: Fitted, settings: Settings) -> dict:
    """Riley's criteria for the spec's parameters against the data: R2_cs from the apparent (unshrunk)
    model's likelihood ratio, averaged over the imputations, or 15 % of its maximum when it is not
    estimable (say which: r2_cs_source apparent | fifteen_percent_of_max)."""
    frame = data.frame
    events = int((frame["status"] == 1).sum())
    r2s = []
    for copy in fitted.imputed:
        model, null, n = _log_likelihoods(fitted, copy)
        r2s.append(1 - math.exp(-2 * (model - null) / n))
    r2_cs = float(np.mean(r2s))
    if settings.kind == "logistic":
        known = frame["y"].notna()
        prevalence = float(frame.loc[known, "y"].mean())
        maximum = max_r2_cs_binary(prevalence)
    else:
        years = frame["time"].to_numpy() / DAYS_PER_YEAR
        rate, mean_followup = events / years.sum(), float(years.mean())
        maximum = max_r2_cs_survival(rate, mean_followup)
    source = "apparent"
    if not 0 < r2_cs < maximum:
        r2_cs, source = FALLBACK_R2_FRACTION * maximum, "fifteen_percent_of_max"
    common = {
        "parameters": spec.parameters,
        "r2_cs": r2_cs,
        "available": data.flow["analysed"],
        "available_events": events,
    }
    if settings.kind == "logistic":
        size = riley_binary(prevalence=prevalence, **common)
    else:
        size = riley_survival(
            rate=rate, timepoint=settings.horizon / DAYS_PER_YEAR, mean_followup=mean_followup, **common
        )
    return jsonable({**size, "r2_cs_source": source})


@functools.cache
def _commit() -> str | None:
    """The git commit of the code, when it runs from a checkout; None elsewhere (then the version says)."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 -- git on the PATH, a read-only question
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = found.stdout.strip()
    return text if found.returncode == 0 and len(text) == 40 else None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def reproducibility(*, seed: int, bootstrap: int, imputations: int) -> dict:
    """The seed, the resamples, the imputations and the versions that made the result."""
    return {
        "seed": seed,
        "bootstrap": bootstrap,
        "imputations": imputations,
        "versions": {
            "python": platform.python_version(),
            **{name: _version(name) for name in ("numpy", "pandas", "scipy", "statsmodels")},
            "spinetrial": _commit() or _version("spinetrial"),
        },
    }


def tripod_items(kind: str) -> list:
    """The TRIPOD+AI checklist of a result of `kind` ([{item, answer}], tripod.py)."""
    from .tripod import tripod_answers

    return tripod_answers(kind)
