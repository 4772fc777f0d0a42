"""The registry's sample-size check (Buderer, Acad Emerg Med 1996;3:895-900).

To estimate a sensitivity Se within ± d at confidence 1 - alpha, the number of acute cases (the group in
which sensitivity is measured) is n = z² · Se · (1 - Se) / d², z the 1 - alpha/2 normal quantile. The
registry of NCT07306858 (Se 0.90, alpha 0.05, d 0.05) writes z = 1.96:
1.96² x 0.9 x 0.1 / 0.05² = 3.8416 x 0.09 / 0.0025 = 138.2976, and it gives 138 per group, so it rounds to
the **nearest** integer (half up). The usual convention rounds up (139), which ``rounding="up"`` gives. With
the exact z = 1.959964 the value is 138.2925, the same either way.
"""

import math
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SampleSize:
    """Buderer's n per group: the exact value and the integer after the stated rounding."""

    exact: float
    n: int
    rounding: Literal["nearest", "up"]
    z: float
    sensitivity: float
    allowable_error: float


def buderer_sample_size(
    *,
    sensitivity: float,
    allowable_error: float,
    z: float = 1.96,
    rounding: Literal["nearest", "up"] = "nearest",
) -> SampleSize:
    """n = z² · Se · (1 - Se) / d² per group (d = ``allowable_error``), rounded as the registry does."""
    if not 0 < sensitivity < 1:
        raise ValueError("sensitivity must lie strictly between 0 and 1.")
    if not 0 < allowable_error < 1:
        raise ValueError("allowable_error must lie strictly between 0 and 1.")
    if not z > 0:
        raise ValueError("z must be positive.")
    exact = z * z * sensitivity * (1 - sensitivity) / (allowable_error * allowable_error)
    if rounding == "nearest":
        n = math.floor(exact + 0.5)  # half up, not Python's round-half-even
    elif rounding == "up":
        n = math.ceil(exact)
    else:
        raise ValueError('rounding must be "nearest" or "up".')
    return SampleSize(exact, n, rounding, z, sensitivity, allowable_error)
