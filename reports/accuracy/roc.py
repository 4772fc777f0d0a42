"""AUC with its DeLong interval, the DeLong test of two correlated AUCs, and the ROC curve's points.

Acute is the positive class, and a higher score means "more likely acute".

AUC is the Mann-Whitney statistic: the share of (acute, chronic) pairs in which the acute vertebra scores
higher, a tie counting one half. It equals the trapezoidal area under the empirical ROC curve.

DeLong, DeLong & Clarke-Pearson (Biometrics 1988;44:837-845): with m acute scores X_i and n chronic scores
Y_j, and psi(x, y) = 1 if x > y, 1/2 if x = y, 0 otherwise, the structural components are
V10(X_i) = (1/n)·Σ_j psi(X_i, Y_j) and V01(Y_j) = (1/m)·Σ_i psi(X_i, Y_j); AUC = mean V10 = mean V01. For k
predictors scored on the same vertebrae, S10 and S01 are the k-by-k sample covariance matrices (ddof = 1) of
the components, and cov(AUC) = S10/m + S01/n. They are computed with midranks in O((m + n)·log(m + n)) per
predictor (Sun & Xu, IEEE Signal Process Lett 2014;21:1389-1393): with T_Z the midranks among all m + n
scores, T_X among the acute and T_Y among the chronic, V10(X_i) = (T_Z(X_i) - T_X(X_i))/n and
V01(Y_j) = 1 - (T_Z(Y_j) - T_Y(Y_j))/m. The tests check them against a brute-force O(m·n) computation.

- The interval: AUC ± z·SE, clipped to [0, 1] (as R's pROC ``ci.auc`` does). It needs at least two acute and
  two chronic vertebrae (a sample covariance); otherwise lo and hi are None with a reason.
- The test of two models on the same vertebrae: Z = (AUC_a - AUC_b) / √(V_a + V_b - 2·C_ab), two-sided
  p = 2·(1 - Φ(|Z|)), with the Wald interval of the difference. Identical scores give Z 0 and p 1 (as pROC);
  a nonzero difference whose variance is 0 gives Z and p None with a reason.
These are the numbers R's pROC (Robin et al., BMC Bioinformatics 2011;12:77) gives with ``ci.auc``,
``var`` and ``roc.test(method = "delong")``; the tests reproduce its published results on its aSAH data.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm, rankdata

from reports.accuracy._inputs import binary_array, check_confidence, check_same_length, score_array


@dataclass(frozen=True)
class Auc:
    """AUC (None if a class is absent) with its DeLong standard error and interval (None with a reason)."""

    auc: float | None
    se: float | None
    lo: float | None
    hi: float | None
    n_positive: int
    n_negative: int
    confidence: float
    method: str = "delong"
    reason: str | None = None


@dataclass(frozen=True)
class AucComparison:
    """The DeLong test of AUC_a against AUC_b on the same vertebrae: the difference a - b, Z and p."""

    auc_a: float | None
    auc_b: float | None
    difference: float | None
    se: float | None
    lo: float | None
    hi: float | None
    z: float | None
    p: float | None
    n_positive: int
    n_negative: int
    confidence: float
    reason: str | None = None


@dataclass(frozen=True)
class DelongCovariance:
    """The AUCs of k predictors on the same vertebrae and their k-by-k DeLong covariance matrix."""

    aucs: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class RocCurve:
    """The empirical ROC curve's corners, from (0, 0) to (1, 1), for drawing.

    Point i (i ≥ 1) is the curve when a vertebra is called acute at ``score >= thresholds[i]``, the thresholds
    being the distinct scores in decreasing order. Point 0 is (0, 0), nothing called acute, with threshold
    None (scikit-learn writes +inf there, which JSON cannot hold).
    """

    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    thresholds: tuple[float | None, ...]


def _split(reference: ArrayLike, scores: Sequence[ArrayLike]) -> tuple[np.ndarray, np.ndarray]:
    """The reference as booleans and the k predictors as a k-by-N float matrix, checked."""
    ref = binary_array(reference, "reference")
    if not len(scores):
        raise ValueError("Give the scores of at least one predictor.")
    rows = [score_array(s) for s in scores]
    check_same_length(ref, *rows)
    return ref, np.vstack(rows)


def _components(ref: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUCs (k,), V10 (k-by-m) and V01 (k-by-n) by midranks (Sun & Xu 2014)."""
    positives, negatives = matrix[:, ref], matrix[:, ~ref]
    m, n = positives.shape[1], negatives.shape[1]
    t_x = rankdata(positives, axis=1)
    t_y = rankdata(negatives, axis=1)
    t_z = rankdata(np.hstack([positives, negatives]), axis=1)
    v10 = (t_z[:, :m] - t_x) / n
    v01 = 1.0 - (t_z[:, m:] - t_y) / m
    aucs = (t_z[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    return aucs, v10, v01


def auc_mann_whitney(*, reference: ArrayLike, scores: ArrayLike) -> float:
    """The AUC as the Mann-Whitney statistic (ties one half); ValueError if a class is absent."""
    ref, matrix = _split(reference, [scores])
    if ref.all() or not ref.any():
        raise ValueError("The AUC needs both acute and chronic vertebrae.")
    aucs, _, _ = _components(ref, matrix)
    return float(aucs[0])


def delong_covariance(*, reference: ArrayLike, scores: Sequence[ArrayLike]) -> DelongCovariance:
    """AUCs of k predictors on the same vertebrae and their DeLong covariance (S10/m + S01/n, ddof 1).

    ValueError unless there are at least two acute and two chronic vertebrae.
    """
    ref, matrix = _split(reference, scores)
    m, n = int(ref.sum()), int((~ref).sum())
    if m < 2 or n < 2:
        raise ValueError("The DeLong covariance needs at least two acute and two chronic vertebrae.")
    aucs, v10, v01 = _components(ref, matrix)
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return DelongCovariance(
        aucs=tuple(float(a) for a in aucs), covariance=tuple(tuple(float(c) for c in row) for row in cov)
    )


def _too_few(m: int, n: int) -> str | None:
    if m == 0 or n == 0:
        return "one_class_only"
    if m < 2 or n < 2:
        return "too_few_for_variance"
    return None


def auc_delong(*, reference: ArrayLike, scores: ArrayLike, confidence: float = 0.95) -> Auc:
    """The AUC with its DeLong standard error and interval (AUC ± z·SE clipped to [0, 1])."""
    check_confidence(confidence)
    ref, matrix = _split(reference, [scores])
    m, n = int(ref.sum()), int((~ref).sum())
    reason = _too_few(m, n)
    if m == 0 or n == 0:
        return Auc(None, None, None, None, m, n, confidence, reason=reason)
    auc = auc_mann_whitney(reference=ref, scores=matrix[0])
    if reason:
        return Auc(auc, None, None, None, m, n, confidence, reason=reason)
    variance = delong_covariance(reference=ref, scores=[matrix[0]]).covariance[0][0]
    se = math.sqrt(max(variance, 0.0))
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    return Auc(auc, se, max(0.0, auc - z * se), min(1.0, auc + z * se), m, n, confidence)


def delong_test(
    *, reference: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike, confidence: float = 0.95
) -> AucComparison:
    """The DeLong test of two correlated AUCs (models a and b on the same vertebrae): Z, two-sided p.

    The difference is AUC_a - AUC_b, with its Wald interval at ``confidence``. Identical scores give Z 0 and
    p 1; too few vertebrae, or a nonzero difference of variance 0, give None with a reason.
    """
    check_confidence(confidence)
    ref, matrix = _split(reference, [scores_a, scores_b])
    m, n = int(ref.sum()), int((~ref).sum())
    reason = _too_few(m, n)
    if m == 0 or n == 0:
        return AucComparison(None, None, None, None, None, None, None, None, m, n, confidence, reason)
    aucs, _, _ = _components(ref, matrix)
    auc_a, auc_b = float(aucs[0]), float(aucs[1])
    difference = auc_a - auc_b
    if reason:
        return AucComparison(auc_a, auc_b, difference, None, None, None, None, None, m, n, confidence, reason)
    cov = delong_covariance(reference=ref, scores=[matrix[0], matrix[1]]).covariance
    variance = cov[0][0] + cov[1][1] - 2 * cov[0][1]
    if variance <= 0:
        if difference == 0:
            return AucComparison(auc_a, auc_b, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, m, n, confidence)
        return AucComparison(
            auc_a,
            auc_b,
            difference,
            0.0,
            None,
            None,
            None,
            None,
            m,
            n,
            confidence,
            "zero_variance_difference",
        )
    se = math.sqrt(variance)
    z = difference / se
    p = float(2 * norm.sf(abs(z)))
    half = float(norm.ppf(1 - (1 - confidence) / 2)) * se
    return AucComparison(
        auc_a, auc_b, difference, se, difference - half, difference + half, z, p, m, n, confidence
    )


def roc_curve_points(*, reference: ArrayLike, scores: ArrayLike) -> RocCurve:
    """The ROC curve at every distinct score (none dropped), for drawing; ValueError if a class is absent."""
    ref = binary_array(reference, "reference")
    values = score_array(scores)
    check_same_length(ref, values)
    positives, negatives = int(ref.sum()), int((~ref).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("The ROC curve needs both acute and chronic vertebrae.")
    order = np.argsort(-values, kind="stable")
    sorted_values, sorted_ref = values[order], ref[order]
    last_of_level = np.r_[sorted_values[1:] != sorted_values[:-1], True]
    tp = np.cumsum(sorted_ref)[last_of_level]
    fp = np.cumsum(~sorted_ref)[last_of_level]
    return RocCurve(
        fpr=(0.0, *(float(v) for v in fp / negatives)),
        tpr=(0.0, *(float(v) for v in tp / positives)),
        thresholds=(None, *(float(v) for v in sorted_values[last_of_level])),
    )
