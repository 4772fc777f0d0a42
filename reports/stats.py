"""The interim report's statistics (domain.md, "Interim statistics"). Pure: no database, no models.

Every result is a frozen dataclass of Python ints and floats (never numpy scalars), so that the figures dict
they feed (reports/FIGURES.md) is JSON-able as it is. ``None`` means "not computable from these data".

Proportions. Wilson score interval (statsmodels ``proportion_confint(method="wilson")``):
(p + z²/2n ± z·√(p(1-p)/n + z²/4n²)) / (1 + z²/n); e.g. 12/80 gives 0.0879 to 0.2441 at 95 %.

Time to event. Durations are days from the index date; status 0 censored (withdrawn, lost, alive at the
cut), 1 the event (re-fracture), 2 the competing event (death). A curve is a right-continuous step function
kept as its jump points: ``times`` is 0.0, then each time the curve rises, then the last observed duration
when it is later (the curve is flat up to it, so the drawing spans the whole follow-up).

- ``cumulative_incidence``: Aalen-Johansen cumulative incidence of cause 1 (statsmodels
  ``CumIncidenceRight``): at each event time t, CIF rises by S(t-)·d1(t)/n(t), where S is the Kaplan-Meier
  survival from any event (1 or 2), d1 the cause-1 events at t and n those still at risk (duration ≥ t).
- ``km_complement``: 1 - Kaplan-Meier (statsmodels ``SurvfuncRight``), S(t) = Π (1 - d(t_i)/n(t_i)); the
  caller passes deaths as censored. Where a death comes before an event it counts as if the dead could
  still re-fracture, so 1 - KM ≥ CIF: the report shows both, the CIF being the estimate.
At tied times events come before censorings (a participant censored at t is still at risk at t). An event at
duration 0 has no time at risk before it and is refused (ValueError): the caller counts days from the index
date, on which no re-fracture can be recorded.

Median follow-up. Reverse Kaplan-Meier (Schemper & Smith 1996): the Kaplan-Meier estimator with the status
flipped, censoring being the "event" and an event censoring the follow-up. The p-quantile is the smallest
time t at which that curve S has reached 1 - p (S(t) ≤ 1 - p; Brookmeyer & Crowley 1982, Klein &
Moeschberger). statsmodels' ``quantile`` uses S(t) < 1 - p as SAS does, and R averages over a flat stretch
at exactly 1 - p: the three differ only when the curve sits exactly on 1 - p.

Accrual projection (Gajewski, Simon & Carlson, Stat Med 2008, with no prior weight; Anisimov & Fedorov,
Stat Med 2007). Enrollment is a Poisson process of rate λ per day. Having seen n participants in T days,
the likelihood of λ is λⁿ·e^(-λT); with the non-informative prior π(λ) ∝ 1/λ the posterior is
Gamma(shape n, rate T), of mean n/T (the observed rate). Given λ, the waiting time X for the
R = target - n remaining participants is the sum of R exponential gaps: Gamma(shape R, rate λ). Then
λX ~ Gamma(R, 1) and λT ~ Gamma(n, 1) are independent, so X/T = λX/λT ~ beta-prime(R, n), and since
Gamma(k, 1) = χ²(2k)/2, X·n/(T·R) ~ F(2R, 2n). The predictive median and the 80 % (0.10-0.90) and 95 %
(0.025-0.975) intervals of X are T·R/n times the F quantiles. For n = R = 1, X/T ~ beta-prime(1, 1), whose
p-quantile is p/(1 - p): the median is T and the 80 % interval T/9 to 9T. The interval carries the
uncertainty of the rate as well as the Poisson noise; it assumes the rate stays as observed (no new sites).

Continuous variables. ``describe_continuous`` gives mean ± SD (ddof = 1) and median with quartiles (numpy's
linear interpolation, Hyndman-Fan type 7); the sample skewness (adjusted Fisher-Pearson, scipy
``skew(bias=False)``, n ≥ 3) chooses which the report prints: |skewness| ≥ 1 → median (IQR).
``mean_ci``: mean ± t(1 - a/2, n - 1)·SD/√n, a = 1 - confidence.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as scipy_stats
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

CENSORED, EVENT, COMPETING = 0, 1, 2


# --- Proportions -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proportion:
    events: int
    n: int
    p: float | None
    lo: float | None
    hi: float | None


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie strictly between 0 and 1.")


def wilson(events: int, n: int, *, confidence: float = 0.95) -> Proportion:
    """events/n with its Wilson score interval; n == 0 gives p, lo, hi None."""
    if n < 0 or not 0 <= events <= n:
        raise ValueError("events must lie between 0 and n.")
    _check_confidence(confidence)
    if n == 0:
        return Proportion(events=0, n=0, p=None, lo=None, hi=None)
    lo, hi = proportion_confint(events, n, alpha=1 - confidence, method="wilson")
    # Exactly 0 at 0/n and 1 at n/n, where the closed form's rounding leaves e.g. 0.9999999999999999.
    lo = 0.0 if events == 0 else float(lo)
    hi = 1.0 if events == n else float(hi)
    return Proportion(events=int(events), n=int(n), p=events / n, lo=lo, hi=hi)


# --- Time to event ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """A right-continuous step function from 0: values[i] holds from times[i] until times[i + 1]."""

    times: tuple[float, ...]
    values: tuple[float, ...]

    def at(self, t: float) -> float:
        """The step value at t: 0.0 before times[0], the last value after the last time."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return 0.0 if i < 0 else self.values[i]


