"""The 2x2 table of binary predictions against the reference standard, its five proportions, Youden's J.

Acute is the positive class. A vertebra is called acute by a model when its score (the predicted probability
of acute) is at or above the threshold: ``score >= threshold``.

Worked example (the tests use it): TP 45, FN 5, FP 10, TN 40 (100 vertebrae, 50 acute) gives
sensitivity 45/50 = 0.90, specificity 40/50 = 0.80, accuracy 85/100 = 0.85, PPV 45/55 = 0.818, NPV 40/45
= 0.889.

Intervals: Wilson score (the default) or Clopper-Pearson ("exact", statsmodels' method "beta"), both from
statsmodels ``proportion_confint``; Newcombe (Stat Med 1998;17:857) recommends the first, and the second
is the one many readers expect. A proportion whose denominator is 0 (no acute vertebra, nobody called
chronic, ...) has value, lo and hi None and a ``reason`` code (reasons.py): it never raises and never gives
NaN, so the result is JSON as it is (``dataclasses.asdict``).
"""

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from statsmodels.stats.proportion import proportion_confint

from reports.accuracy._inputs import binary_array, check_confidence, check_same_length, score_array

IntervalMethod = Literal["wilson", "clopper-pearson"]
# Our names for statsmodels' method names.
_STATSMODELS_METHOD = {"wilson": "wilson", "clopper-pearson": "beta"}


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of vertebrae: tp acute called acute, fn acute called chronic, fp chronic called acute, tn."""

    tp: int
    fn: int
    fp: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fn + self.fp + self.tn


@dataclass(frozen=True)
class Estimate:
    """One proportion numerator/denominator with its interval; value, lo, hi None (with a reason) if 0/0."""

    name: str
    numerator: int
    denominator: int
    value: float | None
    lo: float | None
    hi: float | None
    method: IntervalMethod
    confidence: float
    reason: str | None = None


@dataclass(frozen=True)
class DiagnosticAccuracy:
    """The 2x2 table and its five proportions, each with its interval (STARD 2015 items 23-24)."""

    matrix: ConfusionMatrix
    sensitivity: Estimate
    specificity: Estimate
    accuracy: Estimate
    ppv: Estimate
    npv: Estimate


@dataclass(frozen=True)
class YoudenThreshold:
    """The cut-off maximising J = sensitivity + specificity - 1 on the set it was chosen on."""

    threshold: float
    j: float
    sensitivity: float
    specificity: float


def proportion(
    *,
    name: str,
    numerator: int,
    denominator: int,
    method: IntervalMethod = "wilson",
    confidence: float = 0.95,
    reason_if_empty: str = "zero_denominator",
) -> Estimate:
    """numerator/denominator with its Wilson or Clopper-Pearson interval; 0/0 gives None with the reason."""
    check_confidence(confidence)
    if method not in _STATSMODELS_METHOD:
        raise ValueError(f"method must be one of {sorted(_STATSMODELS_METHOD)}.")
    if denominator < 0 or not 0 <= numerator <= denominator:
        raise ValueError("numerator must lie between 0 and denominator.")
    if denominator == 0:
        return Estimate(name, 0, 0, None, None, None, method, confidence, reason_if_empty)
    lo, hi = proportion_confint(
        numerator, denominator, alpha=1 - confidence, method=_STATSMODELS_METHOD[method]
    )
    # Clopper-Pearson is 0 (or 1) at the edge by definition; guard against a NaN from the beta quantile there.
    lo = 0.0 if numerator == 0 else float(lo)
    hi = 1.0 if numerator == denominator else float(hi)
    return Estimate(
        name, int(numerator), int(denominator), numerator / denominator, lo, hi, method, confidence
    )


def confusion_matrix(*, reference: ArrayLike, predicted: ArrayLike) -> ConfusionMatrix:
    """The 2x2 table of binary predictions (True/1 = called acute) against the reference (True/1 = acute)."""
    ref = binary_array(reference, "reference")
    pred = binary_array(predicted, "predicted")
    check_same_length(ref, pred)
    return ConfusionMatrix(
        tp=int(np.sum(ref & pred)),
        fn=int(np.sum(ref & ~pred)),
        fp=int(np.sum(~ref & pred)),
        tn=int(np.sum(~ref & ~pred)),
    )


def confusion_matrix_at(*, reference: ArrayLike, scores: ArrayLike, threshold: float) -> ConfusionMatrix:
    """The 2x2 table when a vertebra is called acute at ``score >= threshold`` (the threshold as given)."""
    values = score_array(scores)
    if not math.isfinite(threshold):
        raise ValueError("threshold must be a finite number.")
    return confusion_matrix(reference=reference, predicted=values >= threshold)


def diagnostic_accuracy(
    matrix: ConfusionMatrix, *, method: IntervalMethod = "wilson", confidence: float = 0.95
) -> DiagnosticAccuracy:
    """Sensitivity, specificity, accuracy, PPV and NPV of a 2x2 table, each with its interval."""
    tp, fn, fp, tn = matrix.tp, matrix.fn, matrix.fp, matrix.tn

    def est(name: str, num: int, den: int, reason: str) -> Estimate:
        return proportion(
            name=name,
            numerator=num,
            denominator=den,
            method=method,
            confidence=confidence,
            reason_if_empty=reason,
        )

    return DiagnosticAccuracy(
        matrix=matrix,
        sensitivity=est("sensitivity", tp, tp + fn, "no_acute_reference"),
        specificity=est("specificity", tn, tn + fp, "no_chronic_reference"),
        accuracy=est("accuracy", tp + tn, matrix.n, "no_vertebrae"),
        ppv=est("ppv", tp, tp + fp, "none_called_acute"),
        npv=est("npv", tn, tn + fn, "none_called_chronic"),
    )


def youden_threshold(*, reference: ArrayLike, scores: ArrayLike) -> YoudenThreshold:
    """The threshold maximising Youden's J on these data (the development set), among the observed scores.

    Candidates are the distinct observed scores, a vertebra being called acute at ``score >= threshold``; any
    cut-off between two neighbouring scores gives the same table as the upper one, so nothing is lost. J is
    compared exactly (as the integer tp·N + tn·P, P acute and N chronic vertebrae), so float rounding never
    decides. **Ties:** when several thresholds reach the same maximal J, the lowest of them is chosen, the one
    with the highest sensitivity: the registry's sample size is set on sensitivity, and calling an acute
    fracture chronic (a missed acute fracture) is the costlier error. Apply the result unchanged to another
    set with ``confusion_matrix_at(threshold=result.threshold)``. Both classes must be present (ValueError).
    """
    ref = binary_array(reference, "reference")
    values = score_array(scores)
    check_same_length(ref, values)
    positives, negatives = int(ref.sum()), int((~ref).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("Youden's J needs both acute and chronic vertebrae.")
    order = np.argsort(-values, kind="stable")
    sorted_values, sorted_ref = values[order], ref[order]
    # Called acute at threshold t = everything with score >= t: cumulative counts down the sorted scores,
    # read at the last position of each distinct score.
    tp_cum = np.cumsum(sorted_ref)
    fp_cum = np.cumsum(~sorted_ref)
    last_of_level = np.r_[sorted_values[1:] != sorted_values[:-1], True]
    thresholds = sorted_values[last_of_level]
    tp = tp_cum[last_of_level].astype(np.int64)
    tn = negatives - fp_cum[last_of_level].astype(np.int64)
    score = tp * negatives + tn * positives  # = P·N·(J + 1), exact in integers
    # thresholds are in decreasing order: the last index reaching the maximum is the lowest threshold.
    best = int(np.flatnonzero(score == score.max())[-1])
    sensitivity = int(tp[best]) / positives
    specificity = int(tn[best]) / negatives
    return YoudenThreshold(
        threshold=float(thresholds[best]),
        j=sensitivity + specificity - 1,
        sensitivity=sensitivity,
        specificity=specificity,
    )
