"""reports/accuracy/roc.py against scikit-learn (AUC, ROC points), a brute-force O(n·m) DeLong written here,
R pROC's published results on its aSAH data, and Hanley & McNeil's rating data."""

import dataclasses
import json
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from reports.accuracy import (
    auc_delong,
    auc_mann_whitney,
    delong_covariance,
    delong_test,
    roc_curve_points,
)

from . import asah


def _dataset_id(value) -> str:
    return value if isinstance(value, str) else ""


def _datasets():
    """(name, reference, scores): continuous, rounded (many ties), ordinal, all tied, separable, inverted."""
    rng = np.random.default_rng(20251126)
    y = rng.random(300) < 0.4
    continuous = y * 0.8 + rng.normal(size=300)
    return [
        ("continuous", y, continuous),
        ("rounded, ties within and across classes", y, np.round(continuous, 1)),
        ("ordinal 1-5", y, np.clip(np.round(continuous + 3), 1, 5)),
        ("all tied", y, np.full(300, 0.5)),
        ("separable", np.array([0, 0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4, 0.9])),
        ("inverted", np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.3, 0.4])),
        ("tiny with a tie", np.array([1, 0, 1, 0]), np.array([0.5, 0.5, 0.7, 0.2])),
    ]


@pytest.mark.parametrize(("name", "reference", "scores"), _datasets(), ids=_dataset_id)
def test_auc_equals_scikit_learn(name, reference, scores):
    assert auc_mann_whitney(reference=reference, scores=scores) == pytest.approx(
        roc_auc_score(reference, scores), abs=1e-12
    )


def test_auc_with_ties_by_hand():
    # Acute 0.5, 0.7; chronic 0.5, 0.2. Pairs: (0.5, 0.5) tie ½, (0.5, 0.2) 1, (0.7, 0.5) 1, (0.7, 0.2) 1.
    # AUC = 3.5/4 = 0.875.
    assert auc_mann_whitney(reference=[1, 0, 1, 0], scores=[0.5, 0.5, 0.7, 0.2]) == 0.875


def test_auc_reproduces_hanley_and_mcneil_1982():
    # Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating characteristic (ROC)
    # curve. Radiology 1982;143:29-36, Table 1: 109 CT images rated 1 (definitely normal) to 5 (definitely
    # abnormal); normal 33, 6, 6, 11, 2 and abnormal 3, 2, 2, 11, 33. Their area (Wilcoxon, ties ½) is 0.893.
    normal, abnormal = [33, 6, 6, 11, 2], [3, 2, 2, 11, 33]
    reference = [0] * sum(normal) + [1] * sum(abnormal)
    ratings = np.r_[np.repeat(np.arange(1, 6), normal), np.repeat(np.arange(1, 6), abnormal)]
    assert round(auc_mann_whitney(reference=reference, scores=ratings), 3) == 0.893


