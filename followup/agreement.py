"""Agreement between two adjudicators, as pure functions of their paired answers (no database here).

- **The main question** (a new non-operated vertebral fracture, yes or no): Cohen's kappa with its 2x2 table.
- **The Genant grade** (0 = none, 1 mild, 2 moderate, 3 severe): weighted kappa, linear weights (an ordinal
  scale: a grade off by one is half an agreement on four grades' scale, Cicchetti-Allison).

Each with its 95 % interval from the large-sample standard error of Fleiss, Cohen and Everitt (1969), as
statsmodels computes it (`statsmodels.stats.inter_rater.cohens_kappa`); the interval is clipped to kappa's
range [-1, 1]. Kappa is undefined when no case has two readings, or when both readers gave one and the same
answer to every case (chance agreement is then 1): it is None with the reason, never a number made up.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.inter_rater import cohens_kappa

MAIN = (True, False)  # the 2x2 table's rows and columns: yes first, as published tables are laid out
GENANT = (0, 1, 2, 3)


@dataclass(frozen=True)
class Kappa:
    """Kappa of two readers over `n` cases. `table[i][j]`: cases the first reader put in category i and the
    second in category j (categories in `categories` order)."""

    n: int
    categories: tuple
    table: tuple[tuple[int, ...], ...]
    observed: float | None  # the proportion of agreement (weighted, for a weighted kappa)
    expected: float | None  # the agreement expected by chance from the readers' margins
    kappa: float | None
    low: float | None  # the 95 % interval (statsmodels' alpha 0.05)
    high: float | None
    undefined: str = ""  # why kappa is None: "no_pairs" or "no_variation"


def _table(pairs: Iterable[tuple], categories: Sequence) -> np.ndarray:
    index = {category: i for i, category in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)), dtype=int)
    for first, second in pairs:
        if first not in index or second not in index:
            raise ValueError(f"a reading outside {tuple(categories)}: {(first, second)!r}")
        table[index[first], index[second]] += 1
    return table


def _agreement_weights(k: int, weights: str | None) -> np.ndarray:
    """1 for the same category, less the further apart (linear: 1 - |i - j| / (k - 1)); 0 apart when
    unweighted. statsmodels' disagreement weights, turned around."""
    if weights is None:
        return np.eye(k)
    distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
    return 1 - distance / (k - 1)


def _kappa(table: np.ndarray, categories: tuple, weights: str | None) -> Kappa:
    n = int(table.sum())
    counts = tuple(tuple(int(cell) for cell in row) for row in table)
    if n == 0:
        return Kappa(n, categories, counts, None, None, None, None, None, undefined="no_pairs")
    share = table / n
    agree = _agreement_weights(len(categories), weights)
    observed = float((agree * share).sum())
    expected = float((agree * np.outer(share.sum(axis=1), share.sum(axis=0))).sum())
    if np.isclose(expected, 1.0):
        return Kappa(n, categories, counts, observed, expected, None, None, None, undefined="no_variation")
    # statsmodels divides by the variance under the null for its z-test, which we do not report, and its
    # variance can come out a hair below 0 when the agreement is perfect: both are quieted and handled here.
    with np.errstate(divide="ignore", invalid="ignore"):
        result = cohens_kappa(table, wt=weights, return_results=True)
    kappa = float(result.kappa)
    low, high = float(result.kappa_low), float(result.kappa_upp)
    if not (math.isfinite(low) and math.isfinite(high)):  # a variance of 0 up to rounding
        low = high = kappa
    return Kappa(
        n=n,
        categories=categories,
        table=counts,
        observed=observed,
        expected=expected,
        kappa=kappa,
        low=max(-1.0, low),
        high=min(1.0, high),
    )


def kappa_main(pairs: Iterable[tuple[bool, bool]]) -> Kappa:
    """Cohen's kappa on the main question over (first reader, second reader) answers, one pair per case."""
    return _kappa(_table(pairs, MAIN), MAIN, None)


def kappa_genant(pairs: Iterable[tuple[int, int]]) -> Kappa:
    """Linearly weighted kappa on the Genant grade (0-3; 0 where a reader found no fracture)."""
    return _kappa(_table(pairs, GENANT), GENANT, "linear")
