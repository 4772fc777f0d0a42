"""Questionnaire test data: visits made directly (the schedule has its own tests), answers with known sums.

Fixtures are imported by the test modules that use them (no conftest here: other follow-up tests have theirs).
"""

import datetime

import pytest

from followup.models import Visit
from followup.services.questionnaires import questionnaire_save

SCHEDULE = (
    # code, sequence, day after enrollment, questionnaires: codes that are not "BL" on purpose, so the
    # baseline is found by the schedule's order, not by a name.
    ("V0", 1, 0, ["odi", "vas"]),
    ("V1", 2, 30, ["vas"]),
    ("V3", 3, 91, ["odi", "vas"]),
    ("V12", 5, 365, ["odi", "vas"]),
)


def make_visit(participant, code, sequence, *, day=0, questionnaires=("odi", "vas"), **extra) -> Visit:
    target = participant.enrollment_date + datetime.timedelta(days=day)
    return Visit.objects.create(
        participant=participant,
        code=code,
        label={"en": f"Visit {code}", "zh-hans": f"访视 {code}"},
        sequence=sequence,
        anchor="enrollment",
        day=day,
        target_date=target,
        window_open=target - datetime.timedelta(days=7),
        window_close=target + datetime.timedelta(days=7),
        questionnaires=list(questionnaires),
        **extra,
    )


def odi_answers(total: int, *, missing: int = 0) -> list:
    """Ten ODI items whose answered ones sum to `total`, the last `missing` sections unanswered."""
    answered = 10 - missing
    assert 0 <= total <= 5 * answered
    items = []
    for _ in range(answered):
        value = min(5, total)
        items.append(value)
        total -= value
    return items + [None] * missing


@pytest.fixture
def participant(make_participant):
    """An enrolled participant with only the visits a test makes: the ones enrollment schedules from the
    protocol (its baseline) are removed, so each test states its own schedule."""
    participant = make_participant()
    Visit.objects.filter(participant=participant).delete()
    return participant


@pytest.fixture
def visits(participant) -> dict[str, Visit]:
    return {
        code: make_visit(participant, code, sequence, day=day, questionnaires=q)
        for code, sequence, day, q in SCHEDULE
    }


def save(actor, participant, visit, instrument, answers, **kwargs):
    """questionnaire_save with the usual staff values; any keyword overrides them."""
    values = {
        "source": "interview" if actor else "patient",
        "language": "zh-hans",
        "submit": False,
        "expected_version": None,
    }
    values.update(kwargs)
    return questionnaire_save(
        actor=actor, participant=participant, visit=visit, instrument=instrument, answers=answers, **values
    )


def submit(actor, participant, visit, instrument, answers, **kwargs):
    return save(actor, participant, visit, instrument, answers, submit=True, **kwargs)
