"""Oswestry Disability Index 2.1a: validation and scoring, exactly as domain.md says. Pure: no database.

Answers are a list of the ten sections in the registry's order (answers[0] pain intensity ... answers[9]
travelling; field errors name them "answers[0]" ... "answers[9]"). Each item is
- null: the section was not answered;
- an integer 0..5: the statement ticked, 0 the first (least) and 5 the last (most);
- a non-empty list of integers 0..5: several statements were ticked; the highest counts.
true/false, 2.0, "2" and anything else are refused: nothing is coerced.

Score (%) = sum of the answered sections / (5 x answered sections) x 100, rounded to one decimal half up:
16 of 50 = 32.0; 16 with one section missing = 16/45 = 35.6. With more unanswered sections than
settings.ODI_MAX_MISSING (default 1) there is no score (None), as in the AO Stata `odi` program and
awell-score.

Bands. The original paper wrote overlapping bounds (0-20, 20-40, ...). Here each band includes its upper
bound:

    minimal      0 <= score <= 20        e.g. 20.0 (10 of 50, or 9 of 45)
    moderate    20 <  score <= 40        e.g. 22.2 (10 of 45), 35.6, 40.0
    severe      40 <  score <= 60        e.g. 42.2 (19 of 45), 46.7 (21 of 45), 60.0
    crippled    60 <  score <= 80        e.g. 62.2 (28 of 45), 80.0
    bed_bound   80 <  score <= 100       e.g. 82.2 (37 of 45), 100.0

For complete questionnaires (even integer scores) this is the published 0-20, 21-40, 41-60, 61-80,
81-100. A score with a missing section is not an integer (35.6, 46.7) and is banded as it is, never rounded
to an integer first. The band is decided on the exact fraction 20*s/n (s the sum, n the sections answered,
n <= 10): it is either a multiple of 20 or at least 20/n >= 2 away from one, so the printed one-decimal
score always lies in the band shown. The LOINC panel 97908-8 reads the raw 0-50 sum with other cut-points:
not mixed in here.
"""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from trial.errors import InvalidInput

from .registry import ODI, ScoreResult

SECTIONS = len(ODI.sections)
TOP = ODI.statements_per_section - 1  # 5: the last statement of a section


def max_missing_setting() -> int:
    """settings.ODI_MAX_MISSING, read at call time (default 1)."""
    value = getattr(settings, "ODI_MAX_MISSING", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < SECTIONS:
        raise ImproperlyConfigured(f"ODI_MAX_MISSING must be an integer from 0 to {SECTIONS - 1}.")
    return value


def _is_statement(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= TOP


def odi_errors(answers) -> dict[str, list[str]]:
    """Field errors of an ODI answer list ({} when valid), keyed "answers" or "answers[i]"."""
    if not isinstance(answers, list):
        return {"answers": [_("A list of ten answers, one per section.")]}
    if len(answers) != SECTIONS:
        return {
            "answers": [
                _("%(expected)s answers are needed, one per section; %(given)s given.")
                % {"expected": SECTIONS, "given": len(answers)}
            ]
        }
    errors = {}
    for i, item in enumerate(answers):
        if item is None or _is_statement(item):
            continue
        if isinstance(item, list):
            if not item:
                message = _("An empty list: send null when no statement was ticked.")
            elif len(item) > ODI.statements_per_section or not all(_is_statement(v) for v in item):
                message = _("Each ticked statement is a whole number from 0 to %(top)s.") % {"top": TOP}
            else:
                continue
        else:
            message = _("A whole number from 0 to %(top)s, a list of them, or null.") % {"top": TOP}
        errors[f"answers[{i}]"] = [message]
    return errors


def odi_values(answers) -> tuple[int | None, ...]:
    """The value each section counts (the highest statement ticked), None when unanswered. Answers valid."""
    return tuple(max(item) if isinstance(item, list) else item for item in answers)


def odi_band(fraction: Fraction) -> str:
    """The band of an exact score (0..100), each band including its upper bound."""
    return next(band.code for band in ODI.bands if fraction <= band.upper)


def odi_score(answers, *, max_missing: int | None = None) -> ScoreResult:
    """Score an ODI answer list; invalid answers raise InvalidInput (400) with every field error.

    `max_missing`: how many unanswered sections still give a score; None reads settings.ODI_MAX_MISSING.
    """
    errors = odi_errors(answers)
    if errors:
        raise InvalidInput(_("The ODI answers are not valid."), field_errors=errors)
    if max_missing is None:
        max_missing = max_missing_setting()
    values = odi_values(answers)
    counted = [v for v in values if v is not None]
    answered = len(counted)
    if answered == 0 or SECTIONS - answered > max_missing:
        return ScoreResult(score=None, band=None, answered=answered, values=values)
    exact = Fraction(100 * sum(counted), TOP * answered)
    score = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return ScoreResult(score=score, band=odi_band(exact), answered=answered, values=values)
