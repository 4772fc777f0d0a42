"""The minimum sample size to develop a prediction model (Riley et al.): "you have n; you need N". Pure.

Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for developing a clinical
prediction model. BMJ 2020;368:m441; the formulas are those of Riley RD, Snell KIE, Ensor J, et al.
Minimum sample size for developing a multivariable prediction model: part II, binary and time-to-event
outcomes. Stat Med 2019;38:1276-1296, as the authors' R package pmsampsize 1.1.3 computes them. p is the
number of candidate predictor parameters (every coefficient: a spline with k knots counts k - 1), R2 the
anticipated Cox-Snell R² of the model (from a previous model, or from its C-statistic: ``r2_cs_from_c``).

Criterion (i), small overfitting: an expected uniform shrinkage S >= 0.9 (van Houwelingen's heuristic)
    n = p / ((S - 1) · ln(1 - R2/S))
Criterion (ii), a small optimism, apparent minus adjusted Nagelkerke R² <= δ = 0.05: the same formula with
    S = R2 / (R2 + δ · max R2),   max R2 = 1 - exp(2 · ln L_null / n),
    binary:   ln L_null / n = φ·ln φ + (1 - φ)·ln(1 - φ)    (φ the prevalence)
    survival: ln L_null / n = r·ln r - r,   r = E/n = rate · mean follow-up   (as pmsampsize writes it;
              like pmsampsize, r is a whole number of events among 10,000 people, ⌈10000·rate·follow-up⌉
              / 10000, so that N is pmsampsize's to the person: 0.13455 becomes 0.1346, and criterion
              (ii) can move by one)
Criterion (iii), binary: the intercept (the overall risk) within ± 0.05 (95 %):
    n = (1.96 / 0.05)² · φ(1 - φ)
Criterion (iii), survival: the overall risk at the time point t, 1 - exp(-rate·t), within 0.05 of its upper
    95 % bound 1 - exp(-(rate + 1.96·√(rate / (n · mean follow-up)))·t); pmsampsize only reports that bound
    at max(n_i, n_ii), here the smallest n meeting it is solved for:
    n = rate / follow-up · (1.96 / (-ln(1 - risk - 0.05)/t - rate))²
Each n is rounded up. The required N is the largest; events E = N·φ (binary) or N·rate·follow-up
(survival), and events per parameter EPP = E / p (not rounded up: pmsampsize's EPP column). The expected
shrinkage at N is max(S, S of criterion (ii)).

Worked examples (the tests): binary, R2 0.288, p 24, φ 0.174 gives 623, 662, 221: N 662, EPP 4.8 (the
Chagas disease example of Riley 2019, part II); survival, R2 0.051, p 30, rate 0.065, t 2 years, mean
follow-up 2.07 years gives N 5143, 692 events, EPP 23.07 (the venous thromboembolism example, BMJ 2020).

R2 from a C-statistic (Riley, Van Calster & Collins, Stat Med 2021;40:859-864): the linear predictor is
taken as N(0, 1) in non-events and N(μ, 1) in events, μ = √2·Φ⁻¹(C), which has that C-statistic. In that
population the log-odds of an event given x is exactly logit φ - μ²/2 + μ·x, so the fitted logistic model is
known and R2 = 1 - exp(2 · (ln L_null - ln L_model) / n), its expected log-likelihood per person computed by
Gauss-Hermite quadrature (200 nodes). pmsampsize simulates a million people instead; the same answer up to
simulation noise, without a seed.
"""

import math

import numpy as np
from scipy.stats import norm

# Riley's defaults: expected shrinkage, largest optimism in Nagelkerke's R², margin of the overall risk.
SHRINKAGE = 0.9
R2_DIFFERENCE = 0.05
MARGIN = 0.05
Z = 1.96  # pmsampsize's 95 %, as printed in the papers
# Rounding guard: n a hair above an integer from floating error (662.0000000001) is still 662.
_FUZZ = 1e-9
# pmsampsize's notional cohort for the survival null log-likelihood.
_PEOPLE = 10000


def _ceil(value: float) -> int:
    return math.ceil(value - _FUZZ)


