"""Pain visual analogue scale: a 100 mm line, score = distance from "no pain" in whole millimetres (0..100).

Answers are {"pain": mm} with mm an integer 0..100, or null while not yet marked (the slider starts with no
value). 50.5, "50" and true are refused: nothing is coerced. The VAS has no bands here (none is in domain.md).
"""

from decimal import Decimal

from django.utils.translation import gettext as _

from trial.errors import InvalidInput

from .registry import VAS, ScoreResult

ITEMS = ("pain",)


def vas_errors(answers) -> dict[str, list[str]]:
    """Field errors of VAS answers ({} when valid), keyed "answers" or "answers.pain"."""
    if not isinstance(answers, dict):
        return {"answers": [_('An object: {"pain": millimetres from 0 to 100}.')]}
    errors = {f"answers.{key}"[:64]: [_("Unknown field.")] for key in answers if key not in ITEMS}
    pain = answers.get("pain")
    if pain is not None and (
        isinstance(pain, bool) or not isinstance(pain, int) or not VAS.minimum <= pain <= VAS.maximum
    ):
        errors["answers.pain"] = [
            _("Whole millimetres from %(low)s to %(high)s.") % {"low": VAS.minimum, "high": VAS.maximum}
        ]
    return errors


def vas_score(answers) -> ScoreResult:
    """The score is the mark in mm; invalid answers raise InvalidInput (400)."""
    errors = vas_errors(answers)
    if errors:
        raise InvalidInput(_("The VAS answer is not valid."), field_errors=errors)
    pain = answers.get("pain")
    if pain is None:
        return ScoreResult(score=None, band=None, answered=0, values=(None,))
    return ScoreResult(score=Decimal(pain).quantize(Decimal("0.1")), band=None, answered=1, values=(pain,))


def vas_normalized(answers: dict) -> dict:
    """The stored shape: every item present, null when unanswered."""
    return {item: answers.get(item) for item in ITEMS}
