"""Patient-clustered intervals by the cluster bootstrap (vertebrae are grouped by patient).

A patient contributes one to three vertebrae whose readings and scores are correlated, so intervals that treat
vertebrae as independent are too narrow. The cluster bootstrap (Davison & Hinkley 1997, section 3.8; Field &
Welsh, JRSS B 2007;69:369) resamples patients with replacement, each drawn patient bringing all of its
vertebrae, and recomputes each statistic on every resample; the interval is the percentile interval, the
(1 - c)/2 and (1 + c)/2 quantiles (numpy's linear interpolation) of the resampled values.

- The threshold is held fixed (the one chosen on the development set, applied unchanged), so on the
  development set the interval leaves out the variability of choosing it.
- A resample in which a statistic is undefined (no acute vertebra drawn, nobody called chronic, ...) is left
  out for that statistic only; ``valid_resamples`` says how many were used. None of them gives lo and hi
  None with the reason ``undefined_in_every_resample``.
- Reproducible: numpy's PCG64 generator from ``seed``; the same data, seed and B give the same interval.

Fast: the draws are a B-by-G matrix of patient indices, turned into per-resample patient weights (how
many times each patient was drawn) with one ``bincount``; the 2x2 counts are then a matrix product with the
per-patient counts, and the AUC a weighted Mann-Whitney statistic from cumulative sums over the vertebrae
sorted once by score. 2,000 resamples of about 600 vertebrae from 300 patients take 0.1-0.2 s
(reports/README.md gives the measurement).
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from reports.accuracy._inputs import binary_array, check_confidence, check_same_length, score_array
from reports.accuracy.binary import confusion_matrix_at, diagnostic_accuracy
from reports.accuracy.roc import auc_delong


@dataclass(frozen=True)
class BootstrapInterval:
    """One statistic on the data as observed, with its cluster-bootstrap percentile interval."""

    name: str
    estimate: float | None
    lo: float | None
    hi: float | None
    valid_resamples: int
    reason: str | None = None


@dataclass(frozen=True)
class ClusterBootstrap:
    """Cluster-bootstrap intervals of the five proportions at a fixed threshold and of the AUC."""

    sensitivity: BootstrapInterval
    specificity: BootstrapInterval
    accuracy: BootstrapInterval
    ppv: BootstrapInterval
    npv: BootstrapInterval
    auc: BootstrapInterval
    threshold: float
    n_resamples: int
    seed: int
    confidence: float
    n_clusters: int
    n_units: int
    method: str = "cluster bootstrap (patients resampled with all their vertebrae), percentile interval"


def _interval(name: str, estimate: float | None, values: np.ndarray, confidence: float) -> BootstrapInterval:
    valid = values[np.isfinite(values)]
    if not valid.size:
        return BootstrapInterval(name, estimate, None, None, 0, "undefined_in_every_resample")
    lo, hi = np.quantile(valid, [(1 - confidence) / 2, (1 + confidence) / 2])
    return BootstrapInterval(name, estimate, float(lo), float(hi), int(valid.size))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator/denominator elementwise, NaN where the denominator is 0 (an undefined resample)."""
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _weighted_auc(ref: np.ndarray, values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The Mann-Whitney AUC of each resample, vertebra v counted weights[b, v] times (B-by-N weights).

    Σ over acute vertebrae of w·(chronic weight scoring below + half the chronic weight tied), over
    (acute weight)·(chronic weight). Vertebrae are sorted once by score; the chronic weight below and tied
    at each score level comes from an exclusive cumulative sum read at the level's first and last position.
    """
    order = np.argsort(values, kind="stable")
    sorted_values, sorted_ref = values[order], ref[order]
    w = weights[:, order]
    w_pos = w * sorted_ref
    w_neg = w * ~sorted_ref
    cum = np.cumsum(w_neg, axis=1)
    # Positions of each vertebra's level: first and last index of its run of equal scores.
    new_level = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    level = np.cumsum(new_level) - 1
    starts = np.flatnonzero(new_level)
    ends = np.r_[starts[1:] - 1, len(sorted_values) - 1]
    below = cum[:, starts[level]] - w_neg[:, starts[level]]
    tied = cum[:, ends[level]] - below
    numerator = np.sum(w_pos * (below + 0.5 * tied), axis=1)
    return _ratio(numerator, w_pos.sum(axis=1) * w_neg.sum(axis=1))


def cluster_bootstrap(
    *,
    reference: ArrayLike,
    scores: ArrayLike,
    clusters: Sequence[Hashable] | ArrayLike,
    threshold: float,
    n_resamples: int = 2000,
    seed: int = 2015,
    confidence: float = 0.95,
) -> ClusterBootstrap:
    """Percentile intervals of Se, Sp, accuracy, PPV, NPV (called acute at score >= threshold) and AUC.

    ``clusters`` gives each vertebra's patient (any hashable id). Patients are resampled with replacement,
    ``n_resamples`` times, from ``numpy.random.default_rng(seed)``.
    """
    check_confidence(confidence)
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1.")
    ref = binary_array(reference, "reference")
    values = score_array(scores)
    cluster_ids = np.asarray(clusters)
    check_same_length(ref, values, cluster_ids)
    if not len(ref):
        raise ValueError("There are no vertebrae.")
    _, codes = np.unique(cluster_ids, return_inverse=True)
    codes = codes.ravel()
    n_clusters = int(codes.max()) + 1

    observed = diagnostic_accuracy(confusion_matrix_at(reference=ref, scores=values, threshold=threshold))
    observed_auc = auc_delong(reference=ref, scores=values).auc

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_clusters, size=(n_resamples, n_clusters))
    # weights[b, g]: how many times patient g was drawn in resample b.
    offsets = (np.arange(n_resamples) * n_clusters)[:, None]
    weights = (
        np.bincount((draws + offsets).ravel(), minlength=n_resamples * n_clusters)
        .reshape(n_resamples, n_clusters)
        .astype(float)
    )

    called = values >= threshold
    per_cluster = np.column_stack(
        [
            np.bincount(codes, weights=cell, minlength=n_clusters)
            for cell in (ref & called, ref & ~called, ~ref & called, ~ref & ~called)
        ]
    )
    tp, fn, fp, tn = (weights @ per_cluster).T
    auc = _weighted_auc(ref, values, weights[:, codes])

    def interval(name: str, resampled: np.ndarray) -> BootstrapInterval:
        estimate = observed_auc if name == "auc" else getattr(observed, name).value
        return _interval(name, estimate, resampled, confidence)

    return ClusterBootstrap(
        sensitivity=interval("sensitivity", _ratio(tp, tp + fn)),
        specificity=interval("specificity", _ratio(tn, tn + fp)),
        accuracy=interval("accuracy", _ratio(tp + tn, tp + fn + fp + tn)),
        ppv=interval("ppv", _ratio(tp, tp + fp)),
        npv=interval("npv", _ratio(tn, tn + fn)),
        auc=interval("auc", auc),
        threshold=float(threshold),
        n_resamples=int(n_resamples),
        seed=int(seed),
        confidence=confidence,
        n_clusters=n_clusters,
        n_units=len(ref),
    )
