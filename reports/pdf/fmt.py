# The report typesets true minus signs and en dashes:
# ruff: noqa: RUF001, RUF002, RUF003
"""How the report writes numbers, intervals and times: one place, so every section rounds alike.

The figures dict holds unrounded floats; the report rounds: 1 decimal for percents and measurements, 2 for
kappa, ISO dates, the data-cut time in UTC. A missing value prints as an em dash. Minus is U+2212.
"""

import datetime
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

DASH = "—"


def num(value: float | None, places: int = 1) -> str:
    """`value` rounded to `places` decimals, with a true minus sign; an em dash for None."""
    if value is None:
        return DASH
    text = f"{value:.{places}f}"
    if text.startswith("-"):
        # -0.0 after rounding is 0.0, not −0.0
        text = text[1:] if float(text) == 0 else "−" + text[1:]
    return text


def pct(value: float | None, places: int = 1) -> str:
    """A percentage already on the 0–100 scale: "4.0%"."""
    return DASH if value is None else f"{num(value, places)}%"


def share(value: float | None, places: int = 1) -> str:
    """A proportion on the 0–1 scale as a percentage: 0.04 -> "4.0%"."""
    return DASH if value is None else pct(value * 100, places)


def interval(lo: str, hi: str) -> str:
    """Two formatted bounds as an interval: "2.3% to 6.9%" / "2.3%～6.9%"."""
    return _("%(lo)s to %(hi)s") % {"lo": lo, "hi": hi}


def confidence(level: float) -> str:
    """The confidence level of the intervals (0.95) as "95%"."""
    return f"{level * 100:g}%"


def cut_time(text: str) -> str:
    """An ISO instant as "2026-11-26 02:00:00 UTC": to the second, as stored, so that it can be typed back as
    `--cut 2026-11-26T02:00:00Z` (the report states times in UTC and says so)."""
    instant = datetime.datetime.fromisoformat(text).astimezone(datetime.UTC)
    return instant.strftime("%Y-%m-%d %H:%M:%S UTC")


def label(value: dict | str | None, language: str) -> str:
    """A protocol label ({"en": ..., "zh-hans": ...}) in `language`, falling back to English."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.get(language) or value.get("en") or ""


def esc(text: str) -> str:
    """Text made safe for a platypus Paragraph's markup."""
    return escape(str(text))