EMPTY_CURVE = Curve(times=(0.0,), values=(0.0,))


def _durations_status(
    durations: ArrayLike, status: ArrayLike, *, allowed: set[int]
) -> tuple[np.ndarray, np.ndarray]:
    time = np.asarray(durations, dtype=float).reshape(-1)
    code = np.asarray(status).reshape(-1)
    if time.shape != code.shape:
        raise ValueError("durations and status must have the same length.")
    if not np.all(np.isfinite(time)) or np.any(time < 0):
        raise ValueError("durations must be finite and not negative.")
    if code.size and not set(np.unique(code).tolist()) <= allowed:
        raise ValueError(f"status must be one of {sorted(allowed)}.")
    if np.any((time == 0) & (code != CENSORED)):
        raise ValueError("an event at duration 0 has no time at risk before it.")
    return time, code.astype(int)


def _curve(times: np.ndarray, values: np.ndarray, *, last: float) -> Curve:
    """The jump points of a non-decreasing step function from 0, carried flat to the last observed time."""
    out_t, out_v = [0.0], [0.0]
    for t, v in zip(times.tolist(), values.tolist(), strict=True):
        if v > out_v[-1]:
            out_t.append(float(t))
            out_v.append(float(v))
    if last > out_t[-1]:
        out_t.append(float(last))
        out_v.append(out_v[-1])
    return Curve(times=tuple(out_t), values=tuple(out_v))


def cumulative_incidence(durations: ArrayLike, status: ArrayLike) -> Curve:
    """Aalen-Johansen cumulative incidence of cause 1 (status 1), death (status 2) competing, 0 censored."""
    time, code = _durations_status(durations, status, allowed={CENSORED, EVENT, COMPETING})
    if time.size == 0:
        return EMPTY_CURVE
    if not np.any(code == EVENT):
        return _curve(np.empty(0), np.empty(0), last=float(time.max()))
    # Only the point estimates are used; statsmodels' standard errors divide by zero where all at risk fail.
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = CumIncidenceRight(time, code)
    return _curve(np.asarray(fit.times), np.asarray(fit.cinc[0]), last=float(time.max()))


