"""Segmentation: the mean Dice coefficient and its SD per segmentation model (e.g. U-Net, U-Mamba, UNETR++).

The SD is the sample SD (ddof = 1): one vertebra gives SD None with a reason, none gives mean None too.
Dice values lie in [0, 1]; anything else (or NaN) is refused with ValueError, so a bad import fails loudly
instead of bending the mean.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class DiceSummary:
    """n Dice values with their mean and sample SD (None with a reason when they cannot be computed)."""

    n: int
    mean: float | None
    sd: float | None
    reason: str | None = None


def dice_summary(*, dice: Iterable[float]) -> DiceSummary:
    """Mean and sample SD (ddof = 1) of the Dice values of one segmentation model."""
    values = [float(v) for v in dice]
    for value in values:
        if not 0.0 <= value <= 1.0:  # also false for NaN
            raise ValueError(f"A Dice coefficient must lie between 0 and 1, not {value!r}.")
    n = len(values)
    if n == 0:
        return DiceSummary(0, None, None, "no_values")
    mean = math.fsum(values) / n
    if n == 1:
        return DiceSummary(1, mean, None, "one_value")
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return DiceSummary(n, mean, sd)


def dice_by_model(*, dice: Mapping[str, Iterable[float]]) -> dict[str, DiceSummary]:
    """``dice_summary`` per segmentation model, keyed and ordered by model name."""
    return {model: dice_summary(dice=dice[model]) for model in sorted(dice)}
