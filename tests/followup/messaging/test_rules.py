"""When reminders fall (followup/messaging/rules.py), worked by hand at every boundary: the window's first
day, N days before its last, the last day, a missed sweep, and quiet hours across midnight and across a
daylight-saving change."""

import datetime
import zoneinfo

import pytest

from followup.messaging.rules import ReminderRule, quiet_hours_end, reminder_days, step_due

RULE = ReminderRule(channels=("sms",), days_after_open=(0,), days_before_close=(7,), last_day=True, texts={})
OPEN, CLOSE = datetime.date(2027, 1, 1), datetime.date(2027, 1, 31)  # M12's 30-day window either side
D = datetime.date


def test_the_default_rule_reminds_on_opening_seven_days_before_closing_and_on_the_last_day():
    assert reminder_days(RULE, OPEN, CLOSE) == {
        D(2027, 1, 1): "open+0",
        D(2027, 1, 24): "close-7",
        D(2027, 1, 31): "last_day",
    }


def test_days_outside_a_short_window_are_left_out_and_a_shared_day_is_one_reminder():
    # A 5-day window: 7 days before closing falls before it opens; opening + 0 and the last day stay.
    assert reminder_days(RULE, D(2027, 3, 1), D(2027, 3, 5)) == {
        D(2027, 3, 1): "open+0",
        D(2027, 3, 5): "last_day",
    }
    # A one-day window: opening and last day are the same day: one reminder.
    assert reminder_days(RULE, D(2027, 3, 1), D(2027, 3, 1)) == {D(2027, 3, 1): "open+0"}


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2026, 12, 31), None),  # the day before the window opens
        (D(2027, 1, 1), (D(2027, 1, 1), "open+0")),
        (D(2027, 1, 23), (D(2027, 1, 1), "open+0")),  # between reminders: still the opening's (planned once)
        (D(2027, 1, 24), (D(2027, 1, 24), "close-7")),
        (D(2027, 1, 30), (D(2027, 1, 24), "close-7")),
        (D(2027, 1, 31), (D(2027, 1, 31), "last_day")),
    ],
)
def test_the_step_due_is_the_latest_on_or_before_today(today, expected):
    assert step_due(RULE, OPEN, CLOSE, today) == expected


def test_a_sweep_that_missed_days_catches_up_with_one_reminder():
    # Down from the 1st to the 25th: one reminder (close-7), not the opening's and close-7's together.
    assert step_due(RULE, OPEN, CLOSE, D(2027, 1, 25)) == (D(2027, 1, 24), "close-7")


SHANGHAI, NEW_YORK = zoneinfo.ZoneInfo("Asia/Shanghai"), zoneinfo.ZoneInfo("America/New_York")
QUIET = {"start": datetime.time(21), "end": datetime.time(8)}


@pytest.mark.parametrize(
    ("local", "held_until"),
    [
        ("2027-01-10 20:59:59", None),
        ("2027-01-10 21:00:00", "2027-01-11 08:00:00"),  # quiet from 21:00 sharp
        ("2027-01-10 23:30:00", "2027-01-11 08:00:00"),
        ("2027-01-11 00:00:00", "2027-01-11 08:00:00"),  # after midnight: the same morning
        ("2027-01-11 07:59:59", "2027-01-11 08:00:00"),
        ("2027-01-11 08:00:00", None),  # sent from 08:00 sharp
    ],
)
def test_quiet_hours_across_midnight_at_the_site(local, held_until):
    moment = datetime.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)
    expected = (
        None if held_until is None else datetime.datetime.fromisoformat(held_until).replace(tzinfo=SHANGHAI)
    )
    assert quiet_hours_end(moment, **QUIET) == expected


def test_quiet_hours_end_at_eight_on_the_wall_clock_on_the_night_the_clocks_change():
    # New York springs forward on 2027-03-14 at 02:00: that night is an hour shorter, and the hold still
    # ends at 08:00 local, which is 12:00 UTC (EDT, UTC-4), not 13:00 (EST).
    moment = datetime.datetime(2027, 3, 13, 22, 0, tzinfo=NEW_YORK)
    end = quiet_hours_end(moment, **QUIET)
    assert end.astimezone(datetime.UTC) == datetime.datetime(2027, 3, 14, 12, 0, tzinfo=datetime.UTC)
    # And in autumn (2027-11-07, back to EST) the hold ends at 13:00 UTC.
    autumn = quiet_hours_end(datetime.datetime(2027, 11, 6, 23, 0, tzinfo=NEW_YORK), **QUIET)
    assert autumn.astimezone(datetime.UTC) == datetime.datetime(2027, 11, 7, 13, 0, tzinfo=datetime.UTC)