def _brute_force(reference, predictors):
    """DeLong 1988 from the definition: psi over every (acute, chronic) pair, then sample covariances."""
    reference = np.asarray(reference, dtype=bool)
    v10, v01 = [], []
    for scores in predictors:
        scores = np.asarray(scores, dtype=float)
        x, y = scores[reference], scores[~reference]
        psi = np.array([[1.0 if xi > yj else 0.5 if xi == yj else 0.0 for yj in y] for xi in x])
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    m, n = len(v10[0]), len(v01[0])
    aucs = [float(np.mean(v)) for v in v10]
    k = len(predictors)
    cov = [[0.0] * k for _ in range(k)]
    for a in range(k):
        for b in range(k):
            s10 = sum((v10[a][i] - aucs[a]) * (v10[b][i] - aucs[b]) for i in range(m)) / (m - 1)
            s01 = sum((v01[a][j] - aucs[a]) * (v01[b][j] - aucs[b]) for j in range(n)) / (n - 1)
            cov[a][b] = s10 / m + s01 / n
    return aucs, cov


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_delong_equals_the_brute_force_structural_components(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(90) < 0.45
    a = np.round(y * 0.7 + rng.normal(size=90), 1)  # rounded: ties within and across classes
    b = np.round(0.6 * a + rng.normal(scale=0.8, size=90), 1)
    c = rng.integers(1, 4, size=90)  # three levels only
    result = delong_covariance(reference=y, scores=[a, b, c])
    aucs, cov = _brute_force(y, [a, b, c])
    np.testing.assert_allclose(result.aucs, aucs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.array(result.covariance), np.array(cov), rtol=1e-9, atol=1e-15)
    # And the test's Z from them: (A_a - A_b)/√(V_a + V_b - 2C).
    test = delong_test(reference=y, scores_a=a, scores_b=b)
    assert test.z == pytest.approx((aucs[0] - aucs[1]) / math.sqrt(cov[0][0] + cov[1][1] - 2 * cov[0][1]))


# R pROC's own expected values for its aSAH data (tests/asah.py says where the data come from), from the
# package's test suite, xrobin/pROC commit ee2877e8 (pROC 1.19): r.x <- roc(aSAH$outcome, aSAH$x).
#   tests/testthat/test-var.R: var(r.wfns) = 0.00146991470882363, var(r.ndka) = 0.0031908105493913,
#     var(r.s100b) = 0.00266868245717244 (DeLong).
#   tests/testthat/test-ci.auc.R: ci.auc(r.ndka) = 0.501244999271703, 0.611957994579946, 0.722670989888189.
#   tests/testthat/test-roc.test.R, roc.test(r.wfns, r.s100b): Z = 2.20898359144091, p = 0.0271757822291882,
#     conf.int 0.0104061769564846 to 0.174214419249478; roc.test(r.wfns, r.ndka): Z = 2.79777591868904,
#     p = 0.00514557970691098, conf.int 0.0634011709339876 to 0.3600405634833566; roc.test(r.ndka, r.s100b):
#     Z = -1.39077002573558, p = 0.164295175223054, conf.int -0.2876917446341914 to 0.0488706064228094.
# (The first is the example of pROC's roc.test documentation, printed there as Z = -2.209, p = 0.02718 with
# s100b first.)
PROC_VAR = {"wfns": 0.00146991470882363, "ndka": 0.0031908105493913, "s100b": 0.00266868245717244}
PROC_TESTS = [
    ("wfns", "s100b", 2.20898359144091, 0.0271757822291882, (0.0104061769564846, 0.174214419249478)),
    ("wfns", "ndka", 2.79777591868904, 0.00514557970691098, (0.0634011709339876, 0.3600405634833566)),
    ("ndka", "s100b", -1.39077002573558, 0.164295175223054, (-0.2876917446341914, 0.0488706064228094)),
]
MARKERS = {"wfns": asah.WFNS, "ndka": asah.NDKA, "s100b": asah.S100B}


def test_the_asah_transcription():
    assert len(asah.OUTCOME) == len(asah.WFNS) == len(asah.S100B) == len(asah.NDKA) == 113
    assert sum(asah.OUTCOME) == 41


@pytest.mark.parametrize("marker", sorted(PROC_VAR))
def test_delong_variance_reproduces_proc(marker):
    auc = auc_delong(reference=asah.OUTCOME, scores=MARKERS[marker])
    assert auc.se**2 == pytest.approx(PROC_VAR[marker], rel=1e-9)


def test_delong_interval_reproduces_proc_ci_auc():
    auc = auc_delong(reference=asah.OUTCOME, scores=asah.NDKA)
    assert (auc.lo, auc.auc, auc.hi) == pytest.approx(
        (0.501244999271703, 0.611957994579946, 0.722670989888189), rel=1e-9
    )
    assert (auc.n_positive, auc.n_negative, auc.method) == (41, 72, "delong")


@pytest.mark.parametrize(("a", "b", "z", "p", "interval"), PROC_TESTS, ids=lambda v: str(v))
def test_delong_test_reproduces_proc_roc_test(a, b, z, p, interval):
    result = delong_test(reference=asah.OUTCOME, scores_a=MARKERS[a], scores_b=MARKERS[b])
    assert result.z == pytest.approx(z, rel=1e-9)
    assert result.p == pytest.approx(p, rel=1e-9)
    assert (result.lo, result.hi) == pytest.approx(interval, rel=1e-9)
    assert result.difference == pytest.approx(result.auc_a - result.auc_b)
    swapped = delong_test(reference=asah.OUTCOME, scores_a=MARKERS[b], scores_b=MARKERS[a])
    assert (swapped.z, swapped.p) == pytest.approx((-z, p), rel=1e-9)


def test_identical_models_give_z_0_and_p_1():
    result = delong_test(reference=asah.OUTCOME, scores_a=asah.S100B, scores_b=asah.S100B)
    assert (result.difference, result.z, result.p) == (0.0, 0.0, 1.0)


def test_a_difference_without_variance_has_no_z():
    # A perfect model (every component 1) against a constant one (every component ½): both variances 0.
    reference = [0, 0, 0, 1, 1, 1]
    result = delong_test(reference=reference, scores_a=[1, 2, 3, 4, 5, 6], scores_b=[1] * 6)
    assert result.difference == 0.5
    assert (result.z, result.p, result.reason) == (None, None, "zero_variance_difference")


def test_too_few_vertebrae_give_none_with_a_reason_and_json():
    one_class = auc_delong(reference=[1, 1, 1], scores=[0.1, 0.2, 0.3])
    assert one_class.auc is None and one_class.reason == "one_class_only"
    one_acute = auc_delong(reference=[1, 0, 0], scores=[0.9, 0.2, 0.3])
    assert one_acute.auc == 1.0 and one_acute.se is None and one_acute.reason == "too_few_for_variance"
    test = delong_test(reference=[1, 0, 0], scores_a=[0.9, 0.2, 0.3], scores_b=[0.1, 0.2, 0.3])
    assert test.difference == 1.0 and test.z is None and test.reason
    for result in (one_class, one_acute, test, auc_delong(reference=asah.OUTCOME, scores=asah.WFNS)):
        json.dumps(dataclasses.asdict(result), allow_nan=False)


def test_the_interval_is_clipped_to_0_1():
    # AUC 1 with variance 0: the interval is [1, 1], not past 1.
    result = auc_delong(reference=[0, 0, 1, 1], scores=[0.1, 0.2, 0.8, 0.9])
    assert (result.auc, result.se, result.lo, result.hi) == (1.0, 0.0, 1.0, 1.0)
    # AUC near 1 with some variance: the upper limit would pass 1 without the clip.
    near = auc_delong(reference=[0, 0, 0, 1, 1, 1], scores=[0.1, 0.2, 0.7, 0.6, 0.8, 0.9])
    assert near.auc + 1.96 * near.se > 1 and near.hi == 1.0


@pytest.mark.parametrize(("name", "reference", "scores"), _datasets(), ids=_dataset_id)
def test_roc_points_equal_scikit_learn(name, reference, scores):
    curve = roc_curve_points(reference=reference, scores=scores)
    fpr, tpr, thresholds = roc_curve(reference, scores, drop_intermediate=False)
    np.testing.assert_allclose(curve.fpr, fpr, atol=1e-15)
    np.testing.assert_allclose(curve.tpr, tpr, atol=1e-15)
    # scikit-learn's first threshold is +inf (nothing called acute); ours is None, JSON-safe.
    assert curve.thresholds[0] is None and np.isinf(thresholds[0])
    np.testing.assert_array_equal(curve.thresholds[1:], thresholds[1:])
    # The trapezoidal area under these points is the Mann-Whitney AUC.
    area = float(np.sum(np.diff(curve.fpr) * (np.array(curve.tpr[1:]) + np.array(curve.tpr[:-1])) / 2))
    assert area == pytest.approx(auc_mann_whitney(reference=reference, scores=scores), abs=1e-12)
    json.dumps(dataclasses.asdict(curve), allow_nan=False)


def test_roc_and_auc_refuse_a_missing_class_and_bad_scores():
    with pytest.raises(ValueError, match="both"):
        roc_curve_points(reference=[0, 0], scores=[0.1, 0.2])
    with pytest.raises(ValueError, match="both"):
        auc_mann_whitney(reference=[1, 1], scores=[0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        auc_delong(reference=[1, 0], scores=[0.1, float("inf")])
    with pytest.raises(ValueError, match="same length"):
        delong_test(reference=[1, 0, 1], scores_a=[0.1, 0.2, 0.3], scores_b=[0.1, 0.2])
