"""The primary endpoint per participant, against hand-worked dates: index procedure 2026-01-08, a one-year
horizon ending 2027-01-08 (365 days). Days counted by hand: to 2026-02-08 31, to 2026-05-01 113 (23 + 28 +
31 + 30 + 1), to 2026-07-01 174 (+ 31 + 30), to 2026-07-08 181, to 2026-09-30 265 (174 + 31 + 31 + 29)."""

import datetime

import pytest

from followup.endpoint import Endpoint, Fracture, endpoint_derive

INDEX = datetime.date(2026, 1, 8)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def derive(*fractures, status="enrolled", status_date=None, last_assessed=None, data_cut="2027-03-01"):
    return endpoint_derive(
        index_date=INDEX,
        horizon_days=365,
        data_cut=day(data_cut),
        fractures=[Fracture(day(date), level, location) for date, level, location in fractures],
        status=status,
        status_date=day(status_date) if status_date else None,
        last_assessed=day(last_assessed) if last_assessed else None,
    )


def test_the_first_adjudicated_fracture_is_the_event_with_its_days_and_location():
    assert derive(("2026-11-01", "T10", "remote"), ("2026-07-01", "L2", "adjacent")) == Endpoint(
        event=True, date=day("2026-07-01"), days=174, levels=("L2",), location="adjacent"
    )


def test_two_levels_on_the_event_date_are_one_event_adjacent_if_either_is():
    result = derive(("2026-07-01", "L4", "remote"), ("2026-07-01", "L2", "adjacent"))
    assert (result.levels, result.location, result.days) == (("L2", "L4"), "adjacent", 174)


@pytest.mark.parametrize(
    ("fracture_on", "expected"),
    [
        (
            "2027-01-08",
            Endpoint(event=True, date=day("2027-01-08"), days=365, levels=("L1",), location="remote"),
        ),
        (
            "2027-01-09",
            Endpoint(event=False, date=day("2027-01-08"), days=365, censor_reason="end_of_follow_up"),
        ),
        (
            "2026-01-08",
            Endpoint(event=False, date=day("2027-01-08"), days=365, censor_reason="end_of_follow_up"),
        ),
    ],
)
def test_the_horizon_counts_its_last_day_and_not_the_index_day(fracture_on, expected):
    assert derive((fracture_on, "L1", "remote")) == expected


def test_death_without_an_event_is_a_competing_event_at_its_date():
    assert derive(status="died", status_date="2026-09-30", last_assessed="2026-07-08") == Endpoint(
        event=False, date=day("2026-09-30"), days=265, censor_reason="died"
    )


def test_a_fracture_before_death_is_the_event():
    result = derive(("2026-05-01", "L1", "adjacent"), status="died", status_date="2026-09-30")
    assert (result.event, result.days, result.censor_reason) == (True, 113, None)


def test_a_withdrawal_is_censored_at_the_last_event_free_assessment_and_later_fractures_do_not_count():
    expected = Endpoint(event=False, date=day("2026-02-08"), days=31, censor_reason="withdrawn")
    assert derive(status="withdrawn", status_date="2026-06-15", last_assessed="2026-02-08") == expected
    after = derive(
        ("2026-08-01", "L1", "remote"),
        status="withdrawn",
        status_date="2026-06-15",
        last_assessed="2026-02-08",
    )
    assert after == expected


def test_lost_with_no_assessment_is_censored_at_the_index_date():
    assert derive(status="lost_to_follow_up", status_date="2026-03-01") == Endpoint(
        event=False, date=INDEX, days=0, censor_reason="lost"
    )


def test_a_participant_still_followed_at_an_interim_cut_is_censored_at_the_last_assessment():
    assert derive(last_assessed="2026-07-08", data_cut="2026-10-01") == Endpoint(
        event=False, date=day("2026-07-08"), days=181, censor_reason="in_follow_up"
    )
    # A fracture after the data cut is not known at that cut.
    assert not derive(("2026-10-02", "L1", "remote"), last_assessed="2026-07-08", data_cut="2026-10-01").event


def test_leaving_after_the_horizon_is_the_end_of_follow_up():
    result = derive(status="withdrawn", status_date="2027-02-01", last_assessed="2027-01-05")
    assert (result.censor_reason, result.date, result.days) == ("end_of_follow_up", day("2027-01-08"), 365)


@pytest.mark.parametrize("status", ["withdrawn", "lost_to_follow_up", "died"])
def test_leaving_after_the_data_cut_is_still_in_follow_up_at_the_cut(status):
    # An export at an interim cut of 2026-10-01 reads today's status: a death or withdrawal dated after the
    # cut had not happened at the cut, so the participant was followed then (censored at the last assessment).
    assert derive(
        status=status, status_date="2026-11-01", last_assessed="2026-07-08", data_cut="2026-10-01"
    ) == Endpoint(event=False, date=day("2026-07-08"), days=181, censor_reason="in_follow_up")