def _check(parameters: int, r2_cs: float, shrinkage: float, max_r2: float) -> None:
    if parameters < 1:
        raise ValueError("There must be at least one predictor parameter.")
    if not 0 < shrinkage < 1:
        raise ValueError("The shrinkage must lie strictly between 0 and 1.")
    if not 0 < r2_cs < shrinkage:
        raise ValueError("The Cox-Snell R² must be above 0 and below the shrinkage.")
    if r2_cs >= max_r2:
        raise ValueError(f"The Cox-Snell R² must be below its maximum here, {max_r2:.3f}.")


def _n_for_shrinkage(parameters: int, r2_cs: float, shrinkage: float) -> int:
    """Riley's equation: n = p / ((S - 1) · ln(1 - R2/S))."""
    return _ceil(parameters / ((shrinkage - 1) * math.log(1 - r2_cs / shrinkage)))


def max_r2_cs_binary(prevalence: float) -> float:
    """The largest Cox-Snell R² a binary outcome with this prevalence allows: 1 - (φ^φ (1-φ)^(1-φ))²."""
    log_null = prevalence * math.log(prevalence) + (1 - prevalence) * math.log(1 - prevalence)
    return 1 - math.exp(2 * log_null)


def max_r2_cs_survival(rate: float, mean_followup: float) -> float:
    """The largest Cox-Snell R² of a time-to-event outcome: 1 - exp(2(r·ln r - r)), r = rate · follow-up."""
    # pmsampsize's events among 10,000 people, rounded up, computed in its order (the same doubles as R).
    r = math.ceil(rate * (mean_followup * _PEOPLE)) / _PEOPLE
    return 1 - math.exp(2 * (r * math.log(r) - r))


def _result(
    *, outcome, parameters, r2_cs, max_r2, criteria, events_per_person, shrinkage, available, available_events
) -> dict:
    for criterion in criteria:
        criterion["events"] = criterion["n"] * events_per_person
        criterion["events_per_parameter"] = criterion["events"] / parameters
    required = max(c["n"] for c in criteria)
    events = required * events_per_person
    return {
        "outcome": outcome,
        "parameters": parameters,
        "r2_cs": r2_cs,
        "max_r2_cs": max_r2,
        "r2_nagelkerke": r2_cs / max_r2,
        "criteria": criteria,
        "required": required,
        "required_events": _ceil(events),
        "events_per_parameter": events / parameters,
        "shrinkage": shrinkage,
        "available": available,
        "available_events": available_events,
        "available_events_per_parameter": None if available_events is None else available_events / parameters,
        "enough": None if available is None else available >= required,
    }


def riley_binary(
    *,
    parameters: int,
    prevalence: float,
    r2_cs: float,
    shrinkage: float = SHRINKAGE,
    r2_difference: float = R2_DIFFERENCE,
    margin: float = MARGIN,
    available: int | None = None,
    available_events: int | None = None,
) -> dict:
    """Riley's three criteria for a logistic model: the development result's "sample_size".

    {"outcome": "binary", "parameters", "prevalence", "r2_cs", "max_r2_cs", "r2_nagelkerke", "criteria":
    [{"code": shrinkage|optimism|intercept, "n", "events", "events_per_parameter"}], "required",
    "required_events", "events_per_parameter", "shrinkage", "available", "available_events",
    "available_events_per_parameter", "enough"}.
    """
    if not 0 < prevalence < 1:
        raise ValueError("The prevalence must lie strictly between 0 and 1.")
    max_r2 = max_r2_cs_binary(prevalence)
    _check(parameters, r2_cs, shrinkage, max_r2)
    optimism_shrinkage = r2_cs / (r2_cs + r2_difference * max_r2)
    criteria = [
        {"code": "shrinkage", "n": _n_for_shrinkage(parameters, r2_cs, shrinkage)},
        {"code": "optimism", "n": _n_for_shrinkage(parameters, r2_cs, optimism_shrinkage)},
        {"code": "intercept", "n": _ceil((Z / margin) ** 2 * prevalence * (1 - prevalence))},
    ]
    result = _result(
        outcome="binary",
        parameters=parameters,
        r2_cs=r2_cs,
        max_r2=max_r2,
        criteria=criteria,
        events_per_person=prevalence,
        shrinkage=max(shrinkage, optimism_shrinkage),
        available=available,
        available_events=available_events,
    )
    return {"prevalence": prevalence, **result}


