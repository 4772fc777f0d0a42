"""Decision-curve analysis: the net benefit of treating by the model, of treating everyone, of no one. Pure.

Vickers & Elkin, Med Decis Making 2006;26:565-574. At a risk threshold pt, the model recommends treatment
when its risk p >= pt (as R's ``dcurves`` and Stata's ``dca`` do). With n participants, TP events and FP
non-events recommended treatment:

    net benefit (model)      = TP/n - FP/n · pt/(1 - pt)
    net benefit (treat all)  = E/n - (n - E)/n · pt/(1 - pt)        (E events: everyone treated)
    net benefit (treat none) = 0

pt/(1 - pt) is the odds at the threshold: the harm of treating a non-event weighed against the benefit of
treating an event that a clinician who would treat at pt implies. Thresholds lie strictly between 0 and 1.
"""

import numpy as np
from numpy.typing import ArrayLike

from reports.riskmodel.stats.performance import outcomes_and_risks


def thresholds(start: float, stop: float, step: float) -> list[float]:
    """start, start + step, ... up to stop included, each rounded to 10 decimals (no 0.30000000000000004)."""
    if step <= 0 or not 0 < start <= stop < 1:
        raise ValueError("Thresholds need 0 < start <= stop < 1 and a positive step.")
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    return [round(start + i * step, 10) for i in range(count)]


def _checked_thresholds(values: ArrayLike) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or not ((values > 0) & (values < 1)).all():
        raise ValueError("Thresholds must lie strictly between 0 and 1.")
    return values


def net_benefit(y: ArrayLike, p: ArrayLike, thresholds: ArrayLike) -> list[float]:
    """The model's net benefit at each threshold: TP/n - FP/n · pt/(1 - pt), treating when p >= pt."""
    y, p = outcomes_and_risks(y, p)
    cut = _checked_thresholds(thresholds)
    n = len(y)
    treated = p[None, :] >= cut[:, None]
    tp = (treated & (y == 1)).sum(axis=1)
    fp = (treated & (y == 0)).sum(axis=1)
    return [float(v) for v in tp / n - fp / n * cut / (1 - cut)]


def treat_all(y: ArrayLike, thresholds: ArrayLike) -> list[float]:
    """The net benefit of treating everyone: E/n - (n - E)/n · pt/(1 - pt)."""
    y, _ = outcomes_and_risks(y, np.zeros(len(np.asarray(y))))
    cut = _checked_thresholds(thresholds)
    prevalence = float(y.mean())
    return [float(v) for v in prevalence - (1 - prevalence) * cut / (1 - cut)]


def treat_none(thresholds: ArrayLike) -> list[float]:
    """The net benefit of treating no one: 0 at every threshold."""
    return [0.0] * len(_checked_thresholds(thresholds))


def decision_curve(y: ArrayLike, p: ArrayLike, thresholds: ArrayLike) -> dict:
    """{"thresholds", "model", "treat_all", "treat_none"}: the development result's "decision"."""
    cut = [float(v) for v in _checked_thresholds(thresholds)]
    return {
        "thresholds": cut,
        "model": net_benefit(y, p, cut),
        "treat_all": treat_all(y, cut),
        "treat_none": treat_none(cut),
    }
