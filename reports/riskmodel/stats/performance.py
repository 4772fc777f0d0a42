"""How well predicted risks p fit the outcomes y: discrimination, overall accuracy, calibration. Pure.

y is 0/1 (1 the event within the horizon), p the predicted risk in [0, 1]. Estimates with an interval are an
``Interval(estimate, low, high)`` (a NamedTuple: JSON writes it as [estimate, low, high], the validation
result's shape); a bound that cannot be computed is None. All intervals are 95 % unless ``confidence`` says.

- C-statistic (``c_statistic``): the AUC, i.e. the share of (event, non-event) pairs in which the event has
  the higher p, ties one half, with DeLong's interval (DeLong et al., Biometrics 1988;44:837), clipped to
  [0, 1]. Computed by reports/accuracy/roc.py's ``auc_delong``, which the accuracy study already checks
  against R's pROC.
- Harrell's C (``harrell_c``) for time to event (Harrell et al., JAMA 1982;247:2543; Stat Med
  1996;15:361): over the usable pairs, the share in which the subject with the earlier event has the higher
  risk, risk ties one half. A pair (i, j) is usable when i has an event (status 1) at t_i and j is still at
  risk after it: t_j > t_i, or t_j = t_i with j censored (censored at t means known event-free at t, as in
  the Kaplan-Meier estimator and R's ``survival::concordance``). Two events at the same time are not
  usable. Status 0 (censored) and 2 (the competing event, death) are both censored: cause-specific, as the
  Cox model treats them. With a horizon h, follow-up is cut at h first (an event after h is censored at h).
- Brier score (``brier``; Brier, Mon Weather Rev 1950;78:1): mean (p - y)^2, with the normal interval
  mean ± z·SD/√n of the squared errors.
- Calibration (``calibration``; Cox, Biometrika 1958;45:562; Van Calster et al., J Clin Epidemiol
  2016;74:167): the slope b of the logistic regression logit P(y) = a + b·logit(p) (1 when the spread of p
  is right, below 1 when p is too extreme, i.e. overfitting), and calibration-in-the-large, the intercept a
  of logit P(y) = a + logit(p) (logit(p) an offset: 0 when the mean risk is right, above 0 when p is too
  low on average). Each is fitted by Newton-Raphson, with its Wald interval from the observed information.
  p is clipped to [1e-8, 1 - 1e-8] so that a risk of exactly 0 or 1 has a finite logit.
- Calibration plot (``calibration_curve``): p cut at its quantiles into ``groups`` groups (ties kept
  together, so there can be fewer), each with its mean p, its observed proportion of events and that
  proportion's Wilson interval; and a smoothed curve, the lowess of y on p (statsmodels, frac 2/3, no
  robustness iterations, as R's ``rms::val.prob`` does for a 0/1 outcome), on 50 points evenly spaced from
  the smallest p to the largest, clipped to [0, 1]. A point whose window holds a single value of p (heavy
  ties) has no local line and is left out, so the curve can have fewer than 50 points.
- Observed and expected events (``observed_expected``): O = Σy, E = Σp and O/E with the interval
  O/E · exp(± z/√O) (O taken as Poisson; Debray et al., BMJ 2017;356:i6460).
"""

import bisect
import math
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import norm
from statsmodels.nonparametric.smoothers_lowess import lowess
from statsmodels.stats.proportion import proportion_confint

from reports.accuracy.roc import auc_delong

# A risk of exactly 0 or 1 has an infinite logit: clipped this far from the edges first.
EPSILON = 1e-8
# Points of the smoothed calibration curve.
SMOOTH_POINTS = 50


class Interval(NamedTuple):
    """An estimate and its interval; a bound that cannot be computed is None."""

    estimate: float
    low: float | None
    high: float | None


class Calibration(NamedTuple):
    """The calibration slope and calibration-in-the-large, each with its interval."""

    slope: Interval
    citl: Interval


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie strictly between 0 and 1.")
    return float(norm.ppf(1 - (1 - confidence) / 2))