def riley_survival(
    *,
    parameters: int,
    r2_cs: float,
    rate: float,
    timepoint: float,
    mean_followup: float,
    shrinkage: float = SHRINKAGE,
    r2_difference: float = R2_DIFFERENCE,
    margin: float = MARGIN,
    available: int | None = None,
    available_events: int | None = None,
) -> dict:
    """Riley's three criteria for a Cox model: rate (events per person-time), time point and mean follow-up
    in the same unit (years, say).

    The binary result's keys (criteria codes shrinkage|optimism|risk), with "rate", "timepoint",
    "mean_followup", "person_time" (N · follow-up) and "risk": [estimate, low, high] at N.
    """
    if rate <= 0 or timepoint <= 0 or mean_followup <= 0:
        raise ValueError("The rate, time point and mean follow-up must be positive.")
    max_r2 = max_r2_cs_survival(rate, mean_followup)
    _check(parameters, r2_cs, shrinkage, max_r2)
    risk = 1 - math.exp(-rate * timepoint)
    if risk + margin >= 1:
        raise ValueError("The overall risk at the time point plus the margin must stay below 1.")
    headroom = -math.log(1 - risk - margin) / timepoint - rate
    optimism_shrinkage = r2_cs / (r2_cs + r2_difference * max_r2)
    criteria = [
        {"code": "shrinkage", "n": _n_for_shrinkage(parameters, r2_cs, shrinkage)},
        {"code": "optimism", "n": _n_for_shrinkage(parameters, r2_cs, optimism_shrinkage)},
        {"code": "risk", "n": _ceil(rate / mean_followup * (Z / headroom) ** 2)},
    ]
    result = _result(
        outcome="survival",
        parameters=parameters,
        r2_cs=r2_cs,
        max_r2=max_r2,
        criteria=criteria,
        events_per_person=rate * mean_followup,
        shrinkage=max(shrinkage, optimism_shrinkage),
        available=available,
        available_events=available_events,
    )
    person_time = result["required"] * mean_followup
    half = Z * math.sqrt(rate / person_time)
    return {
        "rate": rate,
        "timepoint": timepoint,
        "mean_followup": mean_followup,
        "person_time": person_time,
        "risk": [risk, 1 - math.exp(-(rate - half) * timepoint), 1 - math.exp(-(rate + half) * timepoint)],
        **result,
    }


def r2_cs_from_c(c: float, prevalence: float) -> float:
    """The Cox-Snell R² a logistic model with this C-statistic and prevalence has (Riley et al. 2021)."""
    if not 0.5 <= c < 1:
        raise ValueError("The C-statistic must lie in [0.5, 1).")
    if not 0 < prevalence < 1:
        raise ValueError("The prevalence must lie strictly between 0 and 1.")
    mu = math.sqrt(2) * float(norm.ppf(c))
    intercept = math.log(prevalence / (1 - prevalence)) - mu**2 / 2
    nodes, weights = np.polynomial.hermite_e.hermegauss(200)  # ∫ f(x) exp(-x²/2) dx
    weights = weights / math.sqrt(2 * math.pi)  # now E f(X), X ~ N(0, 1)
    # log of the logistic function: ln(1/(1 + e^-t)) = -ln(1 + e^-t); events' x = μ + X, non-events' x = X.
    events = -np.logaddexp(0, -(intercept + mu * (mu + nodes))) @ weights
    non_events = -np.logaddexp(0, intercept + mu * nodes) @ weights
    log_model = prevalence * events + (1 - prevalence) * non_events
    log_null = prevalence * math.log(prevalence) + (1 - prevalence) * math.log(1 - prevalence)
    return float(1 - math.exp(2 * (log_null - log_model)))
