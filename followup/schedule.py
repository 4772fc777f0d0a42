"""The visit schedule as pure functions: protocol `visits:` section + anchor dates -> planned visits, and a
visit's status on a given day. No database here; trial/protocols/FORMAT.md describes the format.

Dates are site-local calendar dates: the caller passes the site's today (`site_today`), so a window opens
and closes at the site's midnight, never at UTC midnight.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from trial.models import ParticipantStatus

from .models import VisitState, VisitStatus

NUMBER = "{n}"  # replaced by the occurrence number in a repeating item's code and labels


@dataclass(frozen=True)
class VisitSpec:
    """One visit of the schedule (repeats expanded): when it falls after its anchor, and what it collects."""

    code: str
    label: dict
    anchor: str
    day: int
    window_before: int
    window_after: int
    forms: tuple[str, ...]
    questionnaires: tuple[str, ...]
    sequence: int


@dataclass(frozen=True)
class PlannedVisit:
    """A visit of one participant, placed on the calendar from its anchor date."""

    code: str
    label: dict
    anchor: str
    day: int
    target_date: datetime.date
    window_open: datetime.date
    window_close: datetime.date
    forms: tuple[str, ...]
    questionnaires: tuple[str, ...]
    sequence: int


def _numbered(text: str, number: int) -> str:
    return text.replace(NUMBER, str(number))


def occurrences(item: Mapping) -> list[tuple[str, dict, int]]:
    """(code, label, day) of each occurrence of a schedule item.

    Without `repeat`: the item itself. With `repeat: {every: E, count: C, number_from: F, number_step: S}`
    (F defaults to 1, S to 1): occurrence i = 0..C-1 falls on day `day + i*E` and gets the number
    n = F + i*S, written into the code and the labels where they say `{n}`.
    """
    repeat = item.get("repeat")
    if not repeat:
        return [(item["code"], dict(item["label"]), item["day"])]
    first, step = repeat.get("number_from", 1), repeat.get("number_step", 1)
    result = []
    for i in range(repeat["count"]):
        number = first + i * step
        label = {language: _numbered(text, number) for language, text in item["label"].items()}
        result.append((_numbered(item["code"], number), label, item["day"] + i * repeat["every"]))
    return result


def visit_specs(visits: Mapping | None) -> list[VisitSpec]:
    """Every scheduled visit of a protocol's `visits:` section, in file order (the order they are shown)."""
    specs: list[VisitSpec] = []
    for item in (visits or {}).get("schedule", []):
        for code, label, day in occurrences(item):
            specs.append(
                VisitSpec(
                    code=code,
                    label=label,
                    anchor=item["anchor"],
                    day=day,
                    window_before=item["window_before"],
                    window_after=item["window_after"],
                    forms=tuple(item.get("forms", ())),
                    questionnaires=tuple(item.get("questionnaires", ())),
                    sequence=len(specs) + 1,
                )
            )
    return specs


def plan_visits(visits: Mapping | None, anchor_dates: Mapping[str, datetime.date]) -> list[PlannedVisit]:
    """The visits whose anchor has a date in `anchor_dates`, placed on the calendar.

    Target = anchor date + day; the window runs from target - window_before to target + window_after,
    both days included.
    """
    planned = []
    for spec in visit_specs(visits):
        anchor_date = anchor_dates.get(spec.anchor)
        if anchor_date is None:
            continue
        target = anchor_date + datetime.timedelta(days=spec.day)
        planned.append(
            PlannedVisit(
                code=spec.code,
                label=spec.label,
                anchor=spec.anchor,
                day=spec.day,
                target_date=target,
                window_open=target - datetime.timedelta(days=spec.window_before),
                window_close=target + datetime.timedelta(days=spec.window_after),
                forms=spec.forms,
                questionnaires=spec.questionnaires,
                sequence=spec.sequence,
            )
        )
    return planned


def form_anchors(visits: Mapping | None, form_code: str) -> dict[str, str]:
    """{anchor name: date field} of the anchors that a form's record dates (usually none)."""
    return {
        name: spec["field"]
        for name, spec in ((visits or {}).get("anchors") or {}).items()
        if spec.get("form") == form_code
    }


def anchor_date_of(value) -> datetime.date | None:
    """An anchor's date: a participant's date, or a form's date field as crf stores it (ISO text); anything
    else (left empty, malformed) is no date, and anchors nothing."""
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def participant_anchors(visits: Mapping | None) -> dict[str, str]:
    """{anchor name: participant date field}, e.g. {"enrollment": "enrollment_date"}."""
    return {
        name: spec["participant"]
        for name, spec in ((visits or {}).get("anchors") or {}).items()
        if "participant" in spec
    }


def visit_status(
    state: str,
    window_open: datetime.date,
    window_close: datetime.date,
    today: datetime.date,
    *,
    followed: bool = True,
) -> VisitStatus:
    """What a coordinator sees on `today` (the site's date): a decision, or where a pending visit stands.

    Pending: on hold while the participant is not followed (`followed` False: lost to follow-up), else
    upcoming before the window opens, open from its first to its last day (both included), overdue from the
    day after it closes. On hold is not a decision: reinstatement makes the visit upcoming, open or overdue
    again, by its window.
    """
    if state != VisitState.PENDING:
        return VisitStatus(state)  # completed, missed, not applicable: the values are shared
    if not followed:
        return VisitStatus.ON_HOLD
    if today < window_open:
        return VisitStatus.UPCOMING
    if today > window_close:
        return VisitStatus.OVERDUE
    return VisitStatus.OPEN


def participant_followed(participant_status: str) -> bool:
    """Whether a participant's pending visits are expected: only while they are enrolled (not lost to
    follow-up, withdrawn or dead). The database side of the same rule: followup.selectors.visits."""
    return participant_status == ParticipantStatus.ENROLLED
