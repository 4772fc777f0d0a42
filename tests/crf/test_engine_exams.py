"""The exam rules of the engine (crf/engine/exams.py) at their boundaries, pure: no database. Hand-worked
dates: an M12 window of 2026-05-11 to 2026-07-10 (target 2026-06-10, 30 days either side, both ends included);
an unscheduled visit on 2026-06-01 whose exam may be 14 days either side (2026-05-18 to 2026-06-15)."""

import datetime

import pytest

from crf.engine.exams import clean_exam, exam_rule_fails
from crf.engine.validate import CheckContext
from trial.eligibility import ExamFact

D = datetime.date
M12 = {"visit_kind": "scheduled", "visit_window": (D(2026, 5, 11), D(2026, 7, 10))}
U1 = {"visit_kind": "unscheduled", "visit_window": (D(2026, 6, 1), D(2026, 6, 1))}


def context(visit: dict | None = None, day: datetime.date | None = None) -> CheckContext:
    exams = {7: ExamFact("MR", day)} if day else {}
    return CheckContext(today=D(2026, 10, 1), exams=exams, **(visit or {}))


@pytest.mark.parametrize(
    ("visit", "value", "at", "broken"),
    [
        (M12, None, "scheduled", True),  # a scheduled visit with no exam: scan missing
        (M12, 7, "scheduled", False),
        (U1, None, "scheduled", False),  # an unscheduled visit asks for none...
        (U1, None, "any", True),  # ...unless the form says any visit
        (None, None, "any", None),  # a participant-level form: no visit, not judged
    ],
)
def test_exam_linked(visit, value, at, broken):
    assert exam_rule_fails("exam_linked", at, value, {}, context(visit, D(2026, 6, 1))) is broken


@pytest.mark.parametrize(
    ("visit", "day", "broken"),
    [
        (M12, D(2026, 5, 10), True),
        (M12, D(2026, 5, 11), False),  # the window's first day
        (M12, D(2026, 7, 10), False),  # its last day
        (M12, D(2026, 7, 11), True),
        (U1, D(2026, 5, 17), True),
        (U1, D(2026, 5, 18), False),  # 14 days before the visit
        (U1, D(2026, 6, 15), False),  # 14 days after
        (U1, D(2026, 6, 16), True),
    ],
)
def test_exam_in_window(visit, day, broken):
    rule = {"unscheduled_days": 14}
    assert exam_rule_fails("exam_in_window", rule, 7, {}, context(visit, day)) is broken


def test_exam_in_window_is_not_judged_without_an_exam_or_a_visit():
    rule = {"unscheduled_days": 0}
    assert exam_rule_fails("exam_in_window", rule, None, {}, context(M12, D(2026, 6, 1))) is None
    assert (
        exam_rule_fails("exam_in_window", rule, 8, {}, context(M12, D(2026, 6, 1))) is None
    )  # not linked here
    assert exam_rule_fails("exam_in_window", rule, 7, {}, context(None, D(2026, 6, 1))) is None
    # Margin 0: an unscheduled visit's exam is on its day.
    assert exam_rule_fails("exam_in_window", rule, 7, {}, context(U1, D(2026, 6, 2))) is True


def test_exam_date_of():
    linked = context(M12, D(2026, 6, 1))
    assert exam_rule_fails("exam_date_of", "exam", "2026-06-01", {"exam": 7}, linked) is False
    assert exam_rule_fails("exam_date_of", "exam", "2026-06-02", {"exam": 7}, linked) is True
    assert exam_rule_fails("exam_date_of", "exam", "2026-06-02", {}, linked) is None  # no exam linked
    assert exam_rule_fails("exam_date_of", "exam", None, {"exam": 7}, linked) is None


@pytest.mark.parametrize(("value", "stored"), [(7, 7), ("7", 7), (" 12 ", 12)])
def test_an_exam_is_stored_as_its_id(value, stored):
    assert clean_exam(value) == stored


@pytest.mark.parametrize("value", [0, -1, "x", "1.2.840.1", True, 1.5, {"study_uid": "1.2"}, "9" * 19])
def test_anything_else_is_refused(value):
    with pytest.raises(ValueError, match="Pick one of the participant's imaging exams"):
        clean_exam(value)