def _kaplan_meier(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event times and the Kaplan-Meier survival just after each (empty when there is no event)."""
    if not np.any(event == 1):
        return np.empty(0), np.empty(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = SurvfuncRight(time, event)
    return np.asarray(fit.surv_times, dtype=float), np.asarray(fit.surv_prob, dtype=float)


def km_complement(durations: ArrayLike, events: ArrayLike) -> Curve:
    """1 - Kaplan-Meier survival; events 1 (event) or 0 (censored, competing deaths included)."""
    time, event = _durations_status(durations, events, allowed={CENSORED, EVENT})
    if time.size == 0:
        return EMPTY_CURVE
    times, survival = _kaplan_meier(time, event)
    return _curve(times, 1.0 - survival, last=float(time.max()))


def at_risk(durations: ArrayLike, *, days: list[float]) -> list[int]:
    """For each day d, the number of participants still at risk: duration ≥ d."""
    time = np.sort(np.asarray(durations, dtype=float).reshape(-1))
    return [int(time.size - np.searchsorted(time, d, side="left")) for d in days]


@dataclass(frozen=True)
class FollowUp:
    median: float | None
    q1: float | None
    q3: float | None


# KM products such as 2/3 · 3/4 land a rounding error away from the exact 1/2 they should reach.
_REACHED = 1e-9


def median_follow_up(durations: ArrayLike, events: ArrayLike) -> FollowUp:
    """Median and quartiles of follow-up by reverse Kaplan-Meier; None where the curve never gets there."""
    time, event = _durations_status(durations, events, allowed={CENSORED, EVENT})
    # Flipped: the end of follow-up (censoring) is the "event"; an event censors the follow-up.
    # An event at duration 0 was refused above; a censoring at 0 is a follow-up of 0 days.
    times, survival = _kaplan_meier(time, 1 - event)

    def quantile(p: float) -> float | None:
        reached = np.flatnonzero(survival <= 1 - p + _REACHED)
        return float(times[reached[0]]) if reached.size else None

    return FollowUp(median=quantile(0.5), q1=quantile(0.25), q3=quantile(0.75))


# --- Accrual ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """Days from the cut to the target: predictive median and 80 % / 95 % intervals."""

    enrolled: int
    remaining: int
    days_observed: float
    rate_per_day: float
    median_days: float
    pi80: tuple[float, float]
    pi95: tuple[float, float]


def accrual_projection(*, enrolled: int, days_observed: float, target: int) -> Projection | None:
    """Poisson-gamma projection of the days left to reach target; None when no rate has been observed."""
    if enrolled < 0:
        raise ValueError("enrolled must not be negative.")
    if enrolled == 0 or days_observed <= 0:
        return None
    n, days, remaining = int(enrolled), float(days_observed), int(target) - int(enrolled)
    rate = n / days
    if remaining <= 0:
        return Projection(
            enrolled=n,
            remaining=0,
            days_observed=days,
            rate_per_day=rate,
            median_days=0.0,
            pi80=(0.0, 0.0),
            pi95=(0.0, 0.0),
        )
    scale = days * remaining / n  # X = scale · F(2R, 2n)
    f = scipy_stats.f(2 * remaining, 2 * n)

    def q(p: float) -> float:
        return float(scale * f.ppf(p))

    return Projection(
        enrolled=n,
        remaining=remaining,
        days_observed=days,
        rate_per_day=rate,
        median_days=q(0.5),
        pi80=(q(0.10), q(0.90)),
        pi95=(q(0.025), q(0.975)),
    )


# --- Continuous variables --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Continuous:
    n: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None
    skewness: float | None
    summary: str  # "mean_sd" or "median_iqr"


def _present(values: Iterable) -> np.ndarray:
    """The values as floats, without None and NaN."""
    kept = [float(v) for v in values if v is not None]
    array = np.asarray(kept, dtype=float)
    return array[~np.isnan(array)]


def _sd(x: np.ndarray) -> float | None:
    return float(np.std(x, ddof=1)) if x.size >= 2 else None


def describe_continuous(values: Iterable, *, skew_threshold: float = 1.0) -> Continuous:
    """n, mean, SD, median, quartiles, skewness (None, NaN ignored); |skewness| ≥ threshold: median_iqr.

    No values: all None, "mean_sd". Fewer than three, or all equal: skewness None, "mean_sd".
    """
    x = _present(values)
    if x.size == 0:
        return Continuous(
            n=0, mean=None, sd=None, median=None, q1=None, q3=None, skewness=None, summary="mean_sd"
        )
    q1, median, q3 = (float(v) for v in np.percentile(x, [25, 50, 75]))
    skewness = None
    if x.size >= 3 and np.ptp(x) > 0:
        skewness = float(scipy_stats.skew(x, bias=False))
    summary = "median_iqr" if skewness is not None and abs(skewness) >= skew_threshold else "mean_sd"
    return Continuous(
        n=int(x.size),
        mean=float(np.mean(x)),
        sd=_sd(x),
        median=median,
        q1=q1,
        q3=q3,
        skewness=skewness,
        summary=summary,
    )


@dataclass(frozen=True)
class MeanCI:
    n: int
    mean: float | None
    sd: float | None
    lo: float | None
    hi: float | None


def mean_ci(values: Iterable, *, confidence: float = 0.95) -> MeanCI:
    """Mean with its t-based interval, ignoring None and NaN; n < 2 gives lo, hi (and sd) None."""
    _check_confidence(confidence)
    x = _present(values)
    if x.size == 0:
        return MeanCI(n=0, mean=None, sd=None, lo=None, hi=None)
    mean, sd = float(np.mean(x)), _sd(x)
    if sd is None:
        return MeanCI(n=1, mean=mean, sd=None, lo=None, hi=None)
    half = float(scipy_stats.t.ppf(1 - (1 - confidence) / 2, x.size - 1)) * sd / math.sqrt(x.size)
    return MeanCI(n=int(x.size), mean=mean, sd=sd, lo=mean - half, hi=mean + half)
