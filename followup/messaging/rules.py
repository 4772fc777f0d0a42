"""When reminders fall, as pure functions: the protocol's `visits.reminders` rule, a window and a day.

No database here: callers read the facts. Dates are the site's calendar dates, times the site's wall
clock (quiet hours).
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from trial.models import ParticipantStatus

from ..models import VisitState
from .notes import Note


@dataclass(frozen=True)
class ReminderRule:
    channels: tuple[str, ...]
    days_after_open: tuple[int, ...]
    days_before_close: tuple[int, ...]
    last_day: bool
    texts: Mapping[str, Mapping[str, str]]  # language -> {subject, body}


def reminder_rule(definition: Mapping) -> ReminderRule | None:
    """The rule of a protocol version's parsed file (checked when it was loaded), or None: no reminders."""
    visits = definition.get("visits") or {}
    rule = visits.get("reminders")
    if not rule:
        return None
    return ReminderRule(
        channels=tuple(rule["channels"]),
        days_after_open=tuple(rule.get("days_after_open", (0,))),
        days_before_close=tuple(rule.get("days_before_close", (7,))),
        last_day=rule.get("last_day", True),
        texts=rule["texts"],
    )


def reminder_days(rule: ReminderRule, window_open: datetime.date, window_close: datetime.date) -> dict:
    """{day: step} of the window's reminders, a day outside the window left out; two rules falling on the
    same day are one reminder (named by the first)."""
    days: dict[datetime.date, str] = {}
    for after in rule.days_after_open:
        days.setdefault(window_open + datetime.timedelta(days=after), f"open+{after}")
    for before in rule.days_before_close:
        days.setdefault(window_close - datetime.timedelta(days=before), f"close-{before}")
    if rule.last_day:
        days.setdefault(window_close, "last_day")
    return {day: step for day, step in sorted(days.items()) if window_open <= day <= window_close}


def step_due(
    rule: ReminderRule, window_open: datetime.date, window_close: datetime.date, today: datetime.date
) -> tuple[datetime.date, str] | None:
    """The latest reminder day on or before today, with its step: a sweep that missed days catches up with
    one message, never a burst of them."""
    due = [
        (day, step) for day, step in reminder_days(rule, window_open, window_close).items() if day <= today
    ]
    return due[-1] if due else None


def quiet_hours_end(
    moment: datetime.datetime, *, start: datetime.time, end: datetime.time
) -> datetime.datetime | None:
    """When the quiet hours around `moment` (an aware time at the site's zone) end, or None outside them.

    Quiet hours may span midnight (21:00-08:00). The end is the wall-clock time `end` at the site, so on a
    day when the clocks change it is still 08:00 local.
    """
    local = moment.timetz()
    clock = datetime.time(local.hour, local.minute, local.second, local.microsecond)
    spans_midnight = start > end
    quiet = (clock >= start or clock < end) if spans_midnight else (start <= clock < end)
    if not quiet:
        return None
    day = moment.date() if clock < end else moment.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, end, tzinfo=moment.tzinfo)


def reminder_obstacle(
    *,
    participant_status: str,
    visit_state: str,
    today: datetime.date,
    window_close: datetime.date,
    submitted: bool,
    channel: str,
    opted_out: bool,
    address: str,
) -> Note | None:
    """Why a reminder must not go, or None: the one rule, applied by the sweep when it plans a reminder and
    by the dispatcher again just before it sends one (the facts read afresh then, while it holds the
    message's row lock; the rows the facts come from are not locked)."""
    if participant_status != ParticipantStatus.ENROLLED:
        return Note("participant_status", {"status": participant_status})
    if visit_state != VisitState.PENDING:
        return Note("visit_state", {"state": visit_state})
    if today > window_close:
        return Note("window_closed")
    if submitted:
        return Note("submitted")
    if opted_out:
        return Note("opted_out", {"channel": channel})
    if not (address or "").strip():  # as trial.selectors.contact_channels_open: blank is no address
        return Note("no_contact", {"channel": channel})
    return None
