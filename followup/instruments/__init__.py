"""Instruments: the registry (ODI 2.1a, VAS), answer validation, scoring, bands and MCID. Pure: no database,
except `texts.instrument_text` and `texts.instrument_text_loaded`, which read a site's loaded wording.
"""

from .mcid import RELATIVE_MCID_PERCENT, Change, change_from_baseline
from .odi import max_missing_setting, odi_band, odi_errors, odi_score, odi_values
from .registry import (
    INSTRUMENTS,
    ODI,
    VAS,
    InstrumentDef,
    ScoreResult,
    Section,
    instrument_def,
)
from .vas import vas_errors, vas_normalized, vas_score

__all__ = [
    "INSTRUMENTS",
    "ODI",
    "RELATIVE_MCID_PERCENT",
    "VAS",
    "Change",
    "InstrumentDef",
    "ScoreResult",
    "Section",
    "answers_errors",
    "blank_answers",
    "change_from_baseline",
    "instrument_def",
    "max_missing_setting",
    "odi_band",
    "odi_errors",
    "odi_score",
    "odi_values",
    "score_answers",
    "stored_answers",
    "vas_errors",
    "vas_normalized",
    "vas_score",
]


def answers_errors(instrument: str, answers) -> dict[str, list[str]]:
    """Field errors of answers to `instrument` ({} when valid)."""
    return odi_errors(answers) if instrument_def(instrument) is ODI else vas_errors(answers)


def score_answers(instrument: str, answers, *, max_missing: int | None = None) -> ScoreResult:
    """Score answers to `instrument`; invalid answers raise InvalidInput (400) with field errors."""
    if instrument_def(instrument) is ODI:
        return odi_score(answers, max_missing=max_missing)
    return vas_score(answers)


def blank_answers(instrument: str):
    """Answers with nothing answered yet: ten nulls for the ODI, {"pain": null} for the VAS."""
    return [None] * len(ODI.sections) if instrument_def(instrument) is ODI else vas_normalized({})


def stored_answers(instrument: str, answers):
    """Valid answers as stored: the ODI list as given (multi-ticks kept), the VAS with every item present."""
    return list(answers) if instrument_def(instrument) is ODI else vas_normalized(answers)
