"""reports/stats.py against hand-worked values on small datasets, closed forms and independent references.

The survival datasets are worked out here as fractions, step by step; the functions' results are compared
with those, never with themselves.
"""

import dataclasses
import math
from fractions import Fraction as F

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

from reports.stats import (
    Curve,
    accrual_projection,
    at_risk,
    cumulative_incidence,
    describe_continuous,
    km_complement,
    mean_ci,
    median_follow_up,
    wilson,
)

Z95 = 1.959963984540054  # the 0.975 normal quantile (tables: 1.95996)


def assert_python_numbers(result) -> None:
    """Every number in a result is a Python int or float (the figures dict must be JSON-able as it is)."""
    for field in dataclasses.fields(result):
        value = getattr(result, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            assert item is None or type(item) in (int, float, str), (field.name, type(item))


def assert_steps(curve: Curve, expected: list[tuple[float, F]]) -> None:
    assert curve.times == tuple(float(t) for t, _ in expected)
    assert curve.values == pytest.approx([float(v) for _, v in expected], abs=1e-12)
    assert_python_numbers(curve)


# --- Wilson ----------------------------------------------------------------------------------------------


def wilson_by_hand(events: int, n: int, z: float) -> tuple[float, float]:
    """domain.md: (p + z²/2n ± z·√(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = events / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


@pytest.mark.parametrize(("events", "n"), [(12, 80), (0, 10), (10, 10), (1, 3), (279, 560)])
def test_wilson_matches_the_formula_by_hand_and_statsmodels(events, n):
    result = wilson(events, n)
    lo, hi = wilson_by_hand(events, n, Z95)
    assert (result.events, result.n, result.p) == (events, n, events / n)
    assert result.lo == pytest.approx(lo, abs=1e-12)
    assert result.hi == pytest.approx(hi, abs=1e-12)
    assert (result.lo, result.hi) == pytest.approx(proportion_confint(events, n, method="wilson"), abs=1e-12)
    assert_python_numbers(result)


def test_wilson_worked_values():
    # 12/80: centre 0.15 + 3.8415/160 = 0.17401; half 1.96·√(0.0015938 + 0.00015005) = 0.081846;
    # divided by 1 + 3.8415/80 = 1.048018.
    twelve = wilson(12, 80)
    assert (twelve.lo, twelve.hi) == pytest.approx((0.08794, 0.24413), abs=5e-6)
    # At 0/n the interval is [0, z²/(n + z²)], at n/n [n/(n + z²), 1]: never the zero-width Wald interval.
    z2 = Z95**2
    none = wilson(0, 10)
    assert (none.p, none.lo) == (0.0, 0.0)
    assert none.hi == pytest.approx(z2 / (10 + z2), abs=1e-12)  # 0.2775
    every = wilson(10, 10)
    assert (every.p, every.hi) == (1.0, 1.0)
    assert every.lo == pytest.approx(10 / (10 + z2), abs=1e-12)  # 0.7225


def test_wilson_other_confidence_and_no_participants():
    ninety = wilson(12, 80, confidence=0.90)
    assert (ninety.lo, ninety.hi) == pytest.approx(wilson_by_hand(12, 80, 1.6448536269514722), abs=1e-12)
    assert wilson(0, 0) == wilson(0, 0, confidence=0.9)
    assert (wilson(0, 0).p, wilson(0, 0).lo, wilson(0, 0).hi) == (None, None, None)
    for events, n in [(3, 2), (-1, 5)]:
        with pytest.raises(ValueError):
            wilson(events, n)
    with pytest.raises(ValueError):
        wilson(1, 2, confidence=95)


# --- Kaplan-Meier and Aalen-Johansen ---------------------------------------------------------------------

# Six participants, days from the index date: an event at 2, at 3, a censoring at 3 (at risk at 3: events
# come first at a tie), an event at 5, a censoring at 8, an event at 9.
KM_DAYS = [2, 3, 3, 5, 8, 9]
KM_EVENTS = [1, 1, 0, 1, 0, 1]


def test_kaplan_meier_complement_by_hand():
    # t   at risk  events  S(t)
    # 2   6        1       5/6
    # 3   5        1       5/6 · 4/5 = 2/3
    # 5   3        1       2/3 · 2/3 = 4/9      (3+ left at 3, 8+ is still at risk)
    # 9   1        1       0
    s2 = F(5, 6)
    s3 = s2 * F(4, 5)
    s5 = s3 * F(2, 3)
    s9 = s5 * F(0, 1)
    assert (s3, s5) == (F(2, 3), F(4, 9))
    curve = km_complement(KM_DAYS, KM_EVENTS)
    assert_steps(curve, [(0, F(0)), (2, 1 - s2), (3, 1 - s3), (5, 1 - s5), (9, 1 - s9)])
    # Right-continuous steps: the value at an event time includes that event.
    expected_at = {-1: 0, 0: 0, 1.99: 0, 2: F(1, 6), 2.5: F(1, 6), 3: F(1, 3), 4.99: F(1, 3), 5: F(5, 9),
                   8: F(5, 9), 9: 1, 400: 1}  # fmt: skip
    for t, value in expected_at.items():
        assert curve.at(t) == pytest.approx(float(value), abs=1e-12), t
    # The same as statsmodels' own survival function (the reference the domain names).
    fit = SurvfuncRight(np.array(KM_DAYS, dtype=float), np.array(KM_EVENTS))
    assert curve.values[1:] == pytest.approx(1 - fit.surv_prob, abs=1e-12)


# The same six with the second participant dying at day 3 instead of re-fracturing.
CIF_STATUS = [1, 2, 0, 1, 0, 1]


def test_aalen_johansen_with_a_competing_death_by_hand():
    # S is the survival from any event (re-fracture or death); the CIF rises by S(t-) · d1(t) / n(t).
    # t   at risk  re-fracture  death  S(t-)        CIF
    # 2   6        1            0      1            1/6
    # 3   5        0            1      5/6          1/6            (S(3) = 5/6 · 4/5 = 2/3)
    # 5   3        1            0      2/3          1/6 + 2/3 · 1/3 = 7/18
    # 9   1        1            0      2/3 · 2/3    7/18 + 4/9 · 1/1 = 5/6
    cif2 = F(1, 6)
    s3 = F(5, 6) * F(4, 5)
    cif5 = cif2 + s3 * F(1, 3)
    s5 = s3 * F(2, 3)
    cif9 = cif5 + s5 * F(1, 1)
    assert (cif5, cif9) == (F(7, 18), F(5, 6))
    curve = cumulative_incidence(KM_DAYS, CIF_STATUS)
    assert_steps(curve, [(0, F(0)), (2, cif2), (5, cif5), (9, cif9)])

    # 1 - KM with the death censored: S = 5/6 at 2, then 5/6 · 2/3 = 5/9 at 5, then 0 at 9.
    naive = km_complement(KM_DAYS, [1, 0, 0, 1, 0, 1])
    assert_steps(naive, [(0, F(0)), (2, F(1, 6)), (5, F(4, 9)), (9, F(1))])
    # Equal before the death; after it 1 - KM counts the dead as if they could still re-fracture.
    assert naive.at(2) == pytest.approx(curve.at(2))
    assert naive.at(5) - curve.at(5) == pytest.approx(float(F(4, 9) - F(7, 18)))  # 1/18
    assert naive.at(9) - curve.at(9) == pytest.approx(float(1 - F(5, 6)))  # the 1/6 that died


def test_cumulative_incidence_without_deaths_is_the_kaplan_meier_complement():
    rng = np.random.default_rng(11)
    for _ in range(20):
        days = rng.integers(1, 60, size=25).astype(float)
        events = rng.integers(0, 2, size=25)
        if not events.any():
            continue
        cif, km = cumulative_incidence(days, events), km_complement(days, events)
        assert cif.times == km.times
        assert cif.values == pytest.approx(km.values, abs=1e-12)
        # With deaths among them the CIF never exceeds 1 - KM (deaths censored).
        status = np.where((events == 0) & (rng.random(25) < 0.4), 2, events)
        with_deaths = cumulative_incidence(days, status)
        deaths_censored = km_complement(days, (status == 1).astype(int))
        for t in with_deaths.times:
            assert with_deaths.at(t) <= deaths_censored.at(t) + 1e-12


def test_curves_span_the_follow_up_and_handle_no_events():
    # Censored at 3 and 12 after the only event: the curve stays flat to the last observed day.
    assert_steps(km_complement([2, 3, 12], [1, 0, 0]), [(0, F(0)), (2, F(1, 3)), (12, F(1, 3))])
    assert_steps(cumulative_incidence([2, 3, 12], [2, 0, 0]), [(0, F(0)), (12, F(0))])
    assert_steps(km_complement([4, 7], [0, 0]), [(0, F(0)), (7, F(0))])
    for curve in (cumulative_incidence([], []), km_complement([], [])):
        assert curve == Curve(times=(0.0,), values=(0.0,))
        assert curve.at(365) == 0.0


@pytest.mark.parametrize(
    ("days", "status"),
    [([1, 2], [1]), ([-1, 2], [0, 1]), ([0, 2], [1, 0]), ([1, float("nan")], [0, 1]), ([1, 2], [0, 3])],
)
def test_survival_input_errors(days, status):
    with pytest.raises(ValueError):
        cumulative_incidence(days, status)


def test_kaplan_meier_refuses_competing_codes():
    # The caller passes deaths as censored (0): a 2 here is a mistake, not a silent event.
    with pytest.raises(ValueError):
        km_complement([1, 2], [2, 0])


def test_at_risk_counts_durations_not_before_the_day():
    assert at_risk(KM_DAYS, days=[0, 3, 3.5, 9, 10]) == [6, 5, 3, 1, 0]
    assert at_risk([], days=[0, 90]) == [0, 0]
    assert all(type(n) is int for n in at_risk(np.array(KM_DAYS), days=[0]))


# --- Median follow-up (reverse Kaplan-Meier) -------------------------------------------------------------


def test_median_follow_up_by_reverse_kaplan_meier_by_hand():
    # Seven participants: events at 2, 5, 12 (they end follow-up without being censored); censored at 4, 6,
    # 7, 10. Reversed, the censorings are the "events" and the events censor:
    # t    at risk  ends  S(t)
    # 4    6        1     5/6
    # 6    4        1     5/6 · 3/4 = 5/8      (<= 3/4: the first quartile)
    # 7    3        1     5/8 · 2/3 = 5/12     (<= 1/2: the median)
    # 10   2        1     5/12 · 1/2 = 5/24    (<= 1/4: the third quartile)
    days = [2, 4, 5, 6, 7, 10, 12]
    events = [1, 0, 1, 0, 0, 0, 1]
    s = F(5, 6)
    assert s > F(3, 4)
    s *= F(3, 4)
    assert F(1, 2) < s <= F(3, 4)
    s *= F(2, 3)
    assert F(1, 4) < s <= F(1, 2)
    s *= F(1, 2)
    assert s <= F(1, 4)
    follow_up = median_follow_up(days, events)
    assert (follow_up.q1, follow_up.median, follow_up.q3) == (6.0, 7.0, 10.0)
    assert_python_numbers(follow_up)
    # statsmodels' quantile of the flipped curve agrees here (the curve never sits exactly on a quartile).
    fit = SurvfuncRight(np.array(days, dtype=float), 1 - np.array(events))
    assert [fit.quantile(p) for p in (0.25, 0.5, 0.75)] == [6.0, 7.0, 10.0]
    # The median of the observed times (6) is not the median follow-up: events cut follow-up short.
    assert np.median(days) == 6.0


def test_median_follow_up_reaches_a_quantile_exactly_on_it():
    # Censored at 1 and 2, events at 3 and 4: reversed S is 3/4 at 1 and 3/4 · 2/3 = 1/2 at 2. The curve
    # reaches one half at 2 (statsmodels' strict "< 1/2" would give no median at all).
    follow_up = median_follow_up([1, 2, 3, 4], [0, 0, 1, 1])
    assert (follow_up.q1, follow_up.median, follow_up.q3) == (1.0, 2.0, None)


def test_median_follow_up_not_computable():
    # Nobody censored: the reversed curve never falls.
    assert median_follow_up([3, 5], [1, 1]) == median_follow_up([], [])
    assert (median_follow_up([], []).median, median_follow_up([], []).q1) == (None, None)


# --- Accrual projection ----------------------------------------------------------------------------------


def test_accrual_projection_hand_computable_case():
    # n = 1 in T = 100 days, R = 1 to go: X/T ~ beta-prime(1, 1), P(X/T <= y) = y/(1 + y), so the
    # p-quantile is T·p/(1 - p): median T, 80 % T/9 to 9T, 95 % T/39 to 39T.
    projection = accrual_projection(enrolled=1, days_observed=100.0, target=2)
    assert (projection.enrolled, projection.remaining, projection.days_observed) == (1, 1, 100.0)
    assert projection.rate_per_day == pytest.approx(0.01)
    assert projection.median_days == pytest.approx(100.0)
    assert projection.pi80 == pytest.approx((100 / 9, 900.0))
    assert projection.pi95 == pytest.approx((100 * 0.025 / 0.975, 3900.0))
    assert_python_numbers(projection)


def test_accrual_projection_other_closed_forms():
    # n = 1: beta-prime(R, 1) has P(X/T <= y) = (y/(1 + y))^R, quantile u/(1 - u) with u = p^(1/R).
    projection = accrual_projection(enrolled=1, days_observed=10.0, target=3)
    u = 0.5 ** (1 / 2)
    assert projection.median_days == pytest.approx(10 * u / (1 - u))  # 24.14 days
    # R = 1: beta-prime(1, n) has P(X/T <= y) = 1 - (1 + y)^-n, quantile (1 - p)^(-1/n) - 1.
    projection = accrual_projection(enrolled=4, days_observed=100.0, target=5)
    assert projection.median_days == pytest.approx(100 * (2 ** (1 / 4) - 1))  # 18.92 days
    low, high = projection.pi95
    assert (low, high) == pytest.approx((100 * (0.975 ** (-1 / 4) - 1), 100 * (0.025 ** (-1 / 4) - 1)))


def test_accrual_projection_agrees_with_a_simulation_of_the_model():
    # The model drawn directly: λ ~ Gamma(n, rate T), then the time to R more ~ Gamma(R, rate λ).
    n, days, target = 30, 200.0, 80
    rng = np.random.default_rng(20240105)
    rate = rng.gamma(shape=n, scale=1 / days, size=400_000)
    waits = rng.gamma(shape=target - n, scale=1 / rate)
    simulated = np.quantile(waits, [0.025, 0.10, 0.5, 0.90, 0.975])
    projection = accrual_projection(enrolled=n, days_observed=days, target=target)
    computed = [projection.pi95[0], projection.pi80[0], projection.median_days, *projection.pi80[1:],
                projection.pi95[1]]  # fmt: skip
    # 400,000 draws put each quantile within about 0.3 % (its standard error); 1 % leaves room.
    assert computed == pytest.approx(simulated.tolist(), rel=0.01)
    # The plug-in model (λ fixed at n/T, Gamma(R, scale T/n)) ignores the rate's uncertainty: its 95 %
    # interval lies well inside the projection's.
    plug_in = scipy_stats.gamma(a=target - n, scale=days / n)
    assert projection.pi95[0] < 0.9 * plug_in.ppf(0.025)
    assert projection.pi95[1] > 1.1 * plug_in.ppf(0.975)
    assert projection.rate_per_day == pytest.approx(0.15)


def test_accrual_projection_without_a_rate_or_with_the_target_met():
    assert accrual_projection(enrolled=0, days_observed=100.0, target=560) is None
    assert accrual_projection(enrolled=5, days_observed=0.0, target=560) is None
    assert accrual_projection(enrolled=5, days_observed=-3.0, target=560) is None
    for enrolled in (560, 600):
        met = accrual_projection(enrolled=enrolled, days_observed=400.0, target=560)
        assert (met.remaining, met.median_days, met.pi80, met.pi95) == (0, 0.0, (0.0, 0.0), (0.0, 0.0))
        assert met.rate_per_day == pytest.approx(enrolled / 400)
    with pytest.raises(ValueError):
        accrual_projection(enrolled=-1, days_observed=10.0, target=5)


# --- Continuous variables --------------------------------------------------------------------------------

SYMMETRIC = [2, 4, 4, 5, 6, 6, 8]  # about 5: deviations -3 -1 -1 0 1 1 3, squares sum to 22


def test_describe_symmetric_gives_mean_sd():
    result = describe_continuous([*SYMMETRIC, None, float("nan")])
    assert result.n == 7
    assert result.mean == pytest.approx(5.0)
    assert result.sd == pytest.approx(math.sqrt(22 / 6))
    # Type 7: quartile positions (n - 1)·p = 1.5, 3, 4.5 between the sorted values.
    assert (result.q1, result.median, result.q3) == (4.0, 5.0, 6.0)
    assert result.skewness == pytest.approx(0.0, abs=1e-12)
    assert result.summary == "mean_sd"
    assert_python_numbers(result)


def skewness_by_hand(values: list[float]) -> float:
    """Adjusted Fisher-Pearson G1 = g1 · √(n(n-1))/(n-2), g1 = m3/m2^(3/2) with central moments over n."""
    n = len(values)
    mean = F(sum(values), n)
    m2 = sum((F(v) - mean) ** 2 for v in values) / n
    m3 = sum((F(v) - mean) ** 3 for v in values) / n
    return float(m3) / float(m2) ** 1.5 * math.sqrt(n * (n - 1)) / (n - 2)


def test_describe_skewed_gives_median_iqr():
    skewed = [1, 2, 3, 4, 5, 6, 30]  # one long stay
    result = describe_continuous(skewed)
    assert result.skewness == pytest.approx(skewness_by_hand(skewed))
    assert result.skewness > 1
    assert result.summary == "median_iqr"
    # Type 7: positions 1.5, 3, 4.5 give 2.5, 4, 5.5.
    assert (result.q1, result.median, result.q3) == (2.5, 4.0, 5.5)
    assert result.mean == pytest.approx(51 / 7)
    # Skewed to the left counts the same; a higher threshold keeps mean ± SD.
    left = describe_continuous([-v for v in skewed])
    assert left.skewness == pytest.approx(-result.skewness)
    assert left.summary == "median_iqr"
    assert describe_continuous(skewed, skew_threshold=result.skewness + 0.01).summary == "mean_sd"


def test_describe_few_values():
    two = describe_continuous([4, None, 6])
    assert (two.n, two.mean, two.median, two.q1, two.q3, two.skewness) == (2, 5.0, 5.0, 4.5, 5.5, None)
    assert two.sd == pytest.approx(math.sqrt(2))
    assert two.summary == "mean_sd"
    one = describe_continuous([7.5])
    assert (one.n, one.mean, one.sd, one.median, one.skewness) == (1, 7.5, None, 7.5, None)
    assert describe_continuous([None, float("nan")]) == describe_continuous([])
    empty = describe_continuous([])
    assert (empty.n, empty.mean, empty.sd, empty.median, empty.summary) == (0, None, None, None, "mean_sd")
    # All equal: no spread, no skewness (0/0), still a summary.
    same = describe_continuous([3, 3, 3])
    assert (same.sd, same.skewness, same.summary) == (0.0, None, "mean_sd")


def test_mean_ci_is_mean_plus_minus_t_sd_over_root_n():
    result = mean_ci([*SYMMETRIC, None])
    # t(0.975, 6) = 2.4469 (tables); sd = √(22/6).
    t = scipy_stats.t.ppf(0.975, 6)
    assert t == pytest.approx(2.4469, abs=1e-4)
    half = t * math.sqrt(22 / 6) / math.sqrt(7)
    assert (result.n, result.mean) == (7, pytest.approx(5.0))
    assert (result.lo, result.hi) == pytest.approx((5 - half, 5 + half))
    assert_python_numbers(result)
    ninety = mean_ci(SYMMETRIC, confidence=0.90)
    half90 = 1.9432 * math.sqrt(22 / 6) / math.sqrt(7)  # t(0.95, 6) = 1.9432 (tables)
    assert (ninety.lo, ninety.hi) == pytest.approx((5 - half90, 5 + half90), abs=1e-3)


def test_mean_ci_with_fewer_than_two_values():
    assert mean_ci([4.0, None]) == mean_ci([4.0])
    one = mean_ci([4.0])
    assert (one.n, one.mean, one.sd, one.lo, one.hi) == (1, 4.0, None, None, None)
    empty = mean_ci([])
    assert (empty.n, empty.mean, empty.lo) == (0, None, None)