def outcomes_and_risks(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """y as 0/1 floats and p as floats in [0, 1], checked: same length, not empty, finite."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.ndim != 1 or p.ndim != 1 or len(y) != len(p):
        raise ValueError("y and p must be one-dimensional and of the same length.")
    if not len(y):
        raise ValueError("There are no participants.")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must hold only 0 and 1.")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("p must be risks between 0 and 1.")
    return y, p


def _both_classes(y: np.ndarray) -> None:
    if y.all() or not y.any():
        raise ValueError("This needs participants with and without the event.")


def logit(p: ArrayLike) -> np.ndarray:
    """log(p / (1 - p)), p clipped to [EPSILON, 1 - EPSILON]."""
    p = np.clip(np.asarray(p, dtype=float), EPSILON, 1 - EPSILON)
    return np.log(p / (1 - p))


def c_statistic(y: ArrayLike, p: ArrayLike, *, confidence: float = 0.95) -> Interval:
    """The C-statistic (AUC) with DeLong's interval; the bounds are None with fewer than 2 of a class."""
    y, p = outcomes_and_risks(y, p)
    _both_classes(y)
    auc = auc_delong(reference=y.astype(bool), scores=p, confidence=confidence)
    return Interval(auc.auc, auc.lo, auc.hi)


def harrell_c(time: ArrayLike, status: ArrayLike, risk: ArrayLike, horizon: float | None = None) -> float:
    """Harrell's C of risks (higher: earlier event) against follow-up (status 1 event; 0, 2 censored).

    O(n log n): subjects are taken by decreasing time, their risks kept sorted, and each event is compared
    by bisection with everyone still at risk after it.
    """
    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    risk = np.asarray(risk, dtype=float)
    if not (time.ndim == status.ndim == risk.ndim == 1) or not (len(time) == len(status) == len(risk)):
        raise ValueError("time, status and risk must be one-dimensional and of the same length.")
    if not np.isfinite(time).all() or not np.isfinite(risk).all():
        raise ValueError("time and risk must be finite numbers.")
    if not np.isin(status, (0, 1, 2)).all():
        raise ValueError("status must be 0 (censored), 1 (event) or 2 (competing event).")
    event = status == 1
    if horizon is not None:
        event = event & (time <= horizon)
        time = np.minimum(time, horizon)
    at_risk: list[float] = []  # risks of everyone followed beyond the current time, sorted
    concordant = 0.0
    usable = 0
    order = np.argsort(-time, kind="stable")
    sorted_time = time[order]
    starts = np.flatnonzero(np.r_[True, sorted_time[1:] != sorted_time[:-1]])
    for start, stop in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        group = order[start:stop]
        for j in group[~event[group]]:  # censored at t: still at risk at t
            bisect.insort(at_risk, risk[j])
        for i in group[event[group]]:
            lower = bisect.bisect_left(at_risk, risk[i])
            ties = bisect.bisect_right(at_risk, risk[i]) - lower
            concordant += lower + ties / 2
            usable += len(at_risk)
        for i in group[event[group]]:
            bisect.insort(at_risk, risk[i])
    if not usable:
        raise ValueError("Harrell's C needs an event followed by someone still at risk.")
    return concordant / usable


def brier(y: ArrayLike, p: ArrayLike, *, confidence: float = 0.95) -> Interval:
    """The Brier score, mean (p - y)^2, with the normal interval (None with one participant)."""
    y, p = outcomes_and_risks(y, p)
    z = _z(confidence)
    squared = (p - y) ** 2
    estimate = float(squared.mean())
    if len(squared) < 2:
        return Interval(estimate, None, None)
    half = z * float(squared.std(ddof=1)) / math.sqrt(len(squared))
    return Interval(estimate, max(0.0, estimate - half), min(1.0, estimate + half))


def _logistic(y: np.ndarray, design: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood coefficients of logit P(y) = offset + design·beta, and their covariance.

    Newton-Raphson from beta = 0; ValueError if it does not converge (separation).
    """
    beta = np.zeros(design.shape[1])
    for _ in range(50):
        eta = offset + design @ beta
        mu = 1 / (1 + np.exp(-eta))
        information = design.T @ (design * (mu * (1 - mu))[:, None])
        step = np.linalg.solve(information, design.T @ (y - mu))
        beta = beta + step
        if np.abs(step).max() < 1e-10:
            eta = offset + design @ beta
            mu = 1 / (1 + np.exp(-eta))
            information = design.T @ (design * (mu * (1 - mu))[:, None])
            return beta, np.linalg.inv(information)
    raise ValueError("The calibration model did not converge (the outcome is separated by the risk).")


def calibration(y: ArrayLike, p: ArrayLike, *, confidence: float = 0.95) -> Calibration:
    """The calibration slope (y on logit p) and calibration-in-the-large (logit p as offset), Wald CIs."""
    y, p = outcomes_and_risks(y, p)
    _both_classes(y)
    z = _z(confidence)
    lp = logit(p)
    if np.ptp(lp) == 0:
        raise ValueError("The calibration slope needs risks that differ between participants.")
    ones = np.ones((len(y), 1))
    beta, cov = _logistic(y, np.column_stack([ones, lp]), np.zeros(len(y)))
    slope_se = math.sqrt(cov[1, 1])
    slope = Interval(float(beta[1]), float(beta[1] - z * slope_se), float(beta[1] + z * slope_se))
    beta, cov = _logistic(y, ones, lp)
    citl_se = math.sqrt(cov[0, 0])
    citl = Interval(float(beta[0]), float(beta[0] - z * citl_se), float(beta[0] + z * citl_se))
    return Calibration(slope, citl)


def calibration_curve(y: ArrayLike, p: ArrayLike, groups: int = 10, *, confidence: float = 0.95) -> dict:
    """The calibration plot: points by quantile group of p (Wilson intervals) and the lowess curve.

    {"groups": [{"predicted", "observed", "n", "low", "high"}], "smooth": {"predicted": [...],
    "observed": [...]}}: the development result's "calibration".
    """
    y, p = outcomes_and_risks(y, p)
    if groups < 1:
        raise ValueError("groups must be at least 1.")
    _z(confidence)
    cuts = pd.qcut(p, q=groups, labels=False, duplicates="drop")
    points = []
    for code in np.unique(cuts):
        member = cuts == code
        events, n = int(y[member].sum()), int(member.sum())
        low, high = proportion_confint(events, n, alpha=1 - confidence, method="wilson")
        points.append(
            {
                "predicted": float(p[member].mean()),
                "observed": events / n,
                "n": n,
                "low": float(low),
                "high": float(high),
            }
        )
    grid = np.linspace(p.min(), p.max(), SMOOTH_POINTS)
    if p.min() == p.max():
        smooth = np.full(SMOOTH_POINTS, y.mean())
    else:
        with warnings.catch_warnings():
            # A window whose p are all equal has no local line (0/0): that point is dropped below.
            warnings.simplefilter("ignore", RuntimeWarning)
            smooth = lowess(y, p, frac=2 / 3, it=0, xvals=grid)
    kept = np.isfinite(smooth)
    return {
        "groups": points,
        "smooth": {
            "predicted": [float(v) for v in grid[kept]],
            "observed": [float(v) for v in np.clip(smooth[kept], 0.0, 1.0)],
        },
    }


def observed_expected(y: ArrayLike, p: ArrayLike, *, confidence: float = 0.95) -> dict:
    """{"observed": Σy, "expected": Σp, "ratio": Interval of O/E}.

    The ratio is None when E is 0; its bounds are None when O is 0.
    """
    y, p = outcomes_and_risks(y, p)
    z = _z(confidence)
    observed, expected = float(y.sum()), float(p.sum())
    if expected == 0:
        return {"observed": observed, "expected": expected, "ratio": None}
    ratio = observed / expected
    if observed == 0:
        return {"observed": observed, "expected": expected, "ratio": Interval(0.0, None, None)}
    half = z / math.sqrt(observed)
    return {
        "observed": observed,
        "expected": expected,
        "ratio": Interval(ratio, ratio * math.exp(-half), ratio * math.exp(half)),
    }
