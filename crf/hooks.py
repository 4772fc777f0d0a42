"""Extension points where follow-up (which builds on crf) acts inside crf's work; see trial/hooks.py.

Visits belong to follow-up. crf knows a visit only as something with a `code`, a `label`, the `forms` it
collects, its kind and its window (followup.models.Visit is one), found through `visit_of`.
"""

import datetime
from collections.abc import Callable
from typing import Protocol

from trial.hooks import Hook


class VisitLike(Protocol):
    """What crf reads of a visit."""

    pk: int
    participant_id: int
    code: str
    label: dict
    forms: list[str]
    kind: str  # "scheduled" or "unscheduled" (the exam checks: crf/engine/exams.py)
    window_open: datetime.date
    window_close: datetime.date


record_written: Hook[Callable[..., None]] = Hook(
    "record_written",
    "f(*, record, form, actor) -> None. A CRF record was saved or changed state (visits anchored at its "
    "dates, adjudication cases from its findings); runs inside the service's transaction, the record locked.",
)

visit_finder: Hook[Callable[..., VisitLike | None]] = Hook(
    "visit_finder",
    "f(*, participant, code) -> VisitLike | None. The participant's visit with this code (one query).",
)


def visit_of(*, participant, code: str) -> VisitLike | None:
    """The participant's visit by code, from the first finder that knows it; None when none does."""
    for finder in visit_finder:
        visit = finder(participant=participant, code=code)
        if visit is not None:
            return visit
    return None


def visit_key(visit: VisitLike | None) -> str:
    """The code a FormRecord stores for this visit: empty for a participant-level form."""
    return visit.code if visit is not None else ""
