"""Change from baseline and the minimal clinically important difference (MCID). Pure: no database.

Both instruments are "lower is better", so improvement = baseline - value. Two flags, kept apart because they
disagree at the extremes (Ostelo 2008, domain.md): an absolute improvement of at least the instrument's MCID
(ODI 10 points, VAS 15 mm), and a relative improvement of at least 30 % of the baseline. ODI 52 -> 40 improves
by 12 points (MCID met) but only 23.1 % (relative not met); VAS 87 -> 25 improves by 62 mm and 71.3 % (both).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .registry import instrument_def

RELATIVE_MCID_PERCENT = Decimal(30)


@dataclass(frozen=True)
class Change:
    baseline: Decimal
    value: Decimal
    change: Decimal  # value - baseline: negative is better
    improvement: Decimal  # baseline - value: positive is better
    relative_improvement: Decimal | None  # percent of the baseline, one decimal; None when the baseline is 0
    mcid: bool  # improvement >= the instrument's MCID
    mcid_relative: bool  # improvement >= 30 % of the baseline


def change_from_baseline(instrument: str, *, baseline, value) -> Change:
    """How far `value` moved from `baseline` (scores on the instrument's scale) and whether it is an MCID."""
    definition = instrument_def(instrument)
    baseline, value = Decimal(baseline), Decimal(value)
    improvement = baseline - value if definition.lower_is_better else value - baseline
    relative = None
    if baseline:
        relative = (improvement * 100 / baseline).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Change(
        baseline=baseline,
        value=value,
        change=value - baseline,
        improvement=improvement,
        relative_improvement=relative,
        mcid=improvement >= definition.mcid,
        # Compared exactly, not on the rounded percentage: 29.96 % is not 30 %.
        mcid_relative=bool(baseline) and improvement * 100 >= RELATIVE_MCID_PERCENT * baseline,
    )
