"""reports/riskmodel/stats/performance.py against scikit-learn (AUC, Brier), statsmodels (GLM with an offset,
the mean's z interval), hand-worked Harrell's C and group counts, and a brute-force Harrell's C."""

import itertools
import json
import math

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.metrics import brier_score_loss, roc_auc_score
from statsmodels.stats.weightstats import DescrStatsW

from reports.riskmodel.stats.performance import (
    brier,
    c_statistic,
    calibration,
    calibration_curve,
    harrell_c,
    logit,
    observed_expected,
)


def _calibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Risks p from a Beta(2, 5) and outcomes drawn with exactly those risks: perfectly calibrated."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 5, size=n)
    return (rng.random(n) < p).astype(float), p


def test_c_statistic_is_scikit_learns_auc_with_delongs_interval():
    y, p = _calibrated(500, 1)
    p = np.round(p, 2)  # ties across classes
    c = c_statistic(y, p)
    assert c.estimate == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert c.low < c.estimate < c.high
    assert json.loads(json.dumps(c)) == [c.estimate, c.low, c.high]  # the validation result's shape


def test_c_statistic_needs_both_classes():
    with pytest.raises(ValueError, match="with and without"):
        c_statistic([1, 1, 1], [0.2, 0.5, 0.9])


# Six subjects, worked by hand. Status 1 event, 0 censored, 2 competing event (censored).
#   subject  time  status  risk
#   A        1     1       0.9
#   B        2     2       0.5
#   C        3     1       0.7
#   D        3     0       0.7
#   E        4     1       0.3
#   F        5     0       0.8
# A (event at 1) vs everyone later, B C D E F: 5 usable pairs, A's 0.9 is the highest: 5 concordant.
# B's death is not an event: B is never the earlier subject of a pair.
# C (event at 3) vs D (censored at 3: still at risk), E, F: 3 pairs; D ties (1/2), E 0.3 < 0.7 (1),
#   F 0.8 > 0.7 (0): 1.5.
# E (event at 4) vs F: 1 pair, 0.8 > 0.3: 0.
# Harrell's C = (5 + 1.5 + 0) / (5 + 3 + 1) = 6.5 / 9.
# Horizon 3.5: E's event at 4 becomes censored at 3.5, so E's pair goes: 6.5 / 8.
# If B's death counted as an event: B vs C D E F adds 4 pairs, of which only E (0.3 < 0.5) is
#   concordant: 7.5 / 13 (not what we compute).
TIME = [1, 2, 3, 3, 4, 5]
STATUS = [1, 2, 1, 0, 1, 0]
RISK = [0.9, 0.5, 0.7, 0.7, 0.3, 0.8]


def test_harrell_c_by_hand():
    assert harrell_c(TIME, STATUS, RISK) == pytest.approx(6.5 / 9)
    assert harrell_c(TIME, STATUS, RISK, horizon=3.5) == pytest.approx(6.5 / 8)
    assert harrell_c(TIME, [1, 1, 1, 0, 1, 0], RISK) == pytest.approx(7.5 / 13)


def _harrell_brute_force(time, status, risk) -> float:
    """Every ordered pair, straight from the definition."""
    concordant = usable = 0.0
    for i, j in itertools.permutations(range(len(time)), 2):
        if status[i] != 1:
            continue
        if time[j] > time[i] or (time[j] == time[i] and status[j] != 1):
            usable += 1
            concordant += 1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0
    return concordant / usable


def test_harrell_c_equals_the_brute_force_on_tied_data():
    rng = np.random.default_rng(7)
    time = rng.integers(1, 30, size=300)  # many tied times
    status = rng.choice([0, 1, 2], size=300, p=[0.5, 0.35, 0.15])
    risk = np.round(rng.normal(size=300) - 0.03 * time, 1)  # tied risks; earlier events riskier
    assert harrell_c(time, status, risk) == pytest.approx(_harrell_brute_force(time, status, risk), abs=1e-12)


def test_harrell_c_without_censoring_is_the_auc_of_a_two_time_outcome():
    # Events at time 1 and everyone else censored at time 2: the usable pairs are (event, non-event).
    y, p = _calibrated(300, 3)
    assert harrell_c(np.where(y == 1, 1, 2), y.astype(int), p) == pytest.approx(roc_auc_score(y, p))


def test_brier_is_scikit_learns_with_the_means_z_interval():
    y, p = _calibrated(400, 4)
    score = brier(y, p)
    assert score.estimate == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    low, high = DescrStatsW((p - y) ** 2).zconfint_mean(alpha=0.05)
    assert (score.low, score.high) == pytest.approx((low, high), abs=1e-12)


def test_calibration_is_statsmodels_glm_with_an_offset():
    y, p = _calibrated(400, 5)
    p = 1 / (1 + np.exp(-(1.3 * logit(p) - 0.4)))  # miscalibrated on purpose
    result = calibration(y, p)
    family = sm.families.Binomial()
    slope_fit = sm.GLM(y, sm.add_constant(logit(p)), family=family).fit()
    citl_fit = sm.GLM(y, np.ones(len(y)), family=family, offset=logit(p)).fit()
    assert result.slope.estimate == pytest.approx(slope_fit.params[1], abs=1e-8)
    assert (result.slope.low, result.slope.high) == pytest.approx(tuple(slope_fit.conf_int()[1]), abs=1e-6)
    assert result.citl.estimate == pytest.approx(citl_fit.params[0], abs=1e-8)
    assert (result.citl.low, result.citl.high) == pytest.approx(tuple(citl_fit.conf_int()[0]), abs=1e-6)


