"""The primary endpoint of one participant, as a pure function of dated facts (no database here): a new
non-operated vertebral fracture confirmed by adjudication within the horizon after the index procedure, or
when and why the participant is censored.

The rules (reports, exports and the risk model read this one function through the endpoint service):
- **The event** is the first adjudicated fracture dated after the index date and at most `horizon_days` after
  it. Its days are counted from the index date; its levels and location are those of that date's fractures
  (adjacent when any of them is adjacent to a treated level). An event dated after a withdrawal, a loss to
  follow-up or death is not counted: the participant was no longer followed then.
- **Without an event**, the participant is censored:
  - died within the horizon: `died` at the date of death, a competing event (Aalen-Johansen, not a censoring
    that Kaplan-Meier may treat as uninformative);
  - withdrawn or lost within the horizon: `withdrawn` or `lost` at the last event-free assessment (the last
    MRI or visit known to show no new fracture), or the index date when there was none;
  - followed to the end of the horizon (the data cut is past it): `end_of_follow_up` at the horizon's end;
  - still followed at the data cut, before the horizon's end: `in_follow_up` at the last event-free
    assessment (an interim analysis must not count time it has not observed).
- **As known at the data cut**: a withdrawal, loss or death dated after the cut had not happened then; the
  participant was still followed at the cut.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

ADJACENT, REMOTE = "adjacent", "remote"
FOLLOWED, WITHDRAWN, LOST, DIED = "enrolled", "withdrawn", "lost_to_follow_up", "died"
CENSOR_REASONS = ("withdrawn", "lost", "died", "end_of_follow_up", "in_follow_up")
_CENSORED_AS = {WITHDRAWN: "withdrawn", LOST: "lost"}


@dataclass(frozen=True)
class Fracture:
    """One adjudicated new non-operated fracture: its event date, level and location."""

    date: datetime.date
    level: str
    location: str  # adjacent or remote


@dataclass(frozen=True)
class Endpoint:
    event: bool
    date: datetime.date  # the event's date, or the censoring date
    days: int  # from the index date
    levels: tuple[str, ...] = ()  # the event's levels
    location: str | None = None  # the event's: adjacent or remote
    censor_reason: str | None = None  # one of CENSOR_REASONS when there is no event


def endpoint_derive(
    *,
    index_date: datetime.date,
    horizon_days: int,
    data_cut: datetime.date,
    fractures: Iterable[Fracture],
    status: str,
    status_date: datetime.date | None,
    last_assessed: datetime.date | None,
) -> Endpoint:
    """The participant's endpoint at `data_cut` (see the module's rules). `status` and `status_date`: the
    participant's follow-up status (trial's ParticipantStatus values) and since when; `last_assessed`: the
    last event-free assessment."""
    if status != FOLLOWED and status_date is None:  # left, date unknown: at the last known assessment
        status_date = last_assessed or index_date
    if status != FOLLOWED and status_date > data_cut:  # left after the cut: still followed at the cut
        status, status_date = FOLLOWED, None
    horizon_end = index_date + datetime.timedelta(days=horizon_days)
    followed_until = min(horizon_end, data_cut)
    if status != FOLLOWED:
        followed_until = min(followed_until, status_date)
    counted = [f for f in fractures if index_date < f.date <= followed_until]
    if counted:
        first = min(f.date for f in counted)
        on_that_day = [f for f in counted if f.date == first]
        return Endpoint(
            event=True,
            date=first,
            days=(first - index_date).days,
            levels=tuple(sorted({f.level for f in on_that_day})),
            location=ADJACENT if any(f.location == ADJACENT for f in on_that_day) else REMOTE,
        )
    left = status != FOLLOWED and status_date <= horizon_end
    if left and status == DIED:
        return _censored(index_date, status_date, "died")
    if left:
        return _censored(
            index_date, _last_before(last_assessed, status_date, index_date), _CENSORED_AS[status]
        )
    if data_cut >= horizon_end:
        return _censored(index_date, horizon_end, "end_of_follow_up")
    return _censored(index_date, _last_before(last_assessed, data_cut, index_date), "in_follow_up")


def _last_before(
    last_assessed: datetime.date | None, limit: datetime.date, index_date: datetime.date
) -> datetime.date:
    """The last event-free assessment up to `limit`, or the index date when there was none."""
    if last_assessed is None or last_assessed < index_date:
        return index_date
    return min(last_assessed, limit)


def _censored(index_date: datetime.date, date: datetime.date, reason: str) -> Endpoint:
    return Endpoint(event=False, date=date, days=(date - index_date).days, censor_reason=reason)