def test_perfect_calibration_gives_slope_1_and_citl_0():
    y, p = _calibrated(20000, 6)
    result = calibration(y, p)
    assert result.slope.low < 1 < result.slope.high
    assert result.citl.low < 0 < result.citl.high
    assert result.slope.estimate == pytest.approx(1, abs=0.05)
    assert result.citl.estimate == pytest.approx(0, abs=0.05)
    # Overconfident risks (logit doubled) give a slope of about 1/2, too low risks a positive CITL.
    assert calibration(y, 1 / (1 + np.exp(-2 * logit(p)))).slope.estimate == pytest.approx(0.5, abs=0.03)
    assert calibration(y, p / 2).citl.estimate > 0.5


def test_calibration_refuses_a_separated_outcome_and_equal_risks():
    with pytest.raises(ValueError, match="converge"):
        calibration([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    with pytest.raises(ValueError, match="differ"):
        calibration([0, 1, 0, 1], [0.3] * 4)


def test_calibration_curve_groups_by_hand():
    # 100 participants, risks 0.05, 0.15, ..., 0.95 ten times each: deciles are the ten risk levels.
    # At level k (risk 0.05 + 0.1k) exactly k of the ten have the event: observed k/10.
    p = np.repeat(np.arange(10) / 10 + 0.05, 10)
    y = np.concatenate([[1] * k + [0] * (10 - k) for k in range(10)])
    curve = calibration_curve(y, p)
    groups = curve["groups"]
    assert [g["n"] for g in groups] == [10] * 10
    assert [g["predicted"] for g in groups] == pytest.approx(list(np.arange(10) / 10 + 0.05))
    assert [g["observed"] for g in groups] == pytest.approx([k / 10 for k in range(10)])
    # Wilson for 3/10 by hand: (x + z²/2 ± z·√(x(n-x)/n + z²/4)) / (n + z²), z = 1.959964.
    z = 1.959963985
    center, half = 3 + z**2 / 2, z * math.sqrt(3 * 7 / 10 + z**2 / 4)
    assert (groups[3]["low"], groups[3]["high"]) == pytest.approx(
        ((center - half) / (10 + z**2), (center + half) / (10 + z**2)), abs=1e-8
    )
    assert groups[0]["low"] == pytest.approx(0, abs=1e-12)
    smooth = curve["smooth"]
    assert len(smooth["predicted"]) == len(smooth["observed"]) == 50
    assert smooth["predicted"][0] == pytest.approx(0.05) and smooth["predicted"][-1] == pytest.approx(0.95)


def test_calibration_curve_of_calibrated_risks_lies_on_the_diagonal():
    y, p = _calibrated(5000, 8)
    curve = calibration_curve(y, p)
    assert len(curve["groups"]) == 10
    assert sum(g["n"] for g in curve["groups"]) == 5000
    for g in curve["groups"]:  # within 3.5 binomial standard errors
        se = math.sqrt(g["predicted"] * (1 - g["predicted"]) / g["n"])
        assert abs(g["observed"] - g["predicted"]) < 3.5 * se
    middle = [(x, o) for x, o in zip(*curve["smooth"].values(), strict=True) if 0.1 < x < 0.5]
    assert middle
    assert all(abs(o - x) < 0.03 for x, o in middle)


def test_calibration_curve_keeps_tied_risks_together():
    curve = calibration_curve([0, 1, 0, 1, 1, 0], [0.2, 0.2, 0.2, 0.2, 0.6, 0.6])
    assert [g["n"] for g in curve["groups"]] == [4, 2]
    # Lowess windows holding only p = 0.2 have no local line: those points are left out, never NaN.
    smooth = curve["smooth"]
    assert 0 < len(smooth["observed"]) == len(smooth["predicted"]) < 50
    assert all(0 <= o <= 1 for o in smooth["observed"])
    json.dumps(curve, allow_nan=False)


def test_observed_expected_by_hand():
    # O = 2, E = 4 x 0.5 = 2, O/E = 1 with 1 x exp(± 1.959964 / √2) = 0.2502... / 3.9962...
    result = observed_expected([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5])
    assert (result["observed"], result["expected"]) == (2, 2)
    assert result["ratio"] == pytest.approx(
        (1, math.exp(-1.959964 / math.sqrt(2)), math.exp(1.959964 / math.sqrt(2)))
    )


@pytest.mark.parametrize(
    ("y", "p"),
    [([0, 1], [0.5]), ([0, 2], [0.5, 0.5]), ([0, 1], [0.5, 1.5]), ([0, 1], [0.5, np.nan]), ([], [])],
)
def test_bad_input_is_refused(y, p):
    with pytest.raises(ValueError):
        brier(y, p)
